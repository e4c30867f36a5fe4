"""mount(2), umount2(2) and the mount table (/proc/self/mountinfo)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ._ffi import check, ffi, fspath, lib

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


@dataclass(frozen=True)
class MountEntry:
    """One line of /proc/<pid>/mountinfo.

    ``options`` (per-mount, e.g. ``("rw", "nosuid")``) and ``super_options``
    (per-superblock, e.g. ``("rw", "size=1024k")``) are tuples of strings.
    ``root`` is the path inside the filesystem that is mounted (not "/" for
    bind mounts), ``device`` is ``"major:minor"`` and ``optional`` holds the
    propagation tags (``"shared:1"``, ``"master:2"`` ...).
    """

    mount_id: int
    parent_id: int
    source: str
    target: str
    fstype: str
    options: tuple[str, ...]
    super_options: tuple[str, ...]
    root: str = "/"
    device: str = ""
    optional: tuple[str, ...] = ()

    @property
    def read_only(self) -> bool:
        return "ro" in self.options

    def option(self, name: str) -> str | bool | None:
        """Value of ``name=value`` (or True for a bare flag) from either option
        list, per-mount first; None if absent."""
        for opt in self.options + self.super_options:
            key, sep, value = opt.partition("=")
            if key == name:
                return value if sep else True
        return None


_OCTAL = re.compile(rb"\\([0-7]{3})")


def _unescape(field: str) -> str:
    r"""Decode the kernel's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash).

    Works on the bytes (names are bytes in the kernel) and decodes them the
    way os.fsdecode does, so non-UTF-8 names round-trip through os.fsencode.
    """
    if "\\" not in field:
        return field
    raw = _OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), os.fsencode(field))
    return os.fsdecode(raw)


def parse_mountinfo(text: str) -> list[MountEntry]:
    """Parse the text of a mountinfo file (see proc(5))."""
    entries = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split(" ")
        try:
            sep = fields.index("-", 6)
            mount_id, parent_id = int(fields[0]), int(fields[1])
            fstype, source, super_opts = fields[sep + 1], fields[sep + 2], fields[sep + 3]
        except (ValueError, IndexError):
            raise ValueError(f"malformed mountinfo line {lineno}: {line!r}") from None
        entries.append(MountEntry(
            mount_id=mount_id,
            parent_id=parent_id,
            source=_unescape(source),
            target=_unescape(fields[4]),
            fstype=_unescape(fstype),
            options=tuple(fields[5].split(",")),
            super_options=tuple(_unescape(super_opts).split(",")),
            root=_unescape(fields[3]),
            device=fields[2],
            optional=tuple(fields[6:sep]),
        ))
    return entries


def mounts(pid: int | str = "self") -> list[MountEntry]:
    """The mount table of ``pid`` (default: this process), in kernel order."""
    with open(f"/proc/{pid}/mountinfo", encoding="utf-8", errors="surrogateescape") as fh:
        return parse_mountinfo(fh.read())


def find_mount(target, pid: int | str = "self") -> MountEntry | None:
    """The topmost mount whose mount point is exactly ``target`` (None if not a mount point)."""
    want = os.fsdecode(target)
    want = os.path.normpath(want) if want != "/" else want
    found = None
    for entry in mounts(pid):
        if entry.target == want:
            found = entry  # later entries are stacked on top
    return found
