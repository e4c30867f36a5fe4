################################################################################
#
# llmos BR2_EXTERNAL tree
#
################################################################################

include $(sort $(wildcard $(BR2_EXTERNAL_LLMOS_PATH)/package/*/*.mk))

# The kernel configuration starts from `make tinyconfig`, exactly like the
# offline build (mkimage/kernel.py: tinyconfig, merge_config.sh -m with the
# fragments of kernel-config/, olddefconfig).
#
# Buildroot's kconfig infrastructure runs `make $(LINUX_KCONFIG_DEFCONFIG)`,
# then support/kconfig/merge_config.sh -m with
# BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES, then olddefconfig
# (package/pkg-kconfig.mk, kconfig-package-merge-config). Its menu only offers
# "<name>_defconfig", the architecture's `defconfig`, or a custom file, and the
# kernel has no tiny_defconfig. So with BR2_LINUX_KERNEL_USE_ARCH_DEFAULT_CONFIG
# (LINUX_KCONFIG_DEFCONFIG = defconfig in linux/linux.mk) this option replaces
# the make target by `tinyconfig`. external.mk is included after linux/linux.mk
# and the variable is only expanded in recipes, so the override takes effect.
ifeq ($(BR2_LLMOS_LINUX_TINYCONFIG),y)
LINUX_KCONFIG_DEFCONFIG = tinyconfig
endif
