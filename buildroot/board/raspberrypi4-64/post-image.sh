#!/usr/bin/env bash
# Post-image script of llmos_raspberrypi4_64_defconfig: BINARIES_DIR/sdcard.img,
# the offline card's two-slot layout (mkimage/sdcard.py): p1 autoboot.txt, p2/p3
# the slots' boot partitions (slot A: the firmware, the DTBs, the kernel,
# config.txt, cmdline_a/b.txt; slot B empty), p5 the boot state, p6/p7 the root
# slots (A: rootfs.squashfs), p8 model.squashfs, p9 data.ext4. offline.py sdcard
# writes llmos's own files and genimage's config with the offline card's
# partitions, sector for sector; genimage makes the card.
set -euo pipefail
BINARIES_DIR="${1:?usage: post-image.sh BINARIES_DIR}"
export BINARIES_DIR
board_dir="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=SCRIPTDIR/../common/images.sh
. "${board_dir}/../common/images.sh"

# the release and the update key's public half, as the offline root has them
"${LLMOS_OFFLINE[@]}" release-files rpi4 "${TARGET_DIR:?TARGET_DIR is not set (run from Buildroot)}"
remake_rootfs
make_data_image
empty_root="$(mktemp -d)"
trap 'rm -rf "${empty_root}"' EXIT
cfg="$("${LLMOS_OFFLINE[@]}" sdcard "${BINARIES_DIR}")"
run_genimage "${cfg}" "${empty_root}"
echo "llmos: write ${BINARIES_DIR}/sdcard.img to an SD card (see buildroot/README.md)"
