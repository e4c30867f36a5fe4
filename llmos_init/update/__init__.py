"""Updates in place that cannot brick the device (issue 16): two root slots, signed bundles,
a boot that tries the new slot once and commits it only when it is healthy.

  bootstate.py  the boot state U-Boot's boot script reads and writes (slot, try, tries...)
  slots.py      which partitions hold which slot, from the kernel command line (U-Boot's
                system disk or the Pi card)
  autoboot.py   the Pi firmware's autoboot.txt: read, and swapped in place to commit
  tryboot.py    the Pi's A/B boot: what PID 1 does where U-Boot's script does it
  bundle.py     the update bundle: format, signature and hash checks (nothing written)
  install.py    writing a verified bundle into the inactive slot, then "try" it
  commit.py     PID 1's side: commit a tried slot once healthy, report a rollback
"""
