"""mount(2), umount2(2) and the mount table (/proc/self/mountinfo)."""

from __future__ import annotations

import os

from ._ffi import check, ffi, fspath, lib
from .mountinfo import MountEntry, parse_mountinfo, read_mountinfo

__all__ = [
    "mount", "umount", "mounts", "find_mount", "parse_mountinfo", "MountEntry",
    "MS_RDONLY", "MS_NOSUID", "MS_NODEV", "MS_NOEXEC", "MS_SYNCHRONOUS", "MS_REMOUNT",
    "MS_DIRSYNC", "MS_NOATIME", "MS_NODIRATIME", "MS_BIND", "MS_MOVE", "MS_REC",
    "MS_SILENT", "MS_UNBINDABLE", "MS_PRIVATE", "MS_SLAVE", "MS_SHARED", "MS_RELATIME",
    "MS_STRICTATIME", "MS_LAZYTIME", "MNT_FORCE", "MNT_DETACH", "MNT_EXPIRE",
    "UMOUNT_NOFOLLOW",
]

MS_RDONLY = lib.MS_RDONLY
MS_NOSUID = lib.MS_NOSUID
MS_NODEV = lib.MS_NODEV
MS_NOEXEC = lib.MS_NOEXEC
MS_SYNCHRONOUS = lib.MS_SYNCHRONOUS
MS_REMOUNT = lib.MS_REMOUNT
MS_DIRSYNC = lib.MS_DIRSYNC
MS_NOATIME = lib.MS_NOATIME
MS_NODIRATIME = lib.MS_NODIRATIME
MS_BIND = lib.MS_BIND
MS_MOVE = lib.MS_MOVE
MS_REC = lib.MS_REC
MS_SILENT = lib.MS_SILENT
MS_UNBINDABLE = lib.MS_UNBINDABLE
MS_PRIVATE = lib.MS_PRIVATE
MS_SLAVE = lib.MS_SLAVE
MS_SHARED = lib.MS_SHARED
MS_RELATIME = lib.MS_RELATIME
MS_STRICTATIME = lib.MS_STRICTATIME
MS_LAZYTIME = lib.MS_LAZYTIME
MNT_FORCE = lib.MNT_FORCE
MNT_DETACH = lib.MNT_DETACH
MNT_EXPIRE = lib.MNT_EXPIRE
UMOUNT_NOFOLLOW = lib.UMOUNT_NOFOLLOW


def _opt_bytes(value):
    if value is None:
        return ffi.NULL
    return fspath(value)


def mount(source, target, fstype=None, flags: int = 0, data=None) -> None:
    """mount(2).  ``source``/``fstype``/``data`` may be None (NULL), e.g. for
    MS_REMOUNT, MS_BIND or propagation changes (MS_PRIVATE | MS_REC)."""
    if not isinstance(flags, int) or flags < 0:
        raise ValueError(f"mount flags must be a non-negative int, got {flags!r}")
    ret = lib.mount(_opt_bytes(source), fspath(target), _opt_bytes(fstype), flags,
                    _opt_bytes(data))
    check(ret, "mount", source, target, fstype, flags, data)


def umount(target, flags: int = 0) -> None:
    """umount2(2).  ``flags``: MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW."""
    if not isinstance(flags, int) or flags < 0:
        raise ValueError(f"umount flags must be a non-negative int, got {flags!r}")
    check(lib.umount2(fspath(target), flags), "umount2", target, flags)


def mounts(pid: int | str = "self") -> list[MountEntry]:
    """The mount table of ``pid`` (default: this process), in kernel order."""
    return read_mountinfo(f"/proc/{pid}/mountinfo")


def find_mount(target, pid: int | str = "self") -> MountEntry | None:
    """The topmost mount whose mount point is exactly ``target`` (None if not a mount point)."""
    want = os.fsdecode(target)
    want = os.path.normpath(want) if want != "/" else want
    found = None
    for entry in mounts(pid):
        if entry.target == want:
            found = entry  # later entries are stacked on top
    return found
