"""Durable file primitives: atomic replace and fsync'd directories.

A power cut at any point leaves either the old file or the new one under the final name,
never a half-written file: data goes to a temporary file in the same directory, is
fsync'd, renamed over the target, and the directory is fsync'd so the rename itself is on
disk.
"""
from __future__ import annotations

import os
import secrets


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems (e.g. certain FUSE or tmpfs setups) refuse; nothing to do
    finally:
        os.close(fd)


def makedirs_durable(path: str, mode: int = 0o755) -> None:
    """os.makedirs, fsync'ing each parent whose entries changed."""
    path = os.path.abspath(path)
    if os.path.isdir(path):
        return
    parent = os.path.dirname(path)
    if parent != path:
        makedirs_durable(parent, mode)
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        if not os.path.isdir(path):
            raise
        return
    fsync_dir(parent)


def temp_name(path: str) -> str:
    d, name = os.path.split(path)
    return os.path.join(d, f".{name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


def atomic_write(path: str, data: bytes, mode: int | None = None,
                 like: os.stat_result | None = None) -> None:
    """Replace `path` with `data` atomically.

    `like`: the stat of the file being replaced; its mode (and owner, when we are root)
    are kept. `mode` applies to a new file (default 0644).
    """
    tmp = temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            if like is not None:
                os.fchmod(fd, like.st_mode & 0o7777)
                if os.geteuid() == 0 and (like.st_uid, like.st_gid) != (0, 0):
                    os.fchown(fd, like.st_uid, like.st_gid)
            else:
                os.fchmod(fd, 0o644 if mode is None else mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(os.path.dirname(path) or ".")
