# llmos: build, boot and test.  `make run` and `make test` are all a fresh machine needs.
#
#   make / make image   build images/$(TARGET)/ (kernel, root, model, data, run-qemu.sh)
#   make run            build what is missing, then boot it in QEMU (serial console here)
#   make test           host tests + QEMU integration tests (builds the image first)
#   make deps           host tools (apt-get, only what is missing) + the Python venv
#   make eval           score the planner on tests/eval (accuracy, unsafe plans, latency)
#   make bench          benchmarks (not tests): boot, inference, latency, footprint
#   make clean          remove images/ (the data image included: asks first)
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

.PHONY: all image run test deps host-deps venv eval bench clean rpi4 flash

all: image

image: deps
	$(PY) -m mkimage image --target $(TARGET) $(if $(MODEL),--model $(MODEL))

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
	rm -f $(VENV)/.llmos-* && touch $@

eval: deps
	$(PY) tests/eval/score.py $(EVAL_ARGS)

bench: image
	$(PY) -m bench $(BENCH_ARGS)

clean:
	@if [ -e images/$(TARGET)/data.ext4 ]; then \
	  read -p "remove images/ including the data image with your files? [y/N] " a; \
	  [ "$$a" = y ] || exit 1; fi
	rm -rf images
