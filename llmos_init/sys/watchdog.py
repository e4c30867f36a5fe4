"""/dev/watchdog: keepalive, timeout, and a clean (disarming) close."""

from __future__ import annotations

import os

from ._ffi import check_ioctl, ffi, lib

__all__ = ["Watchdog", "DEFAULT_WATCHDOG"]

DEFAULT_WATCHDOG = "/dev/watchdog"


class Watchdog:
    """An open watchdog device.  Opening arms it: from then on keepalive()
    must be called within the timeout or the machine resets.

    ``close(disarm=True)`` writes the magic character ``V`` first, which
    disarms drivers that support magic close (others keep running: a
    "nowayout" watchdog cannot be stopped).  As a context manager it
    closes with ``disarm=True`` on exit.
    """

    def __init__(self, path: str = DEFAULT_WATCHDOG):
        self.path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CLOEXEC)

    @property
    def closed(self) -> bool:
        return self._fd is None

    def fileno(self) -> int:
        if self._fd is None:
            raise ValueError(f"watchdog {self.path} is closed")
        return self._fd

    def _ioctl_int(self, request: int, name: str, value: int = 0) -> int:
        arg = ffi.new("int *", value)
        check_ioctl(lib.llmos_ioctl_intp(self.fileno(), request, arg), self.path, name)
        return int(arg[0])

    def keepalive(self) -> None:
        """WDIOC_KEEPALIVE: reset the countdown."""
        self._ioctl_int(lib.WDIOC_KEEPALIVE, "WDIOC_KEEPALIVE")

    def set_timeout(self, seconds: int) -> int:
        """WDIOC_SETTIMEOUT; returns the timeout the driver actually chose."""
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
            raise ValueError(f"watchdog timeout must be a positive int (seconds), got {seconds!r}")
        return self._ioctl_int(lib.WDIOC_SETTIMEOUT, "WDIOC_SETTIMEOUT", seconds)

    def get_timeout(self) -> int:
        """WDIOC_GETTIMEOUT, in seconds."""
        return self._ioctl_int(lib.WDIOC_GETTIMEOUT, "WDIOC_GETTIMEOUT")

    def time_left(self) -> int:
        """WDIOC_GETTIMELEFT (not every driver supports it: ENOTTY/EOPNOTSUPP)."""
        return self._ioctl_int(lib.WDIOC_GETTIMELEFT, "WDIOC_GETTIMELEFT")

    def identity(self) -> str:
        """WDIOC_GETSUPPORT: the driver's identity string."""
        info = ffi.new("struct watchdog_info *")
        check_ioctl(lib.llmos_ioctl_watchdog_info(self.fileno(), lib.WDIOC_GETSUPPORT, info),
                    self.path, "WDIOC_GETSUPPORT")
        return ffi.string(info.identity).decode("ascii", "replace")

    def close(self, disarm: bool = True) -> None:
        """Close the device; with ``disarm`` write the magic ``V`` first."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if disarm:
                os.write(fd, b"V")
        finally:
            os.close(fd)

    def __enter__(self) -> "Watchdog":
        return self

    def __exit__(self, *exc) -> None:
        self.close(disarm=True)

    def __repr__(self) -> str:
        state = "closed" if self._fd is None else f"fd={self._fd}"
        return f"<Watchdog {self.path} {state}>"
