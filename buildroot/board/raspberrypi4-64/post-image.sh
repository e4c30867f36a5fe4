#!/usr/bin/env bash
# Post-image script of llmos_raspberrypi4_64_defconfig: BINARIES_DIR/sdcard.img
# (boot FAT with the firmware, config.txt, cmdline.txt, the DTB and the kernel;
# rootfs.squashfs; model.squashfs; data.ext4), described by genimage.cfg.
set -euo pipefail
BINARIES_DIR="${1:?usage: post-image.sh BINARIES_DIR}"
export BINARIES_DIR
board_dir="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=SCRIPTDIR/../common/images.sh
. "${board_dir}/../common/images.sh"

remake_rootfs
make_data_image
empty_root="$(mktemp -d)"
trap 'rm -rf "${empty_root}"' EXIT
run_genimage "${board_dir}/genimage.cfg" "${empty_root}"
echo "llmos: write ${BINARIES_DIR}/sdcard.img to an SD card (see buildroot/README.md)"
