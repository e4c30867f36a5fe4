"""reboot(2): restart, halt, power off, and the Ctrl-Alt-Del policy.

Only PID 1 should call restart()/halt()/poweroff(), after it has stopped
services and unmounted or remounted read-only what it can; the kernel does
not sync for us, so those helpers call sync() first unless told not to.
"""

from __future__ import annotations

from ._ffi import Sym, check, lib

__all__ = [
    "reboot", "restart", "restart_with", "halt", "poweroff", "set_ctrl_alt_del",
    "RB_AUTOBOOT", "RB_HALT_SYSTEM", "RB_POWER_OFF", "RB_ENABLE_CAD", "RB_DISABLE_CAD",
    "RB_SW_SUSPEND", "RB_KEXEC", "COMMANDS",
]

RB_AUTOBOOT = lib.RB_AUTOBOOT
RB_HALT_SYSTEM = lib.RB_HALT_SYSTEM
RB_POWER_OFF = lib.RB_POWER_OFF
RB_ENABLE_CAD = lib.RB_ENABLE_CAD
RB_DISABLE_CAD = lib.RB_DISABLE_CAD
RB_SW_SUSPEND = lib.RB_SW_SUSPEND
RB_KEXEC = lib.RB_KEXEC

#: Valid reboot(2) commands and their names (used for validation and messages).
COMMANDS = {
    RB_AUTOBOOT: "RB_AUTOBOOT",
    RB_HALT_SYSTEM: "RB_HALT_SYSTEM",
    RB_POWER_OFF: "RB_POWER_OFF",
    RB_ENABLE_CAD: "RB_ENABLE_CAD",
    RB_DISABLE_CAD: "RB_DISABLE_CAD",
    RB_SW_SUSPEND: "RB_SW_SUSPEND",
    RB_KEXEC: "RB_KEXEC",
}


def _as_c_int(value: int) -> int:
    """The RB_* magics are unsigned 32-bit values; reboot() takes an int."""
    return value - (1 << 32) if value >= (1 << 31) else value


def _reboot_raw(cmd: int) -> None:
    """reboot(2) without validation (tests use it to reach the kernel's EINVAL)."""
    check(lib.reboot(_as_c_int(cmd)), "reboot", _CmdName(cmd))


class _CmdName(int):
    def __repr__(self) -> str:
        name = COMMANDS.get(int(self))
        return name if name else hex(int(self))


def reboot(cmd: int) -> None:
    """reboot(2) with one of the RB_* commands.  A successful RB_AUTOBOOT,
    RB_HALT_SYSTEM or RB_POWER_OFF does not return.  ValueError for anything
    that is not an RB_* command (checked before any system call)."""
    if isinstance(cmd, bool) or not isinstance(cmd, int):
        raise TypeError(f"reboot command must be an int RB_* constant, got {cmd!r}")
    if cmd not in COMMANDS:
        raise ValueError(f"unknown reboot command {cmd:#x}; expected one of "
                         + ", ".join(sorted(COMMANDS.values())))
    _reboot_raw(cmd)


def _sync_first(sync: bool) -> None:
    if sync:
        lib.sync()


def restart(*, sync: bool = True) -> None:
    """Restart the machine now (RB_AUTOBOOT)."""
    _sync_first(sync)
    reboot(RB_AUTOBOOT)


def restart_with(argument: str, *, sync: bool = True) -> None:
    """Restart the machine now, handing the boot firmware `argument`
    (LINUX_REBOOT_CMD_RESTART2): on the Raspberry Pi, "0 tryboot" boots the
    other slot once (llmos_init/update/tryboot.py)."""
    if not isinstance(argument, str) or not argument or "\0" in argument:
        raise ValueError(f"bad reboot argument {argument!r}")
    _sync_first(sync)
    check(lib.llmos_reboot_restart2(argument.encode()), "reboot", Sym("LINUX_REBOOT_CMD_RESTART2"), argument)


def halt(*, sync: bool = True) -> None:
    """Stop the CPUs, leave power on (RB_HALT_SYSTEM)."""
    _sync_first(sync)
    reboot(RB_HALT_SYSTEM)


def poweroff(*, sync: bool = True) -> None:
    """Power the machine off (RB_POWER_OFF)."""
    _sync_first(sync)
    reboot(RB_POWER_OFF)


def set_ctrl_alt_del(enabled: bool) -> None:
    """True: Ctrl-Alt-Del restarts immediately (RB_ENABLE_CAD).  False: the
    kernel sends SIGINT to PID 1 instead (RB_DISABLE_CAD), which then decides."""
    reboot(RB_ENABLE_CAD if enabled else RB_DISABLE_CAD)
