#!/usr/bin/env bash
# Boots llmos (@TARGET@) in QEMU: the exact command line, like Buildroot's start-qemu.sh.
# Every file is found next to this script, so this folder can be copied or moved.
#
#   ./run-qemu.sh [extra QEMU arguments...]
#
# Environment:
#   ACCEL=tcg|kvm   accelerator (default tcg; KVM needs /dev/kvm on a @ARCH@ host)
#   MEM=512         guest RAM in MiB          SMP=2     guest CPUs
#   DATA=file       the data partition image (default: data.ext4 next to this script)
#   SYSTEM=file     the system disk (default: system.img next to this script; *.qcow2 is
#                   opened as qcow2, e.g. an overlay of system.img): U-Boot's boot script,
#                   the boot state and the two root slots; updates are written into it
#   BOOT=uboot|direct  uboot (the default where system.img exists): U-Boot (u-boot.rom)
#                   picks the slot from the boot state on the system disk, as a board's
#                   boot loader does; direct: QEMU loads @KERNEL@ itself and the root is
#                   rootfs.squashfs (no slots: what the benchmarks' baseline boots)
#   MODEL_IMAGE=file  the model partition image (default: model.squashfs next to this script)
#   APPEND="..."    extra kernel command-line arguments
#   SERIAL_MUX=on   serial console and QEMU monitor share stdio (Ctrl-A x quits, Ctrl-A c
#                   switches to the monitor); off: the serial line alone (what tests use)
#   NET=user|none   a virtio network card on QEMU's user-mode network, or none
#   CPU=model       the -cpu argument (default: @TCG_CPU@ under TCG, host under KVM).
#                   x86_64's TCG default has no AVX: the model then runs on the image's
#                   SSE-only ggml backend, 5-7x faster than TCG's emulated AVX2 (CPU=max)
# The guest powers off cleanly with the console's `power off`; QEMU then exits with 0.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ACCEL="${ACCEL:-tcg}"
case "$ACCEL" in
  kvm) cpu=host ;;
  tcg) cpu=@TCG_CPU@ ;;
  *) echo "run-qemu.sh: ACCEL must be tcg or kvm, not '$ACCEL'" >&2; exit 2 ;;
esac
cpu="${CPU:-$cpu}"
DATA="${DATA:-$here/data.ext4}"
MODEL_IMAGE="${MODEL_IMAGE:-$here/model.squashfs}"
SYSTEM="${SYSTEM:-$here/system.img}"
if [ -z "${BOOT:-}" ]; then
  if [ -e "$SYSTEM" ] && [ -e "$here/u-boot.rom" ]; then BOOT=uboot; else BOOT=direct; fi
fi
case "$BOOT" in
  uboot) need=("$here/u-boot.rom" "$SYSTEM") ;;
  direct) need=("$here/@KERNEL@" "$here/rootfs.squashfs") ;;
  *) echo "run-qemu.sh: BOOT must be uboot or direct, not '$BOOT'" >&2; exit 2 ;;
esac
for f in "${need[@]}" "$MODEL_IMAGE" "$DATA"; do
  [ -e "$f" ] || { echo "run-qemu.sh: missing $f (run 'make' first)" >&2; exit 1; }
done
disks=(-drive file="$MODEL_IMAGE",if=virtio,format=raw,readonly=on
       -drive file="$DATA",if=virtio,format=raw)
if [ "$BOOT" = uboot ]; then
  case "$SYSTEM" in *.qcow2) sysfmt=qcow2 ;; *) sysfmt=raw ;; esac
  boot=(-bios "$here/u-boot.rom")
  disks=(-drive file="$SYSTEM",if=virtio,format="$sysfmt" "${disks[@]}")
  last=()
  if [ -n "${APPEND:-}" ]; then
    # APPEND reaches the kernel through the boot script: a 512-byte disk of its own, the
    # last virtio disk (after "$@": disks given to this script keep their names in the
    # guest), "llmos_args=1" then "append=..." in U-Boot's text environment format, opened
    # from fd 3 and already deleted (nothing is left behind when QEMU exits). Only when
    # there is something to append: every virtio device costs the kernel a probe at boot.
    args_file="$(mktemp "${TMPDIR:-/tmp}/llmos-append.XXXXXX")"
    printf 'llmos_args=1\nappend=%s\n' "${APPEND}" | tr -d '\000' >"$args_file"
    truncate -s 512 "$args_file"
    exec 3<"$args_file"
    rm -f "$args_file"
    last=(-drive file=/proc/self/fd/3,if=virtio,format=raw,readonly=on)
  fi
else
  boot=(-kernel "$here/@KERNEL@"
        -append "console=@CONSOLE@,115200 root=@DISK@a rootfstype=squashfs ro rootwait panic=5 llmos.model=@DISK@b llmos.data=@DISK@c ${APPEND:-}")
  disks=(-drive file="$here/rootfs.squashfs",if=virtio,format=raw,readonly=on "${disks[@]}")
  last=()
fi
if [ "${SERIAL_MUX:-on}" = on ]; then
  serial=(-chardev stdio,id=con,mux=on,signal=off -serial chardev:con -mon chardev=con,mode=readline)
else
  serial=(-chardev stdio,id=con,signal=off -serial chardev:con)
fi
case "${NET:-user}" in
  user) net=(-netdev user,id=net0 -device virtio-net-pci,netdev=net0) ;;
  none) net=() ;;
  *) echo "run-qemu.sh: NET must be user or none" >&2; exit 2 ;;
esac
exec @QEMU@ @MACHINE@ -accel "$ACCEL" -cpu "$cpu" -m "${MEM:-512}" -smp "${SMP:-2}" \
  -nodefaults -no-user-config -display none \
  "${serial[@]}" \
  "${boot[@]}" "${disks[@]}" \
  -object rng-random,filename=/dev/urandom,id=rng0 -device virtio-rng-pci,rng=rng0 \
  -device i6300esb -action watchdog=reset \
  "${net[@]}" \
  "$@" "${last[@]}"
