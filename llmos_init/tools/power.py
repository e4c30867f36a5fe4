"""The console's power requests (reboot, power off): the one helper.

On the guest, PID 1 (the llmos supervisor) is asked for an orderly reboot or power-off
(SIGTERM, SIGUSR2); on a host console nothing is powered off, and the answer says so.
Standard library only and no dataclasses: the console builds it before its prompt.
"""
from __future__ import annotations

import os

from .. import signals as signal  # _signal without the enums (signals.py)


def pid1_is_llmos(cmdline: str = "/proc/1/cmdline") -> bool:
    try:
        with open(cmdline, "rb") as f:
            return b"llmos" in f.read()
    except OSError:
        return False


class Power:
    """ctx.request_power: `host` True on a host console (a sandbox), False on the guest,
    None to ask at each request whether PID 1 is llmos_init. The console sets `session`:
    it ends once the machine goes down, or when a host console is told to power off."""

    def __init__(self, host: bool | None = None):
        self.host = host
        self.requested: str | None = None
        self.session = None

    def __call__(self, action: str) -> str:
        self.requested = action
        host = self.host if self.host is not None else not pid1_is_llmos()
        if host:
            if action == "poweroff":
                self._end()
                return "(host console: the machine is not powered off; ending this session)"
            return "(host console: the machine is not rebooted)"
        os.kill(1, signal.SIGTERM if action == "reboot" else signal.SIGUSR2)
        self._end()
        return "rebooting…" if action == "reboot" else "powering off…"

    def _end(self) -> None:
        if self.session is not None:
            self.session.ended = True
