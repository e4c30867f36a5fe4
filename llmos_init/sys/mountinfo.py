"""The mount table's text form (/proc/<pid>/mountinfo, see proc(5)), parsed.

Pure Python, no system call: the tools read the mount table through it without loading
the cffi extension (the console must start even where the syscall layer cannot load).
"""
from __future__ import annotations

import os

from ..record import record

__all__ = ["MountEntry", "parse_mountinfo", "read_mountinfo"]


@record(frozen=True)
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


def _unescape(field: str) -> str:
    r"""Decode the kernel's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash).

    Works on the bytes (names are bytes in the kernel) and decodes them the
    way os.fsdecode does, so non-UTF-8 names round-trip through os.fsencode.
    """
    if "\\" not in field:
        return field
    import re   # only for escaped names: not on the way to the prompt
    raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), os.fsencode(field))
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


def read_mountinfo(path: str = "/proc/self/mountinfo") -> list[MountEntry]:
    """The entries of a mountinfo file, in kernel order (later ones stacked on top)."""
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        return parse_mountinfo(fh.read())
