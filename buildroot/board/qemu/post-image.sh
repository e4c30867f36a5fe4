#!/usr/bin/env bash
# Post-image script of llmos' QEMU defconfigs.
#   post-image.sh BINARIES_DIR MKIMAGE_TARGET   (BR2_ROOTFS_POST_SCRIPT_ARGS)
# MKIMAGE_TARGET names the offline build's target (mkimage/targets.py).
# Leaves next to the kernel and rootfs.squashfs: data.ext4; system.img (the
# offline build's two-slot system disk: slot A = this kernel and rootfs.squashfs)
# and u-boot.rom (Debian's u-boot-qemu, as offline), both made by the offline
# build's code (offline.py system-disk: mkimage/sysdisk.py, uboot.py); and
# start-qemu.sh, the offline build's run-qemu.sh for that target (it boots
# system.img through U-Boot; BOOT=direct boots the kernel and root without it).
set -euo pipefail
BINARIES_DIR="${1:?usage: post-image.sh BINARIES_DIR MKIMAGE_TARGET}"
target="${2:?usage: post-image.sh BINARIES_DIR MKIMAGE_TARGET}"
export BINARIES_DIR
# shellcheck source=SCRIPTDIR/../common/images.sh
. "$(dirname "$0")/../common/images.sh"

for f in rootfs.squashfs model.squashfs; do
	[ -e "${BINARIES_DIR}/${f}" ] || { echo "llmos: ${BINARIES_DIR}/${f} is missing" >&2; exit 1; }
done
# the release and the update key's public half, as the offline root has them
"${LLMOS_OFFLINE[@]}" release-files "${target}" "${TARGET_DIR:?TARGET_DIR is not set (run from Buildroot)}"
remake_rootfs
make_data_image
"${LLMOS_OFFLINE[@]}" system-disk "${target}" "${BINARIES_DIR}"
"${LLMOS_OFFLINE[@]}" start-qemu "${target}" "${BINARIES_DIR}/start-qemu.sh"
echo "llmos: boot it with ${BINARIES_DIR}/start-qemu.sh"
