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
for f in "$here/@KERNEL@" "$here/rootfs.squashfs" "$MODEL_IMAGE" "$DATA"; do
  [ -e "$f" ] || { echo "run-qemu.sh: missing $f (run 'make' first)" >&2; exit 1; }
done
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
  -kernel "$here/@KERNEL@" \
  -append "console=@CONSOLE@,115200 root=@DISK@a rootfstype=squashfs ro rootwait panic=5 llmos.model=@DISK@b llmos.data=@DISK@c ${APPEND:-}" \
  -drive file="$here/rootfs.squashfs",if=virtio,format=raw,readonly=on \
  -drive file="$MODEL_IMAGE",if=virtio,format=raw,readonly=on \
  -drive file="$DATA",if=virtio,format=raw \
  -object rng-random,filename=/dev/urandom,id=rng0 -device virtio-rng-pci,rng=rng0 \
  -device i6300esb -action watchdog=reset \
  "${net[@]}" \
  "$@"
