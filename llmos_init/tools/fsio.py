"""Durable file primitives: atomic replace and fsync'd directories.

A power cut at any point leaves either the old file or the new one under the final name,
never a half-written file: data goes to a temporary file in the same directory, is
fsync'd, renamed over the target, and the directory is fsync'd so the rename itself is on
disk.
"""
from __future__ import annotations

import itertools
import os
import shutil
import stat


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
    return os.path.join(d, f".{name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")


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


# ---- filesystem boundaries ------------------------------------------------------------
def under(p: str, root: str) -> bool:
    """True when path `p` is `root` or inside it (both normalised)."""
    return p == root or root == "/" or p.startswith(root.rstrip("/") + "/")


def _same_fs(path: str, limit: int | None = None):
    """(path, lstat) of the entries inside the tree at `path`, at most `limit` of them;
    a directory on another filesystem is listed but not entered."""
    dev = os.lstat(path).st_dev
    seen = 0
    for root, dirs, files in os.walk(path):
        enter = []
        for name in dirs + files:
            full = os.path.join(root, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            seen += 1
            if limit is not None and seen > limit:
                return
            yield full, st
            if stat.S_ISDIR(st.st_mode) and st.st_dev == dev:
                enter.append(name)
        dirs[:] = enter


def mounts_below(path: str, mountinfo: str = "/proc/self/mountinfo") -> list[str]:
    """Mount points strictly inside the tree at `path` (a real path), from the mount table.
    Where the table cannot be read, the tree is walked for directories on another device
    (bounded); the result is then the first ones found."""
    path = os.path.normpath(path)
    try:
        from ..sys.mountinfo import read_mountinfo
        return sorted({m.target for m in read_mountinfo(mountinfo)
                       if m.target != path and under(m.target, path)})
    except (OSError, ValueError):
        pass
    try:
        if not os.path.isdir(path) or os.path.islink(path):
            return []
        dev = os.lstat(path).st_dev
        return list(itertools.islice((p for p, st in _same_fs(path, limit=100_000)
                                      if stat.S_ISDIR(st.st_mode) and st.st_dev != dev), 10))
    except OSError:
        return []


def tree_bytes(path: str) -> int:
    """Disk space a file or tree takes (allocated blocks), not crossing into other filesystems."""
    try:
        st = os.lstat(path)
        if not os.path.isdir(path) or os.path.islink(path):
            return st.st_blocks * 512
        return st.st_blocks * 512 + sum(s.st_blocks * 512 for _, s in _same_fs(path)
                                        if s.st_dev == st.st_dev)
    except OSError:
        return 0


def remove_tree(path: str, mountinfo: str = "/proc/self/mountinfo") -> list[str]:
    """Delete a file or directory tree without ever crossing into another filesystem.
    Returns the mount points found inside it: those, and the directories leading to them,
    are left in place (nothing on another filesystem is touched)."""
    if not os.path.lexists(path):
        return []
    if os.path.islink(path) or not os.path.isdir(path):
        os.unlink(path)
        return []
    below = mounts_below(path, mountinfo)
    if not below:
        shutil.rmtree(path)
        return []
    dev = os.lstat(path).st_dev
    keep = set(below)

    def rm(p: str) -> None:
        if p in keep:
            return
        st = os.lstat(p)
        if stat.S_ISDIR(st.st_mode):
            if st.st_dev != dev:
                keep.add(p)
                return
            for name in os.listdir(p):
                rm(os.path.join(p, name))
            if not any(under(k, p) for k in keep):
                os.rmdir(p)
        else:
            os.unlink(p)

    rm(path)
    return sorted(keep)
