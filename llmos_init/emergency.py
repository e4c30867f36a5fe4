"""The emergency console: what PID 1 offers on the console tty when the real console
cannot be started at all.

A tiny line loop with five commands: reboot, poweroff, log (the files in /data/log, the
tail of pid1.log and the boot steps), retry (start the console service again) and help.
It imports nothing heavy and never runs another program.

Two ways to drive it:
  EmergencyConsole(fd, on_action=...)  inside the supervisor's event loop (on_readable()
                                       is registered as an fd reader), so reaping, the
                                       watchdog and signals keep working meanwhile;
  run_blocking(fd, ...)                PID 1's last resort when the supervisor itself
                                       cannot run: select() with a timeout, calling
                                       `idle` (reaping) between lines.
"""
from __future__ import annotations

import json
import os
import select
import time
from typing import Callable

from .paths import BOOT_JSON, LOG_DIR

COMMANDS = ("reboot", "poweroff", "log", "retry", "help")
HELP = ("commands:\n"
        "  reboot    restart the machine (orderly)\n"
        "  poweroff  switch the machine off (orderly)\n"
        "  log       show /data/log and the boot log\n"
        "  retry     start the console again\n")
PROMPT = b"emergency> "
MAX_LINE = 512


def _sane_termios(fd: int) -> None:
    """Cooked mode with echo: the crashed console may have left the tty raw."""
    try:
        import termios
        a = termios.tcgetattr(fd)
        a[0] = (a[0] | termios.ICRNL | termios.IXON) & ~(termios.INLCR | termios.IGNCR)
        a[1] = a[1] | termios.OPOST | termios.ONLCR
        a[3] = a[3] | termios.ICANON | termios.ECHO | termios.ECHOE | termios.ECHOK | \
            termios.ISIG | termios.IEXTEN
        termios.tcsetattr(fd, termios.TCSANOW, a)
    except Exception:
        pass


def _tail(path: str, lines: int) -> list[str]:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read()
    except OSError as e:
        return [f"({path}: {e.strerror})"]
    return data.decode("utf-8", "replace").splitlines()[-lines:]


def log_report(log_dir: str = LOG_DIR, boot_json: str = BOOT_JSON,
               lines: int = 20) -> str:
    """The text of the `log` command."""
    out = [f"{log_dir}:"]
    try:
        names = sorted(os.listdir(log_dir))
    except OSError as e:
        names = []
        out.append(f"  (cannot list: {e.strerror})")
    for name in names:
        try:
            size = os.stat(os.path.join(log_dir, name)).st_size
            out.append(f"  {name:24} {size:>10} bytes")
        except OSError:
            out.append(f"  {name}")
    if "pid1.log" in names:
        out.append(f"last {lines} lines of {log_dir}/pid1.log:")
        out.extend("  " + line for line in _tail(os.path.join(log_dir, "pid1.log"), lines))
    out.append(f"boot log ({boot_json}):")
    try:
        with open(boot_json) as f:
            boot = json.load(f)
        for step in boot.get("steps", []):
            err = f": {step['error']}" if step.get("error") else ""
            out.append(f"  [{step['start']:8.3f}s] {step['name']:28} {step['status']:7} "
                       f"{step['duration_ms']:8.1f} ms{err}")
        if "total_s" in boot:
            out.append(f"  boot took {boot['total_s']:.3f} s")
    except (OSError, ValueError, KeyError, TypeError) as e:
        out.append(f"  (unavailable: {e})")
    return "\n".join(out) + "\n"


class EmergencyConsole:
    """Line loop on an open tty fd. on_action(action) gets 'reboot', 'poweroff' or
    'retry'; everything else is answered here."""

    def __init__(self, fd: int, *, on_action: Callable[[str], None], reason: str = "",
                 log_dir: str = LOG_DIR, boot_json: str = BOOT_JSON):
        self.fd = fd
        self.on_action = on_action
        self.reason = reason
        self.log_dir = log_dir
        self.boot_json = boot_json
        self._buf = b""
        self.closed = False

    def write(self, text: str | bytes) -> None:
        data = text.encode("utf-8", "replace") if isinstance(text, str) else text
        deadline = time.monotonic() + 2.0
        while data and time.monotonic() < deadline:
            try:
                n = os.write(self.fd, data)
                data = data[n:]
            except BlockingIOError:
                select.select([], [self.fd], [], 0.1)
            except OSError:
                return

    def start(self) -> None:
        _sane_termios(self.fd)
        self.write("\n" + "!" * 64 + "\nllmos EMERGENCY CONSOLE\n")
        if self.reason:
            self.write(f"{self.reason}\n")
        self.write(HELP + "!" * 64 + "\n")
        self.write(PROMPT)

    def on_readable(self) -> None:
        try:
            data = os.read(self.fd, 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:   # hangup: keep the fd; a reconnect can type again
            time.sleep(0.05)
            return
        self.feed(data)

    def feed(self, data: bytes) -> None:
        self._buf += data.replace(b"\r", b"\n")
        while b"\n" in self._buf and not self.closed:
            line, _, self._buf = self._buf.partition(b"\n")
            self.handle(line.decode("utf-8", "replace").strip())
        if len(self._buf) > MAX_LINE:
            self._buf = b""
            self.write("\nline too long\n")
            self.write(PROMPT)

    def handle(self, line: str) -> None:
        word = line.lower()
        if not word:
            pass
        elif word in ("help", "?"):
            self.write(HELP)
        elif word == "log":
            self.write(log_report(self.log_dir, self.boot_json))
        elif word in ("reboot", "poweroff"):
            self.write(f"{word}: shutting down...\n")
            self.on_action(word)
            return
        elif word == "retry":
            self.write("retry: starting the console again...\n")
            self.on_action("retry")
            return
        else:
            self.write(f"unknown command {line!r}; commands: {', '.join(COMMANDS)}\n")
        self.write(PROMPT)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                os.close(self.fd)
            except OSError:
                pass


def run_blocking(fd: int, *, reason: str = "", idle: Callable[[], None] | None = None,
                 log_dir: str = LOG_DIR, boot_json: str = BOOT_JSON,
                 interval: float = 1.0) -> str:
    """Run the emergency console until the user picks an action; returns it
    ('reboot', 'poweroff' or 'retry'). `idle()` runs at least every `interval` s."""
    chosen: list[str] = []
    con = EmergencyConsole(fd, on_action=chosen.append, reason=reason, log_dir=log_dir,
                           boot_json=boot_json)
    con.start()
    while not chosen:
        try:
            ready, _, _ = select.select([fd], [], [], interval)
        except InterruptedError:
            ready = []
        if ready:
            con.on_readable()
        if idle is not None:
            try:
                idle()
            except Exception:
                pass
    return chosen[0]
