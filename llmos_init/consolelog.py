"""PID 1's log: `[  0.412s] message` lines to the console, copied to /data/log/pid1.log.

Also the few never-raising fd helpers the reaper's forked children use to report.
"""
from __future__ import annotations

import os
import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~0.1 s under QEMU TCG before the prompt
    from typing import Callable


class ConsoleLog:
    """One line per message, `[  0.412s] message` (seconds since boot when PID 1:
    CLOCK_MONOTONIC), written to the console fd and appended to a log file once one is
    attached (/data/log/pid1.log). Never raises."""

    def __init__(self, fd: int = 2, *, clock: Callable[[], float] = time.monotonic):
        self.fd = fd
        self.clock = clock
        self._file_fd: int | None = None
        self.file_path: str | None = None
        self._lock = threading.Lock()

    def stamp(self, t: float | None = None) -> str:
        return f"[{self.clock() if t is None else t:8.3f}s]"

    def __call__(self, msg: str, *, t: float | None = None, console: bool = True) -> None:
        stamp = self.stamp(t)
        text = "".join(f"{stamp} {line}\n" for line in str(msg).splitlines() or [""])
        data = text.encode("utf-8", "replace")
        with self._lock:
            if console and self.fd is not None:
                write_all(self.fd, data)
            if self._file_fd is not None:
                write_all(self._file_fd, data)

    info = __call__

    def exception(self, msg: str) -> None:
        self(f"{msg}\n{format_exc()}")

    def attach_file(self, path: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        with self._lock:
            old, self._file_fd, self.file_path = self._file_fd, fd, path
        if old is not None:
            close_fd(old)

    def detach_file(self) -> None:
        with self._lock:
            old, self._file_fd, self.file_path = self._file_fd, None, None
        if old is not None:
            close_fd(old)


def format_exc() -> str:
    """traceback.format_exc(), imported only when there is one to format (traceback
    costs ~0.1 s under QEMU TCG on PID 1's way to the prompt)."""
    import traceback
    return traceback.format_exc().rstrip()


def write_all(fd: int, data: bytes) -> None:
    try:
        while data:
            n = os.write(fd, data)
            data = data[n:]
    except OSError:
        pass


def close_fd(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
