"""The Raspberry Pi firmware's A/B boot (llmos.slots=tryboot): what PID 1 does where
U-Boot's boot script does it under QEMU.

The firmware keeps two things: autoboot.txt (autoboot.py) names the committed slot's boot
partition, and a one-shot `tryboot` flag, set by `reboot "0 tryboot"` (reboot(2) with
LINUX_REBOOT_CMD_RESTART2), makes the next boot, and only that one, start the other.
A reset, a power cut or the watchdog clear the flag: the next boot is the committed slot.
The boot state (bootstate.py, a raw partition of the card) records the rest, with the
same keys as under U-Boot:

  install (install.py)   try=<other> tries=1: the reboot that follows asks for tryboot,
                         whenever it comes (start_try: tries=0 first, so that a try
                         that dies before PID 1, a kernel panic, still counts as had)
  at_boot, booted = try, not committed    the try runs (a later reboot, unless
                         committed first, is a normal one and goes back)
  at_boot, booted = committed, try=X, tries=0    X had its boot and did not commit:
                         rolled_back=X (commit.py reports it)
  at_boot, booted = committed, try=X, tries=1    the try has not been asked for yet
                         (powered off before the restart): it stays waiting
  commit                 autoboot.txt first (the firmware's truth), then slot=<this>;
                         a cut between the two is finished at the next boot
Standard library only.
"""
from __future__ import annotations

from . import autoboot, bootstate
from .slots import Layout

REBOOT_ARGUMENT = "0 tryboot"     # partition 0: autoboot.txt's [tryboot] choice


def slot_of(layout: Layout, boot_partition: int) -> str | None:
    for slot in bootstate.SLOTS:
        if layout.number(slot, "boot") == boot_partition:
            return slot
    return None


def committed(layout: Layout) -> str:
    """The slot autoboot.txt boots normally."""
    part, _ = autoboot.read(layout.config)
    slot = slot_of(layout, part)
    if slot is None:
        raise autoboot.AutobootError(f"autoboot.txt boots partition {part}, no slot's")
    return slot


def at_boot(layout: Layout, state: dict[str, str]) -> bool:
    """Bring the boot state up to date with what the firmware did (in place); True when
    it changed and is to be written."""
    before = dict(state)
    slot, booted, tried = committed(layout), layout.booted, state.get("try")
    state["slot"] = slot
    if tried == booted:
        if booted == slot:            # committed, the state not yet: finish it
            state.pop("try", None)
            state.pop("tries", None)
        else:                         # this is the try: any later boot goes back
            state["tries"] = "0"
    elif tried and booted == slot and state.get("tries") == "0":
        state["rolled_back"] = tried
        state.pop("try", None)
        state.pop("tries", None)
    return state != before


def start_try(layout: Layout) -> str | None:
    """At a reboot: what reboot(2) is to be given. "0 tryboot" while an installed slot
    waits for its try, its one try marked as used first (tries=0); else None (a normal
    restart)."""
    state = bootstate.read(layout.state)
    if state.get("try") == bootstate.other(layout.booted) and state.get("tries") == "1":
        state["tries"] = "0"
        bootstate.write(layout.state, state)
        return REBOOT_ARGUMENT
    return None


def commit(layout: Layout) -> None:
    """Make the running slot the one the firmware boots (autoboot.txt)."""
    mine = layout.number(layout.booted, "boot")
    other = layout.number(bootstate.other(layout.booted), "boot")
    autoboot.commit(layout.config, mine, other)
