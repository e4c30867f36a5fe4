"""The terminal the console talks to: raw byte input and text output on two fds.

In the image these are fds 0/1 on the serial tty (set up by the supervisor); on a host they
are whatever terminal or pipe the console was started on. This module knows nothing about
lines or keys: it reads bytes (with a timeout, and with a push-back buffer), writes text,
switches a tty into raw mode and back, and reports the width.

The width comes from TIOCGWINSZ (or $COLUMNS) and is 80 otherwise: the console never sends
a size query, so a terminal that would never answer one cannot make it wait.
"""
from __future__ import annotations

import errno
import fcntl
import os
import select
import struct
import termios

DEFAULT_COLUMNS = 80
READ_CHUNK = 4096


class Terminal:
    def __init__(self, in_fd: int = 0, out_fd: int = 1, dumb: bool | None = None,
                 env: dict | None = None):
        env = os.environ if env is None else env
        self.in_fd = in_fd
        self.out_fd = out_fd
        self.in_tty = os.isatty(in_fd)
        self.out_tty = os.isatty(out_fd)
        if dumb is None:
            dumb = env.get("TERM") == "dumb" or not (self.in_tty and self.out_tty)
        self.dumb = bool(dumb)
        self._env = env
        self._saved: list | None = None
        self._crlf = self.out_tty and not self._tty_adds_cr()

    def _tty_adds_cr(self) -> bool:
        """True when the tty's output processing already turns LF into CR LF."""
        try:
            oflag = termios.tcgetattr(self.out_fd)[1]
        except termios.error:
            return False
        return bool(oflag & termios.OPOST) and bool(oflag & termios.ONLCR)

    @property
    def ansi(self) -> bool:
        return not self.dumb

    # --- modes --------------------------------------------------------------------------

    def enter_raw(self) -> None:
        """Raw input: no line buffering, no echo, no signals from ^C/^Z, no flow control.

        Output processing is left as it was (programs started from the console may share
        the tty); `write` sends CR LF itself when the tty does not add the CR."""
        if not self.in_tty or self._saved is not None:
            return
        saved = termios.tcgetattr(self.in_fd)
        mode = [list(x) if isinstance(x, list) else x for x in saved]
        iflag, oflag, cflag, lflag = 0, 1, 2, 3
        mode[iflag] &= ~(termios.BRKINT | termios.ICRNL | termios.INLCR | termios.IGNCR
                         | termios.INPCK | termios.ISTRIP | termios.IXON | termios.IXOFF)
        mode[cflag] = (mode[cflag] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8
        mode[lflag] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.IEXTEN | termios.ISIG)
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        termios.tcsetattr(self.in_fd, termios.TCSANOW, mode)
        self._saved = saved

    def restore(self) -> None:
        if self._saved is None:
            return
        try:
            termios.tcsetattr(self.in_fd, termios.TCSADRAIN, self._saved)
        except termios.error:
            pass
        self._saved = None

    # --- input --------------------------------------------------------------------------

    def read(self, timeout: float | None = None) -> bytes | None:
        """Bytes from the input: b"" at end of input, None when `timeout` passed first."""
        poller = select.poll()
        poller.register(self.in_fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        ms = None if timeout is None else max(0, int(timeout * 1000))
        while True:
            try:
                if not poller.poll(ms):
                    return None
                return os.read(self.in_fd, READ_CHUNK)
            except BlockingIOError:
                if ms == 0:
                    return None
                continue
            except OSError as exc:
                if exc.errno == errno.EIO:  # tty hung up
                    return b""
                raise

    # --- output -------------------------------------------------------------------------

    def write(self, text: str) -> None:
        if not text:
            return
        if self._crlf:
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        data = memoryview(text.encode("utf-8", "replace"))
        while data:
            try:
                n = os.write(self.out_fd, data)
            except BlockingIOError:
                select.select([], [self.out_fd], [], 1.0)
                continue
            data = data[n:]

    def columns(self) -> int:
        for fd in (self.out_fd, self.in_fd):
            try:
                rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
            except OSError:
                continue
            if cols >= 20:
                return cols
        try:
            cols = int(self._env.get("COLUMNS", ""))
            if cols >= 20:
                return cols
        except ValueError:
            pass
        return DEFAULT_COLUMNS
