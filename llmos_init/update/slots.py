"""Which block devices hold the boot state and each slot's kernel and root.

The boot script passes `llmos.slot=a|b` (the slot it booted) and `llmos.bootstate=DEV`
(the bootstate partition, e.g. /dev/vda2) on the kernel command line; the slots are the
partitions after it on the same disk, in mkimage/shared.toml [system_disk] order:
2 bootstate, 3 kernel_a, 4 root_a, 5 kernel_b, 6 root_b (tests check both agree).
Standard library only.
"""
from __future__ import annotations

import os

STATE_PART = 2
PARTS = {("a", "kernel"): 3, ("a", "root"): 4, ("b", "kernel"): 5, ("b", "root"): 6}


class Layout:
    """disk (/dev/vda), prefix (what partition numbers follow: /dev/vda, /dev/mmcblk0p),
    booted (the slot running now: a | b). No dataclass: PID 1 builds it before the prompt."""

    def __init__(self, disk: str, prefix: str, booted: str):
        self.disk, self.prefix, self.booted = disk, prefix, booted

    def __repr__(self) -> str:
        return f"Layout({self.disk!r}, {self.prefix!r}, {self.booted!r})"

    @property
    def state(self) -> str:
        return f"{self.prefix}{STATE_PART}"

    def part(self, slot: str, what: str) -> str:
        return f"{self.prefix}{PARTS[(slot, what)]}"


def from_cmdline(cmdline: dict[str, str]) -> Layout | None:
    """The layout this boot runs on, or None when it was not booted from slots."""
    state, slot = cmdline.get("llmos.bootstate", ""), cmdline.get("llmos.slot", "")
    if slot not in ("a", "b") or not state.endswith(str(STATE_PART)) or not state.startswith("/dev/"):
        return None
    prefix = state[:-len(str(STATE_PART))]
    disk = prefix[:-1] if prefix.endswith("p") and prefix[-2:-1].isdigit() else prefix
    return Layout(disk, prefix, slot)


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
