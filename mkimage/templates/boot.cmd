# llmos boot script (U-Boot hush; mkimage/uboot.py turns it into boot.scr on the boot
# partition). The A/B selection with a boot counter, RAUC-style, in the script because
# Debian's u-boot-qemu has no CONFIG_BOOTCOUNT_LIMIT (nor setexpr): the counter is counted
# down with tests, and altbootcmd below is run by this script, not by U-Boot's bootcount.
#
# The boot state is a U-Boot text environment ("key=value" lines, then a NUL) in the raw
# partition @STATE_PART@ of the system disk, written by this script and by llmos
# (llmos_init/update/bootstate.py). One template for x86_64 and arm64: @LOAD_ADDR@ and
# @BOOT_KERNEL@ (zboot / booti) are mkimage/uboot.py's FIRMWARE values.
#
#   slot=a|b        the committed slot
#   try=a|b         a slot installed but not yet committed, to be booted `tries` more times
#   tries=N         boots left for `try` (3, 2, 1; 0: it had its chance)
#   rolled_back=X   set here when `try` used up its tries: llmos reports it, then clears it
#   version_a, version_b   what each slot holds (kept as they are)
echo llmos: A/B boot
setenv stateaddr @STATE_ADDR@
setenv slot a
setenv try
setenv tries
setenv rolled_back
setenv altbootcmd 'echo llmos: slot ${try} did not commit itself: back to slot ${slot}; setenv rolled_back ${try}; setenv try; setenv tries; setenv boot_slot ${slot}'
setenv savestate 'mw.b ${stateaddr} 0 @STATE_BYTES@; env export -t ${stateaddr} slot try tries rolled_back version_a version_b; virtio write ${stateaddr} ${state_start} @STATE_BLOCKS@'
part start virtio 0 @STATE_PART@ state_start
mw.b ${stateaddr} 0 @STATE_BYTES@
virtio read ${stateaddr} ${state_start} @STATE_BLOCKS@
env import -t ${stateaddr} - slot try tries rolled_back version_a version_b
setenv boot_slot ${slot}
if test -n "${try}"; then
  if test "${tries}" = 3; then setenv tries 2; setenv boot_slot ${try};
  elif test "${tries}" = 2; then setenv tries 1; setenv boot_slot ${try};
  elif test "${tries}" = 1; then setenv tries 0; setenv boot_slot ${try};
  else run altbootcmd; fi
  run savestate
fi
if test "${boot_slot}" = b; then setenv kpart @KERNEL_B@; setenv rpart @ROOT_B@;
else setenv boot_slot a; setenv kpart @KERNEL_A@; setenv rpart @ROOT_A@; fi
# extra kernel arguments: run-qemu.sh's APPEND on a 512-byte virtio disk of its own, the
# last one (after any disk given to run-qemu.sh: the guest's disks keep their names), its
# sector starting "llmos_args=1" (itest: "llmo" little-endian); only `append` is imported
setenv append
for n in 3 4 5 6 7 8; do
  if virtio dev ${n}; then
    mw.b ${stateaddr} 0 0x200; virtio read ${stateaddr} 0 1;
    if itest.l *${stateaddr} == 0x6f6d6c6c; then env import -t ${stateaddr} - append; fi;
  fi;
done
virtio dev 0
echo llmos: booting slot ${boot_slot}
part start virtio 0 ${kpart} kstart
part size virtio 0 ${kpart} ksize
virtio read @LOAD_ADDR@ ${kstart} ${ksize}
setenv bootargs "@BOOTARGS@ root=@DISK@a${rpart} llmos.slot=${boot_slot} llmos.bootstate=@DISK@a@STATE_PART@ ${append}"
@BOOT_KERNEL@
echo llmos: slot ${boot_slot} did not start: reset (the boot counter brings the other slot back)
reset
