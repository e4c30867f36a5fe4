"""Window size on a pty and TIOCSCTTY in a new session."""

from __future__ import annotations

import errno
import os

import pytest

from llmos_init.sys import tty
from llmos_init.sys.errors import SyscallError
from tests.sys.child import run_in_child


@pytest.fixture
def pty_pair():
    master, slave = os.openpty()
    yield master, slave
    os.close(master)
    os.close(slave)


def test_winsize_roundtrip(pty_pair):
    master, slave = pty_pair
    tty.set_winsize(master, 40, 132)
    assert tty.get_winsize(slave) == (40, 132)
    tty.set_winsize(slave, 24, 80)
    assert tty.get_winsize(master) == (24, 80)
    assert os.get_terminal_size(slave) == os.terminal_size((80, 24))


@pytest.mark.parametrize("rows,cols", [(-1, 80), (24, 70000), (24.0, 80), (True, 80)])
def test_set_winsize_validation(pty_pair, rows, cols):
    with pytest.raises(ValueError):
        tty.set_winsize(pty_pair[0], rows, cols)


def test_winsize_on_non_tty_is_enotty(tmp_path):
    with open(tmp_path / "plain", "w") as fh:
        with pytest.raises(SyscallError) as info:
            tty.get_winsize(fh)
    assert info.value.errno == errno.ENOTTY
    assert info.value.call == "ioctl" and "TIOCGWINSZ" in str(info.value)


def _tty_nr() -> int:
    with open("/proc/self/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[4])


def _acquire_ctty(slave_path: str):
    os.setsid()
    fd = os.open(slave_path, os.O_RDWR | os.O_NOCTTY)
    assert _tty_nr() == 0
    tty.set_controlling_tty(fd)
    dev_tty = os.open("/dev/tty", os.O_RDWR)  # only works with a controlling tty
    os.close(dev_tty)
    return _tty_nr(), os.stat(fd).st_rdev, os.tcgetpgrp(fd) == os.getpgrp()


def test_set_controlling_tty_after_setsid(pty_pair):
    tty_nr, rdev, foreground = run_in_child(_acquire_ctty, os.ttyname(pty_pair[1]))
    assert tty_nr == rdev and foreground


def _acquire_without_session(slave_path: str):
    fd = os.open(slave_path, os.O_RDWR | os.O_NOCTTY)
    try:
        tty.set_controlling_tty(fd)
    except SyscallError as exc:
        return exc.errno, exc.call_args
    return None


def test_set_controlling_tty_needs_session_leader(pty_pair):
    result = run_in_child(_acquire_without_session, os.ttyname(pty_pair[1]))
    assert result is not None, "TIOCSCTTY unexpectedly succeeded for a non-session-leader"
    err, args = result
    assert err == errno.EPERM and args[1] == "TIOCSCTTY"
