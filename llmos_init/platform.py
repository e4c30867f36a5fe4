"""PID 1's one platform adapter: every system call boot, the supervisor and the shutdown
sequence make, through llmos_init.sys (imported lazily, so nothing is loaded before it is
needed). Tests inject an object with the methods they use instead.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~0.1 s under QEMU TCG before the prompt
    from typing import Any


class Pid1Platform:
    """The real actions of PID 1. Mount flags are given by name: ("nosuid", "nodev",
    "noexec", "rdonly")."""

    # () -> str | None: the argument a reboot hands the boot firmware (RESTART2), asked
    # at the moment of the reboot; set by boot when the firmware takes one (the Pi's
    # tryboot: update/tryboot.start_try)
    reboot_argument = None

    # -- boot steps

    def mount(self, source: str, target: str, fstype: str, flags: tuple[str, ...] = (),
              data: str | None = None) -> None:
        from .sys import mounts
        bits = 0
        for name in flags:
            bits |= getattr(mounts, "MS_" + name.upper())
        mounts.mount(source, target, fstype, bits, data)

    def mounts(self) -> list[Any]:
        from .sys.mounts import mounts
        return mounts()

    def sethostname(self, name: str) -> None:
        from .sys.system import sethostname
        sethostname(name)

    def link_up(self, ifname: str) -> None:
        from .sys.netif import link_up
        link_up(ifname)

    def set_ctrl_alt_del(self, enabled: bool) -> None:
        from .sys.power import set_ctrl_alt_del
        set_ctrl_alt_del(enabled)

    def set_name(self, name: str) -> None:
        from .sys.process import set_name
        set_name(name)

    def watchdog(self, path: str) -> Any:
        from .sys.watchdog import Watchdog
        return Watchdog(path)

    # -- shutdown and power

    def sync(self) -> None:
        from .sys.system import sync
        sync()

    def umount(self, target: str) -> None:
        from .sys.mounts import umount
        umount(target)

    def remount_ro(self, target: str) -> None:
        from .sys.mounts import MS_RDONLY, MS_REMOUNT, mount
        mount(None, target, None, MS_REMOUNT | MS_RDONLY)

    def power(self, action: str) -> None:
        from .sys import power
        argument = None
        if action == "reboot" and self.reboot_argument is not None:
            try:
                argument = self.reboot_argument()
            except Exception:      # unreadable boot state: a plain restart is the safe one
                argument = None
        if argument:       # the boot firmware's, e.g. the Pi's "0 tryboot" (update/tryboot.py)
            power.restart_with(argument)
            return
        {"reboot": power.restart, "poweroff": power.poweroff, "halt": power.halt}[action]()
