################################################################################
#
# python-llama-cpp-python
#
################################################################################

# Version and sdist sha256: mkimage/pins.toml [llama_cpp_python]
# (tests/buildroot checks that they agree).
PYTHON_LLAMA_CPP_PYTHON_VERSION = 0.3.36
PYTHON_LLAMA_CPP_PYTHON_SOURCE = llama_cpp_python-$(PYTHON_LLAMA_CPP_PYTHON_VERSION).tar.gz
PYTHON_LLAMA_CPP_PYTHON_SITE = https://files.pythonhosted.org/packages/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3
PYTHON_LLAMA_CPP_PYTHON_SETUP_TYPE = pep517
PYTHON_LLAMA_CPP_PYTHON_LICENSE = MIT
PYTHON_LLAMA_CPP_PYTHON_LICENSE_FILES = LICENSE.md
# scikit-build-core drives CMake; with cmake and ninja on the PATH it asks for
# no further build requirements (python -m build -n checks them).
PYTHON_LLAMA_CPP_PYTHON_DEPENDENCIES = \
	host-cmake \
	host-ninja \
	host-python-scikit-build-core

ifeq ($(BR2_x86_64),y)
PYTHON_LLAMA_CPP_PYTHON_PINS_ARCH = x86_64
else ifeq ($(BR2_aarch64),y)
PYTHON_LLAMA_CPP_PYTHON_PINS_ARCH = aarch64
endif

# The CMake arguments are read from mkimage/pins.toml at build time (the
# offline build passes the same list in CMAKE_ARGS: mkimage/wheel.py), plus
# Buildroot's cross-compilation toolchain file.
define PYTHON_LLAMA_CPP_PYTHON_WRITE_CMAKE_ARGS
	args="$$($(HOST_DIR)/bin/python3 $(BR2_EXTERNAL_LLMOS_PATH)/support/offline.py \
		cmake-args $(PYTHON_LLAMA_CPP_PYTHON_PINS_ARCH))" && test -n "$$args" && \
	echo "$$args -DCMAKE_TOOLCHAIN_FILE=$(HOST_DIR)/share/buildroot/toolchainfile.cmake" \
		> $(@D)/.llmos-cmake-args
endef
PYTHON_LLAMA_CPP_PYTHON_PRE_BUILD_HOOKS += PYTHON_LLAMA_CPP_PYTHON_WRITE_CMAKE_ARGS

PYTHON_LLAMA_CPP_PYTHON_ENV = \
	CMAKE_ARGS="$$(cat $(@D)/.llmos-cmake-args)" \
	CMAKE_BUILD_PARALLEL_LEVEL=$(PARALLEL_JOBS)

# x86_64: the portable (SSE-only) ggml CPU backend beside the wheel's AVX2 one, as the
# offline build ships it (mkimage/ggml_portable.py): built from the sdist's vendored
# llama.cpp with the arguments offline.py derives from the same definitions; the planner
# preloads it on a CPU without AVX2/FMA/F16C (llmos_init/planner/cpuvariant.py).
ifeq ($(BR2_x86_64),y)
PYTHON_LLAMA_CPP_PYTHON_PORTABLE_DIR = $(TARGET_DIR)/usr/lib/llmos/ggml-portable
define PYTHON_LLAMA_CPP_PYTHON_GGML_PORTABLE
	args="$$($(HOST_DIR)/bin/python3 $(BR2_EXTERNAL_LLMOS_PATH)/support/offline.py \
		ggml-portable-args)" && test -n "$$args" && \
	$(BR2_CMAKE) -S $(@D)/vendor/llama.cpp -B $(@D)/build-ggml-portable $$args \
		-DCMAKE_TOOLCHAIN_FILE=$(HOST_DIR)/share/buildroot/toolchainfile.cmake && \
	$(BR2_CMAKE) --build $(@D)/build-ggml-portable --target ggml-cpu -j$(PARALLEL_JOBS) && \
	lib="$$(find $(@D)/build-ggml-portable -name libggml-cpu.so.0 | head -n 1)" && \
	test -n "$$lib" && \
	$(INSTALL) -D -m 0755 "$$(readlink -f "$$lib")" \
		$(PYTHON_LLAMA_CPP_PYTHON_PORTABLE_DIR)/libggml-cpu.so.0 && \
	ln -sf ../../python$(PYTHON3_VERSION_MAJOR)/site-packages/llama_cpp/lib/libggml-base.so.0 \
		$(PYTHON_LLAMA_CPP_PYTHON_PORTABLE_DIR)/libggml-base.so.0
endef
PYTHON_LLAMA_CPP_PYTHON_POST_INSTALL_TARGET_HOOKS += PYTHON_LLAMA_CPP_PYTHON_GGML_PORTABLE
endif

$(eval $(python-package))
