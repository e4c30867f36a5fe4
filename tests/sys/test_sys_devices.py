"""RTC, system clock and watchdog.

Real devices are used only when safe: a present /dev/rtc0 is read (never
set); a real watchdog is never opened on the host (opening arms it) unless
LLMOS_TEST_REAL_WATCHDOG=1."""

from __future__ import annotations

import datetime as dt
import errno
import os
import time

import pytest

from llmos_init.sys import process, rtc, watchdog
from llmos_init.sys.errors import SyscallError
from tests.sys.child import run_in_child


@pytest.fixture
def plain_file(tmp_path):
    path = tmp_path / "not-a-device"
    path.write_bytes(b"")
    return str(path)


# ---- RTC / clock -------------------------------------------------------------

def test_read_rtc_on_non_device_is_enotty(plain_file):
    with pytest.raises(SyscallError) as info:
        rtc.read_rtc(plain_file)
    assert info.value.errno == errno.ENOTTY
    assert str(info.value) == f"[Errno 25] Inappropriate ioctl for device: ioctl({plain_file!r}, RTC_RD_TIME)"


def test_set_rtc_on_non_device_is_enotty(plain_file):
    with pytest.raises(SyscallError) as info:
        rtc.set_rtc(dt.datetime(2030, 1, 2, 3, 4, 5), plain_file)
    assert info.value.errno == errno.ENOTTY and "RTC_SET_TIME" in str(info.value)
    with pytest.raises(TypeError):
        rtc.set_rtc("2030-01-01", plain_file)


def test_read_real_rtc_if_present():
    if not os.path.exists(rtc.DEFAULT_RTC):
        pytest.skip(f"no {rtc.DEFAULT_RTC} on this host")
    now = rtc.read_rtc()
    assert now.tzinfo is dt.timezone.utc
    assert abs(now.timestamp() - time.time()) < 24 * 3600


def _settime_without_privilege():
    # In a new user namespace we hold no capability over the real clock, so
    # the kernel must refuse: the call path is exercised, the host is not.
    try:
        rtc.set_system_time(dt.datetime(2031, 5, 6, 7, 8, 9, 250000))
    except SyscallError as exc:
        return exc.errno, str(exc)
    raise AssertionError("clock_settime succeeded inside a user namespace")


def test_set_system_time_reaches_kernel_and_is_refused_in_userns():
    err, msg = run_in_child(_settime_without_privilege, unshare=process.CLONE_NEWUSER)
    assert err == errno.EPERM
    assert msg == ("[Errno 1] Operation not permitted: "
                   "clock_settime(CLOCK_REALTIME, '2031-05-06T07:08:09.250000+00:00')")


def test_set_system_time_validation():
    with pytest.raises(ValueError, match="1970"):
        rtc.set_system_time(dt.datetime(1960, 1, 1))
    with pytest.raises(TypeError):
        rtc.set_system_time(1234567890)


# ---- watchdog -----------------------------------------------------------------

def test_watchdog_ioctls_on_non_device_and_magic_close(plain_file):
    wd = watchdog.Watchdog(plain_file)
    for method, name in ((wd.keepalive, "WDIOC_KEEPALIVE"), (wd.get_timeout, "WDIOC_GETTIMEOUT"),
                         (lambda: wd.set_timeout(30), "WDIOC_SETTIMEOUT")):
        with pytest.raises(SyscallError) as info:
            method()
        assert info.value.errno == errno.ENOTTY
        assert str(info.value).endswith(f"ioctl({plain_file!r}, {name})")
    with pytest.raises(ValueError):
        wd.set_timeout(0)
    wd.close(disarm=True)
    assert wd.closed
    wd.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        wd.keepalive()
    with open(plain_file, "rb") as fh:
        assert fh.read() == b"V"


def test_watchdog_close_without_disarm_and_context_manager(plain_file):
    watchdog.Watchdog(plain_file).close(disarm=False)
    with open(plain_file, "rb") as fh:
        assert fh.read() == b""
    with watchdog.Watchdog(plain_file) as wd:
        assert not wd.closed
    assert wd.closed
    with open(plain_file, "rb") as fh:
        assert fh.read() == b"V"


def test_real_watchdog_only_on_request():
    if os.environ.get("LLMOS_TEST_REAL_WATCHDOG") != "1":
        pytest.skip("opening a real watchdog arms it; set LLMOS_TEST_REAL_WATCHDOG=1 to test one")
    if not os.path.exists(watchdog.DEFAULT_WATCHDOG):
        pytest.skip("no /dev/watchdog")
    with watchdog.Watchdog() as wd:
        wd.keepalive()
        actual = wd.set_timeout(30)
        assert actual > 0 and wd.get_timeout() == actual
