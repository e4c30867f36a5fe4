#!/usr/bin/env bash
# Installs the host tools the build and the tests need, with apt-get, only when missing.
# Usage: ci/host-deps.sh [TARGET]   (TARGET=x86_64 by default)
set -euo pipefail
target="${1:-x86_64}"

# Debian package -> a file that shows it is installed
declare -A need=(
  [qemu-system-x86]=/usr/bin/qemu-system-x86_64
  [qemu-utils]=/usr/bin/qemu-img
  [squashfs-tools]=/usr/bin/mksquashfs
  [e2fsprogs]=/sbin/mkfs.ext4
  [build-essential]=/usr/bin/g++
  [cmake]=/usr/bin/cmake
  [bc]=/usr/bin/bc
  [bison]=/usr/bin/bison
  [flex]=/usr/bin/flex
  [libelf-dev]=/usr/include/libelf.h
  [libssl-dev]=/usr/include/openssl/ssl.h
  [python3-venv]=/usr/lib/python3.11/ensurepip/__init__.py
  [zstd]=/usr/bin/zstd
  [cpio]=/usr/bin/cpio
  [kmod]=/usr/bin/kmod
  [shellcheck]=/usr/bin/shellcheck
  [rsync]=/usr/bin/rsync
)
# aarch64 images (aarch64-virt, and rpi4 built from it): QEMU for arm, and the cross
# compilers unless this host is arm64 itself.
case "$target" in
  aarch64-virt|rpi4)
    need[qemu-system-arm]=/usr/bin/qemu-system-aarch64
    [ "$(uname -m)" = aarch64 ] || need[crossbuild-essential-arm64]=/usr/bin/aarch64-linux-gnu-g++
    ;;
esac
# the SD card's FAT tools and sfdisk: for rpi4, and for the card-layout tests of every
# target (tests/build/test_sdcard.py builds small FAT images and partition tables)
need[mtools]=/usr/bin/mcopy
need[dosfstools]=/sbin/mkfs.vfat
need[fdisk]=/sbin/sfdisk
# genimage: the Buildroot tree's image tool; tests/buildroot runs it on the Pi card's
# config to check it makes the offline card's partition table
need[genimage]=/usr/bin/genimage

missing=()
for pkg in "${!need[@]}"; do
  [ -e "${need[$pkg]}" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
echo "host-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
