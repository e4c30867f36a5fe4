# llmos: build, boot and test.  `make run` and `make test` are all a fresh machine needs.
#
#   make / make image   build images/$(TARGET)/ (kernel, root, model, data, run-qemu.sh)
#   make run            build what is missing, then boot it in QEMU (serial console here)
#   make test           host tests + QEMU integration tests (builds the image first)
#   make deps           host tools (apt-get, only what is missing) + the Python venv
#   make eval           score the planner on tests/eval, parser-only beside the trained model
#                       (held-out, dev and adversarial sets -> tests/eval/RESULTS.md)
#   make bench          benchmarks (not tests): boot, inference, latency, footprint
#   make corpus         generate the training corpus mkimage/train/data/{train,val}.clean.jsonl
#                       (seeded: templates x slot values x noise -> canonical commands,
#                       less any pair holding a request or phrase of the man-page held-out set)
#   make train          LoRA fine-tune of the model to write canonical commands (CPU, its own
#                       venv .venv-train; CORPUS=train.jsonl VAL=val.jsonl, RUN=name,
#                       RECIPE=mkimage/train/recipe-gemma3.toml for Gemma-3-270M; the
#                       default corpus is generated when missing; given files that do not
#                       exist, it trains on a stand-in made from tests/eval) and ships the
#                       adapter to llmos_init/planner/adapters/ (mkimage/train/ship.py). Not in test.
#   make clean          remove images/ (the data image included: asks first)
#   make serve          llama.cpp's llama-server (and rpc-server), built from the vendored
#                       sources like llama-bench, serving MODEL= (default: the image's model
#                       with its planner adapter) on 127.0.0.1:8080 (PORT=, BIND=); a QEMU
#                       guest reaches it with APPEND="llmos.llm=http://10.0.2.2:8080"
#   make rpc-worker     llama.cpp's rpc-server from the same build, a worker of its RPC backend
#                       on 127.0.0.1:50052 (PORT=, BIND=): a guest booted with
#                       APPEND="llmos.rpc=10.0.2.2:50052" loads its model's layers onto it
#   make update VERSION=1.2   images/$(TARGET)/llmos-1.2.bundle: kernel (TARGET=rpi4: a slot's
#                       FAT boot partition) + root (saying VERSION) + manifest, signed with
#                       the update key (made on first use
#                       outside the repo: ~/.config/llmos/update-key; LLMOS_UPDATE_KEY=);
#                       "install the update /data/llmos-1.2.bundle" on the console installs it
#   make rpi4           images/rpi4/sdcard.img for the Raspberry Pi 4 (builds aarch64-virt)
#   make flash DEVICE=/dev/sdX   write images/rpi4/sdcard.img to a removable disk
#                       (checks it is removable and unmounted, asks, verifies)
#
# Targets (TARGET=, one row each in mkimage/targets.py): x86_64 (default), aarch64-virt
# (QEMU -M virt, Cortex-A72; cross-built on x86_64 hosts), rpi4 (SD card from aarch64-virt).
# `make test TARGET=aarch64-virt` boots the aarch64 image in the QEMU tests (LLMOS_TARGET).
# Variables: TARGET=x86_64, MODEL=/path/to/model.gguf, ACCEL=tcg|kvm (run),
# LLMOS_CACHE=~/.cache/llmos (heavy build steps), PYTEST_ARGS=..., LLMOS_TIMEOUT_MULT=1

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
TARGET ?= x86_64
MODEL ?=
PY := $(VENV)/bin/python
# the target whose llama-cpp-python wheel also runs on this host (for the venv)
HOST_TARGET := $(if $(filter aarch64,$(shell uname -m)),aarch64-virt,x86_64)
VENV_STAMP := $(VENV)/.llmos-$(shell cat ci/requirements.txt mkimage/pins.toml | sha256sum | cut -c1-12)

.PHONY: all image update run test deps host-deps venv eval bench serve rpc-worker corpus train train-venv clean rpi4 flash

all: image

image: deps
	$(PY) -m mkimage image --target $(TARGET) $(if $(MODEL),--model $(MODEL)) $(if $(VERSION),--version $(VERSION))

update: deps
	@[ -n "$(VERSION)" ] || { echo "usage: make update VERSION=1.2 [TARGET=x86_64]" >&2; exit 2; }
	$(PY) -m mkimage.bundle --target $(TARGET) --version $(VERSION)

run: image
	images/$(TARGET)/run-qemu.sh

test: image
	LLMOS_TARGET=$(TARGET) $(PY) -m pytest tests $(PYTEST_ARGS)

rpi4:
	$(MAKE) image TARGET=rpi4

flash:
	@[ -n "$(DEVICE)" ] || { echo "usage: make flash DEVICE=/dev/sdX (the whole SD card)" >&2; exit 2; }
	@[ -e images/rpi4/sdcard.img ] || $(MAKE) rpi4
	$(PY) -m mkimage.flash --device $(DEVICE) images/rpi4/sdcard.img

deps: host-deps venv

host-deps:
	@ci/host-deps.sh $(TARGET)

venv: $(VENV_STAMP)

$(VENV_STAMP): ci/requirements.txt mkimage/pins.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "llmos needs Python 3.11 on the host (the image runs 3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r ci/requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check "$$($(PY) -m mkimage wheel --target $(HOST_TARGET))"
	# the same version built with other flags (pins.toml) is another wheel: pip would keep the old
	$(PY) -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$$($(PY) -m mkimage wheel --target $(HOST_TARGET))"
	rm -f $(VENV)/.llmos-* && touch $@

eval: deps
	$(PY) tests/eval/report.py $(EVAL_ARGS)

bench: image
	$(PY) -m bench $(BENCH_ARGS)

serve: deps
	$(PY) -m bench.llamaserver $(if $(MODEL),--model $(MODEL)) $(if $(PORT),--port $(PORT)) $(if $(BIND),--host $(BIND))

rpc-worker: deps
	$(PY) -m bench.llamaserver --rpc-worker $(if $(PORT),--port $(PORT)) $(if $(BIND),--host $(BIND))

# ---- training (mkimage/train/): never part of `make test` ----
TRAIN_VENV ?= .venv-train
TRAIN_PY := $(TRAIN_VENV)/bin/python
TRAIN_STAMP := $(TRAIN_VENV)/.llmos-train-$(shell cat mkimage/train/requirements.txt | sha256sum | cut -c1-12)
CORPUS_DIR := mkimage/train/data
CORPUS_SEED ?= 20261201
CORPUS ?= $(CORPUS_DIR)/train.clean.jsonl
VAL ?= $(CORPUS_DIR)/val.clean.jsonl
# the recipe (hyper-parameters and base model); recipe-gemma3.toml trains Gemma-3-270M
RECIPE ?= mkimage/train/recipe.toml
# the run (mkimage/train/log/$(RUN).*, shipped to llmos_init/planner/adapters/): by default
# the recipe's own (recipe.toml: corpus-v6, the shipped adapter), so another recipe never
# overwrites that run's log
RUN ?= $(shell $(PYTHON) -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb")).get("run", ""))' $(RECIPE))
TRAIN_ARGS ?=
TRAIN_NICE ?= nice -n 10
# pip options for torch alone, e.g. TORCH_PIP="--index-url URL-of-a-CPU-wheel-index" where no
# local CPU wheel is configured: the venv refuses a CUDA build
TORCH_PIP ?=

# generated, then every pair whose request is a request of the frozen man-page held-out set
# (exclude.py) or contains one of its phrases (decontaminate.py) dropped: the generator itself
# never reads that set
corpus: venv
	$(PY) -m mkimage.train.corpus --seed $(CORPUS_SEED) --out $(CORPUS_DIR) $(CORPUS_ARGS)
	for s in train val; do $(PY) -m mkimage.train.exclude $(CORPUS_DIR)/$$s.jsonl $(CORPUS_DIR)/$$s.x.jsonl && \
	  $(PY) -m mkimage.train.decontaminate $(CORPUS_DIR)/$$s.x.jsonl $(CORPUS_DIR)/$$s.clean.jsonl && \
	  rm $(CORPUS_DIR)/$$s.x.jsonl || exit 1; done

train: train-venv
	@if [ "$(CORPUS)" = "$(CORPUS_DIR)/train.clean.jsonl" ] && [ ! -e "$(CORPUS)" -o ! -e "$(CORPUS_DIR)/val.clean.jsonl" ]; then \
	  $(MAKE) --no-print-directory corpus; fi
	@if [ -e "$(CORPUS)" ] && [ -e "$(VAL)" ]; then c="$(CORPUS)"; v="$(VAL)"; run="$(RUN)"; \
	else echo "make train: $(CORPUS) / $(VAL) not found: training on the STAND-IN corpus (tests/eval plans as canonical commands)" >&2; \
	  set -- $$($(TRAIN_PY) -m mkimage.train.standin) && c=$$1 && v=$$2 && run=standin; fi; \
	$(TRAIN_NICE) $(TRAIN_PY) -m mkimage.train.lora --corpus "$$c" --val "$$v" --recipe $(RECIPE) $${run:+--run "$$run"} $(TRAIN_ARGS) && \
	if [ "$$run" != standin ]; then $(PY) -m mkimage.train.ship --run "$$run"; fi

train-venv: $(TRAIN_STAMP)

$(TRAIN_STAMP): mkimage/train/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "make train needs Python 3.11")'
	$(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_PY) -m pip install -q --disable-pip-version-check $(TORCH_PIP) "$$(grep '^torch==' mkimage/train/requirements.txt)"
	$(TRAIN_PY) -m pip install -q --disable-pip-version-check -r mkimage/train/requirements.txt
	$(TRAIN_PY) -c 'import torch, sys; sys.exit("make train: torch %s is a CUDA build; want the CPU one (TORCH_PIP=...)" % torch.__version__ if torch.version.cuda else 0)'
	rm -f $(TRAIN_VENV)/.llmos-train-* && touch $@

clean:
	@if [ -e images/$(TARGET)/data.ext4 ]; then \
	  read -p "remove images/ including the data image with your files? [y/N] " a; \
	  [ "$$a" = y ] || exit 1; fi
	rm -rf images
