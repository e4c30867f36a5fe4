"""PID 1's side of an update: commit a tried slot once the system is healthy, report a
rollback.

At boot (Boot's "boot slot" step) PID 1 reads the boot state (on the Pi, first brought
up to date with what the firmware did: tryboot.at_boot):
  - rolled_back=X: the boot script gave up on slot X (it never committed itself); the
    note goes to the console (NOTE_FILE, shown before its next prompt) and to
    /data/log/update.log, and rolled_back is cleared;
  - try=<the slot running>: this boot is the try. The Committer then checks every
    CHECK_S: healthy = PID 1's loop runs (it runs the check), the watchdog is open and
    petted, and the console service has run HEALTHY_S under one pid. Then slot=<this>
    and try/tries cleared (on the Pi, autoboot.txt first): committed. Not healthy within
    DEADLINE_S: PID 1 reboots and the boot script, its tries used up, boots the old slot
    (on the Pi: a normal reboot, without the tryboot flag, is the old slot); a hang: the
    watchdog resets the machine; a kernel panic: panic=5 does.
Standard library only; nothing here may raise into PID 1 (the caller guards it).
"""
from __future__ import annotations

import os
import time

from ..paths import LOG_DIR, UPDATE_NOTE
from . import bootstate, tryboot
from .slots import Layout

NOTE_FILE = UPDATE_NOTE
LOG_FILE = f"{LOG_DIR}/update.log"
CHECK_S = 1.0
HEALTHY_S = 5.0
DEADLINE_S = 180.0


def write_note(text: str, root: str = "/") -> None:
    """A line for the console's next prompt, and the update log on /data (best effort)."""
    for path, mode in ((NOTE_FILE, "a"), (LOG_FILE, "a")):
        full = path if root == "/" else os.path.join(root, path.lstrip("/"))
        try:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, mode) as f:
                f.write(text + "\n" if path == NOTE_FILE else f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")
        except OSError:
            pass


def at_boot(layout: Layout, root: str = "/") -> tuple[str, bool]:
    """Read the boot state; report and clear a rollback. Returns (a line for the boot
    step, whether this boot is a try waiting to be committed)."""
    state = bootstate.read(layout.state)
    if layout.config is not None and tryboot.at_boot(layout, state):
        bootstate.write(layout.state, state)
    slot = bootstate.committed(state)
    version = state.get(f"version_{layout.booted}", "?")
    failed = state.get("rolled_back")
    if failed:
        write_note(f"update: the update to {state.get(f'version_{failed}', '?')} (slot {failed}) "
                   f"did not come up healthy; rolled back: running {version} in slot {layout.booted}", root)
        state.pop("rolled_back")
        bootstate.write(layout.state, state)
    trying = state.get("try") == layout.booted and slot != layout.booted
    what = f"slot {layout.booted} ({version})"
    if trying:
        return f"{what}: trying it; it commits itself once healthy", True
    if failed:
        return f"{what}: rolled back from slot {failed}", False
    waiting = state.get("try")
    if waiting and waiting != layout.booted:
        return (f"{what}, committed; slot {waiting} ({state.get(f'version_{waiting}', '?')}) "
                "is installed and is tried at the next restart"), False
    return f"{what}, committed" if slot == layout.booted else f"{what}; committed is {slot}", False


class Committer:
    """Checks health from PID 1's loop and commits the tried slot (see the module doc)."""

    def __init__(self, layout: Layout, watchdog_ok, console_pid, reboot, log,
                 clock=time.monotonic, root: str = "/"):
        self.layout = layout
        self.watchdog_ok = watchdog_ok       # () -> bool
        self.console_pid = console_pid       # () -> pid of the running console, or None
        self.reboot = reboot                 # () -> None: orderly reboot
        self.log = log
        self.clock = clock
        self.root = root
        self.started = clock()
        self._pid = None
        self._since = 0.0
        self.done = False

    def healthy(self) -> bool:
        pid = self.console_pid()
        now = self.clock()
        if pid is None or pid != self._pid:
            self._pid, self._since = pid, now
            return False
        return self.watchdog_ok() and now - self._since >= HEALTHY_S

    def check(self) -> bool:
        """One check; True once there is nothing left to do (committed or given up)."""
        if self.done:
            return True
        if self.healthy():
            state = bootstate.read(self.layout.state)
            if state.get("try") != self.layout.booted:
                self.done = True
                return True
            if self.layout.config is not None:
                tryboot.commit(self.layout)       # the firmware's choice first
            state["slot"] = self.layout.booted
            state.pop("try", None)
            state.pop("tries", None)
            bootstate.write(self.layout.state, state)
            version = state.get(f"version_{self.layout.booted}", "?")
            msg = f"update: {version} in slot {self.layout.booted} is healthy and committed"
            self.log(msg)
            write_note(msg, self.root)
            self.done = True
            return True
        if self.clock() - self.started > DEADLINE_S:
            self.log(f"update: slot {self.layout.booted} not healthy after {DEADLINE_S:.0f} s "
                     "(console or watchdog): rebooting into the committed slot")
            self.done = True
            self.reboot()
            return True
        return False
