"""Hardware clock (RTC_RD_TIME / RTC_SET_TIME) and the system clock.

The RTC is assumed to keep UTC.  ``read_rtc`` returns a timezone-aware
datetime in UTC; the setters accept aware datetimes (converted to UTC) or
naive ones (taken to be UTC already).  Sub-second precision: the RTC keeps
whole seconds (fractions are dropped); the system clock gets microseconds.
"""

from __future__ import annotations

import datetime as _dt
import os

from ._ffi import Sym, check, check_ioctl, ffi, lib

__all__ = ["read_rtc", "set_rtc", "set_system_time", "DEFAULT_RTC"]

DEFAULT_RTC = "/dev/rtc0"
UTC = _dt.timezone.utc


def _as_utc(dt: _dt.datetime) -> _dt.datetime:
    if not isinstance(dt, _dt.datetime):
        raise TypeError(f"expected a datetime.datetime, got {dt!r}")
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _rtc_ioctl(dev, flags: int, fn, request: int, name: str, tm) -> None:
    if isinstance(dev, int) and not isinstance(dev, bool):
        check_ioctl(fn(dev, request, tm), dev, name)
        return
    fd = os.open(dev, flags | os.O_CLOEXEC)
    try:
        check_ioctl(fn(fd, request, tm), dev, name)
    finally:
        os.close(fd)


def read_rtc(dev=DEFAULT_RTC) -> _dt.datetime:
    """RTC_RD_TIME on ``dev`` (path or open fd) -> aware datetime in UTC."""
    tm = ffi.new("struct rtc_time *")
    _rtc_ioctl(dev, os.O_RDONLY, lib.llmos_ioctl_rtc_time, lib.RTC_RD_TIME, "RTC_RD_TIME", tm)
    try:
        return _dt.datetime(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                            tm.tm_hour, tm.tm_min, tm.tm_sec, tzinfo=UTC)
    except ValueError as exc:  # an unset RTC can hold garbage
        raise ValueError(f"{dev}: RTC holds an invalid time "
                         f"{tm.tm_year + 1900}-{tm.tm_mon + 1}-{tm.tm_mday} "
                         f"{tm.tm_hour}:{tm.tm_min}:{tm.tm_sec}: {exc}") from None


def set_rtc(dt: _dt.datetime, dev=DEFAULT_RTC) -> None:
    """RTC_SET_TIME on ``dev`` (path or open fd) from ``dt`` (see module doc)."""
    utc = _as_utc(dt)
    tm = ffi.new("struct rtc_time *")
    tm.tm_year = utc.year - 1900
    tm.tm_mon = utc.month - 1
    tm.tm_mday = utc.day
    tm.tm_hour = utc.hour
    tm.tm_min = utc.minute
    tm.tm_sec = utc.second
    tm.tm_wday = (utc.weekday() + 1) % 7  # struct tm: 0 = Sunday
    tm.tm_yday = utc.timetuple().tm_yday - 1
    tm.tm_isdst = 0
    _rtc_ioctl(dev, os.O_WRONLY, lib.llmos_ioctl_rtc_time, lib.RTC_SET_TIME, "RTC_SET_TIME", tm)


def set_system_time(dt: _dt.datetime) -> None:
    """clock_settime(CLOCK_REALTIME) from ``dt`` (aware, or naive = UTC)."""
    utc = _as_utc(dt)
    delta = utc - _dt.datetime(1970, 1, 1, tzinfo=UTC)
    seconds = delta.days * 86400 + delta.seconds
    if seconds < 0:
        raise ValueError(f"cannot set the clock before 1970: {dt!r}")
    ts = ffi.new("struct timespec *")
    ts.tv_sec = seconds
    ts.tv_nsec = delta.microseconds * 1000
    check(lib.clock_settime(lib.CLOCK_REALTIME, ts), "clock_settime",
          Sym("CLOCK_REALTIME"), utc.isoformat())

