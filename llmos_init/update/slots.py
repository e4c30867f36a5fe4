"""Which block devices hold the boot state and each slot's partitions.

The kernel command line says which slot booted and how slots are chosen:
  llmos.slot=a|b         the slot this boot runs
  llmos.bootstate=DEV    the raw boot-state partition (bootstate.py), e.g. /dev/vda2
  llmos.slots=SCHEME     who picks the slot (default uboot):
      uboot    U-Boot's boot script (the QEMU system disk, mkimage/sysdisk.py), written
               into the command line by that script
      tryboot  the Raspberry Pi firmware's autoboot.txt and tryboot (tryboot.py), written
               into each slot's cmdline file by mkimage/sdcard.py
  llmos.target=NAME      the board the bundles must be made for, where it is not the
                         root's own target (the Pi card's root is aarch64-virt's)
The other partitions are on the same disk, numbered as SCHEMES says: mkimage/shared.toml
[system_disk] and [sdcard] are the build's side, and tests check both agree.
Standard library only.
"""
from __future__ import annotations

import os


class Scheme:
    """state: the boot state's partition number; parts: (slot, what) -> number;
    config: the partition holding the firmware's autoboot.txt (tryboot), else None."""

    def __init__(self, name: str, state: int, parts: dict[tuple[str, str], int], config: int | None = None):
        self.name, self.state, self.parts, self.config = name, state, parts, config

    @property
    def what(self) -> tuple[str, ...]:
        """What a slot is made of (a bundle carries one file of each)."""
        return tuple(sorted({w for _, w in self.parts}))


SCHEMES = {s.name: s for s in (
    # system.img: 1 boot (boot.scr), 2 bootstate, 3 kernel_a, 4 root_a, 5 kernel_b, 6 root_b
    Scheme("uboot", 2, {("a", "kernel"): 3, ("a", "root"): 4, ("b", "kernel"): 5, ("b", "root"): 6}),
    # the Pi card (MBR): 1 autoboot.txt, 2 boot_a, 3 boot_b (FAT: firmware, kernel, device
    # trees, config.txt), 4 extended, 5 bootstate, 6 root_a, 7 root_b, 8 model, 9 data
    Scheme("tryboot", 5, {("a", "boot"): 2, ("b", "boot"): 3, ("a", "root"): 6, ("b", "root"): 7},
           config=1),
)}
DEFAULT_SCHEME = "uboot"


class Layout:
    """disk (/dev/vda), prefix (what partition numbers follow: /dev/vda, /dev/mmcblk0p),
    booted (the slot running now: a | b), scheme (a SCHEMES name), target (llmos.target=,
    "" when the root's own). No dataclass: PID 1 builds it before the prompt."""

    def __init__(self, disk: str, prefix: str, booted: str, scheme: str = DEFAULT_SCHEME,
                 target: str = ""):
        self.disk, self.prefix, self.booted, self.target = disk, prefix, booted, target
        self.scheme = SCHEMES[scheme]

    def __repr__(self) -> str:
        return f"Layout({self.disk!r}, {self.prefix!r}, {self.booted!r}, {self.scheme.name!r})"

    @property
    def state(self) -> str:
        return f"{self.prefix}{self.scheme.state}"

    @property
    def config(self) -> str | None:
        """The partition with autoboot.txt (tryboot), else None."""
        return None if self.scheme.config is None else f"{self.prefix}{self.scheme.config}"

    def number(self, slot: str, what: str) -> int:
        return self.scheme.parts[(slot, what)]

    def part(self, slot: str, what: str) -> str:
        return f"{self.prefix}{self.number(slot, what)}"

    def with_prefix(self, prefix: str) -> "Layout":
        """The same layout with its devices under another prefix (tests, a root not /)."""
        return Layout(self.disk, prefix, self.booted, self.scheme.name, self.target)


def from_cmdline(cmdline: dict[str, str]) -> Layout | None:
    """The layout this boot runs on, or None when it was not booted from slots."""
    state, slot = cmdline.get("llmos.bootstate", ""), cmdline.get("llmos.slot", "")
    scheme = SCHEMES.get(cmdline.get("llmos.slots") or DEFAULT_SCHEME)
    if scheme is None or slot not in ("a", "b") or not state.startswith("/dev/") \
            or not state.endswith(str(scheme.state)):
        return None
    prefix = state[:-len(str(scheme.state))]
    disk = prefix[:-1] if prefix.endswith("p") and prefix[-2:-1].isdigit() else prefix
    return Layout(disk, prefix, slot, scheme.name, cmdline.get("llmos.target", ""))


def read_cmdline(path: str = "/proc/cmdline") -> dict[str, str]:
    try:
        with open(path) as f:
            words = f.read().split()
    except OSError:
        return {}
    return dict(w.partition("=")[::2] for w in words if w.startswith("llmos."))


def partition_bytes(dev: str, sysfs: str = "/sys/class/block") -> int:
    with open(os.path.join(sysfs, os.path.basename(dev), "size")) as f:
        return int(f.read()) * 512
