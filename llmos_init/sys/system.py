"""Host name, sync, sysinfo(2) and statfs(2)."""

from __future__ import annotations

import os

from ..record import record
from ._ffi import check, ffi, fileno, fspath, lib

__all__ = ["sethostname", "gethostname", "sync", "syncfs", "sysinfo", "statfs",
           "SysInfo", "StatFS", "HOST_NAME_MAX"]

HOST_NAME_MAX = 64


def sethostname(name: str) -> None:
    """sethostname(2) (UTS namespace of the caller).  ValueError for an empty
    name, one over 64 bytes, or one containing NUL/whitespace/'/'."""
    raw = name.encode("utf-8") if isinstance(name, str) else bytes(name)
    if not raw or len(raw) > HOST_NAME_MAX:
        raise ValueError(f"host name must be 1..{HOST_NAME_MAX} bytes, got {len(raw)}: {name!r}")
    if any(c <= 0x20 or c == 0x7F or c == ord("/") for c in raw):
        raise ValueError(f"host name contains a control, blank or '/' character: {name!r}")
    check(lib.sethostname(raw, len(raw)), "sethostname", name)


def gethostname() -> str:
    return os.uname().nodename


def sync() -> None:
    """sync(2): flush all file systems (never fails)."""
    lib.sync()


def syncfs(fd: int) -> None:
    """syncfs(2): flush the file system holding open file ``fd``."""
    check(lib.syncfs(fileno(fd)), "syncfs", fd)



@record(frozen=True)
class SysInfo:
    """sysinfo(2), with ``mem_unit`` already applied (all memory in bytes)."""

    uptime_s: int
    loads: tuple[float, float, float]
    total_ram: int
    free_ram: int
    shared_ram: int
    buffer_ram: int
    total_swap: int
    free_swap: int
    procs: int


def sysinfo() -> SysInfo:
    info = ffi.new("struct sysinfo *")
    check(lib.sysinfo(info), "sysinfo")
    unit = info.mem_unit or 1
    scale = float(1 << lib.SI_LOAD_SHIFT)
    return SysInfo(
        uptime_s=int(info.uptime),
        loads=tuple(info.loads[i] / scale for i in range(3)),
        total_ram=info.totalram * unit,
        free_ram=info.freeram * unit,
        shared_ram=info.sharedram * unit,
        buffer_ram=info.bufferram * unit,
        total_swap=info.totalswap * unit,
        free_swap=info.freeswap * unit,
        procs=int(info.procs),
    )


@record(frozen=True)
class StatFS:
    """statfs(2).  Block counts are in units of ``frsize`` (the fragment
    size; equal to ``bsize`` on nearly every file system)."""

    type: int
    bsize: int
    blocks: int
    bfree: int
    bavail: int
    files: int
    ffree: int
    frsize: int = 0
    namelen: int = 0
    flags: int = 0

    @property
    def _unit(self) -> int:
        return self.frsize or self.bsize

    @property
    def total_bytes(self) -> int:
        return self.blocks * self._unit

    @property
    def free_bytes(self) -> int:
        """Free space including the root-reserved blocks."""
        return self.bfree * self._unit

    @property
    def avail_bytes(self) -> int:
        """Free space available to unprivileged users."""
        return self.bavail * self._unit


def statfs(path) -> StatFS:
    """statfs(2) on a path, or fstatfs(2) when given an int fd."""
    buf = ffi.new("struct statfs *")
    if isinstance(path, int) and not isinstance(path, bool):
        check(lib.fstatfs(path, buf), "fstatfs", path)
    else:
        check(lib.statfs(fspath(path), buf), "statfs", path)
    return StatFS(
        type=buf.f_type & 0xFFFFFFFF,
        bsize=int(buf.f_bsize),
        blocks=int(buf.f_blocks),
        bfree=int(buf.f_bfree),
        bavail=int(buf.f_bavail),
        files=int(buf.f_files),
        ffree=int(buf.f_ffree),
        frsize=int(buf.f_frsize),
        namelen=int(buf.f_namelen),
        flags=int(buf.f_flags),
    )
