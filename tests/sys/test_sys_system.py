"""sysinfo, statfs, sync/syncfs and sethostname (in a private UTS namespace)."""

from __future__ import annotations

import errno
import os

import pytest

from llmos_init.sys import process, system
from llmos_init.sys.errors import SyscallError
from tests.sys.child import run_in_child


def _meminfo() -> dict[str, int]:
    out = {}
    with open("/proc/meminfo") as fh:
        for line in fh:
            key, rest = line.split(":", 1)
            out[key] = int(rest.split()[0]) * 1024  # kB -> bytes
    return out


def _loadavg():
    with open("/proc/loadavg") as fh:
        parts = fh.read().split()
    return tuple(float(x) for x in parts[:3]), int(parts[3].split("/")[1])


def _uptime() -> float:
    with open("/proc/uptime") as fh:
        return float(fh.read().split()[0])


def test_sysinfo_matches_proc():
    before_load, before_threads = _loadavg()
    up_before = _uptime()
    info = system.sysinfo()
    up_after = _uptime()
    after_load, after_threads = _loadavg()
    mem = _meminfo()
    assert info.total_ram == mem["MemTotal"]
    assert info.total_swap == mem["SwapTotal"]
    assert 0 < info.free_ram <= info.total_ram
    assert 0 <= info.free_swap <= info.total_swap
    assert 0 <= info.buffer_ram < info.total_ram and 0 <= info.shared_ram < info.total_ram
    assert int(up_before) - 1 <= info.uptime_s <= up_after + 1
    for i in range(3):
        lo, hi = sorted((before_load[i], after_load[i]))
        assert lo - 0.01 <= info.loads[i] <= hi + 0.01
    assert isinstance(info.loads[0], float)
    assert min(before_threads, after_threads) - 50 <= info.procs <= max(before_threads, after_threads) + 50


@pytest.mark.parametrize("where", ["/", "tmp"])
def test_statfs_matches_statvfs(where, tmp_path):
    path = str(tmp_path) if where == "tmp" else where
    fs = system.statfs(path)
    vfs = os.statvfs(path)
    assert fs.bsize == vfs.f_bsize and fs.frsize == vfs.f_frsize
    assert fs.blocks == vfs.f_blocks and fs.files == vfs.f_files
    assert fs.namelen == vfs.f_namemax
    assert abs(fs.bfree - vfs.f_bfree) < 4096 and abs(fs.bavail - vfs.f_bavail) < 4096
    assert fs.total_bytes == vfs.f_blocks * vfs.f_frsize
    assert fs.avail_bytes <= fs.free_bytes <= fs.total_bytes
    assert fs.type > 0
    fd = os.open(path, os.O_RDONLY)
    try:
        assert system.statfs(fd).blocks == fs.blocks and system.statfs(fd).type == fs.type
    finally:
        os.close(fd)


def test_statfs_error_names_call_and_path():
    with pytest.raises(SyscallError) as info:
        system.statfs("/no/such/llmos/path")
    assert info.value.errno == errno.ENOENT
    assert str(info.value) == "[Errno 2] No such file or directory: statfs('/no/such/llmos/path')"


def test_sync_and_syncfs(tmp_path):
    assert system.sync() is None
    with open(tmp_path / "f", "w") as fh:
        fh.write("data")
        fh.flush()
        system.syncfs(fh)          # file object
        system.syncfs(fh.fileno())  # raw fd
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(SyscallError) as info:
        system.syncfs(w)
    assert info.value.errno == errno.EBADF and info.value.call == "syncfs"
    with pytest.raises(TypeError):
        system.syncfs("not-an-fd")


def _set_name_in_uts_ns(name):
    system.sethostname(name)
    return system.gethostname(), os.uname().nodename


def test_sethostname_in_new_uts_namespace():
    host_before = system.gethostname()
    got = run_in_child(_set_name_in_uts_ns, "llmos-test-host", unshare=process.CLONE_NEWUTS)
    assert got == ("llmos-test-host", "llmos-test-host")
    assert system.gethostname() == host_before


@pytest.mark.parametrize("bad", ["", "x" * 65, "has space", "a/b", "nul\0x", "tab\t"])
def test_sethostname_rejects_bad_names(bad):
    with pytest.raises(ValueError):
        system.sethostname(bad)
