################################################################################
#
# llmos-init
#
################################################################################

# Built from this repository, the very files the offline build installs
# (mkimage/rootfs.py install_llmos): llmos_init/ and init/llmos-init.
LLMOS_INIT_SITE = $(BR2_EXTERNAL_LLMOS_PATH)/..
LLMOS_INIT_SITE_METHOD = local
LLMOS_INIT_VERSION = $(shell sed -n 's/^__version__ = "\(.*\)"$$/\1/p' \
	$(LLMOS_INIT_SITE)/llmos_init/__init__.py)
# Copy only the package and /sbin/init, never images/, .venv/ or .git/, nor
# an extension module compiled for the build host.
LLMOS_INIT_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude=__pycache__ \
	--exclude='/llmos_init/sys/_llmos_sys*' \
	--include='/llmos_init/***' \
	--include='/init/***' \
	--exclude='*'
LLMOS_INIT_DEPENDENCIES = host-python3 python3 host-python-cffi python-cffi

LLMOS_INIT_SITE_PACKAGES = \
	$(TARGET_DIR)/usr/lib/python$(PYTHON3_VERSION_MAJOR)/site-packages
LLMOS_INIT_OFFLINE = $(HOST_DIR)/bin/python3 $(BR2_EXTERNAL_LLMOS_PATH)/support/offline.py

# The cffi syscall layer (llmos_init/sys/_llmos_sys<EXT_SUFFIX>), compiled with
# the target compiler against the target's Python headers; EXT_SUFFIX is the
# target interpreter's (read from its sysconfigdata, as the python-package
# infrastructure does).
define LLMOS_INIT_BUILD_CMDS
	suffix="$$(cd $(@D) && $(PKG_PYTHON_ENV) $(HOST_DIR)/bin/python3 -c \
		'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX") or "")')" && \
	test -n "$$suffix" || { echo "llmos-init: no EXT_SUFFIX for the target python3" >&2; exit 1; }; \
	cd $(@D) && $(PKG_PYTHON_ENV) $(HOST_DIR)/bin/python3 -m llmos_init.sys.ffi_build \
		--out $(@D)/llmos_init/sys \
		--cc "$(TARGET_CC)" \
		--ext-suffix "$$suffix" \
		--no-host-python-include \
		--include $(STAGING_DIR)/usr/include/python$(PYTHON3_VERSION_MAJOR) \
		$(foreach f,$(TARGET_CFLAGS) $(TARGET_LDFLAGS),--cflag='$(f)')
endef

# init/llmos-init names the offline image's interpreter (python3.11) on its
# #! line; the target's python3 may be newer, so the line is pointed at it.
define LLMOS_INIT_INSTALL_TARGET_CMDS
	rm -rf $(LLMOS_INIT_SITE_PACKAGES)/llmos_init
	mkdir -p $(LLMOS_INIT_SITE_PACKAGES)
	cp -a $(@D)/llmos_init $(LLMOS_INIT_SITE_PACKAGES)/llmos_init
	sed -e '1s|^#!/usr/bin/python3[.0-9]*|#!/usr/bin/python$(PYTHON3_VERSION_MAJOR)|' \
		$(@D)/init/llmos-init > $(@D)/llmos-init.target
	head -n 1 $(@D)/llmos-init.target | grep -q '^#!/usr/bin/python$(PYTHON3_VERSION_MAJOR) ' || \
		{ echo "llmos-init: unexpected #! line in init/llmos-init" >&2; exit 1; }
	$(INSTALL) -D -m 0755 $(@D)/llmos-init.target $(TARGET_DIR)/sbin/init
	dirs="$$($(LLMOS_INIT_OFFLINE) rootfs-dirs)" && test -n "$$dirs" && \
		for d in $$dirs; do mkdir -p $(TARGET_DIR)/$$d; done
endef

$(eval $(generic-package))
