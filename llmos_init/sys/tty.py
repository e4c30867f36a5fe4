"""Terminal ioctls: controlling tty (TIOCSCTTY) and window size."""

from __future__ import annotations

from ._ffi import check_ioctl, ffi, fileno, lib

__all__ = ["set_controlling_tty", "release_controlling_tty", "get_winsize", "set_winsize"]



def set_controlling_tty(fd, steal: bool = False) -> None:
    """TIOCSCTTY: make terminal ``fd`` the controlling tty of the calling
    session (the caller must be a session leader, see os.setsid()).  With
    ``steal`` a root caller takes it from another session."""
    check_ioctl(lib.llmos_ioctl_int(fileno(fd), lib.TIOCSCTTY, 1 if steal else 0), fd, "TIOCSCTTY")


def release_controlling_tty(fd) -> None:
    """TIOCNOTTY: give up the controlling terminal ``fd``."""
    check_ioctl(lib.llmos_ioctl_int(fileno(fd), lib.TIOCNOTTY, 0), fd, "TIOCNOTTY")


def get_winsize(fd) -> tuple[int, int]:
    """TIOCGWINSZ: (rows, cols) of terminal ``fd``."""
    ws = ffi.new("struct winsize *")
    check_ioctl(lib.llmos_ioctl_winsize(fileno(fd), lib.TIOCGWINSZ, ws), fd, "TIOCGWINSZ")
    return int(ws.ws_row), int(ws.ws_col)


def set_winsize(fd, rows: int, cols: int) -> None:
    """TIOCSWINSZ: set the window size of terminal ``fd`` (0..65535 each)."""
    for label, value in (("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFF:
            raise ValueError(f"{label} must be an int in 0..65535, got {value!r}")
    ws = ffi.new("struct winsize *")
    ws.ws_row = rows
    ws.ws_col = cols
    check_ioctl(lib.llmos_ioctl_winsize(fileno(fd), lib.TIOCSWINSZ, ws), fd, "TIOCSWINSZ")
