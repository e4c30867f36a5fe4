"""Block device queries: size (BLKGETSIZE64) and read-only flag (BLKROGET)."""

from __future__ import annotations

import os

from ._ffi import check_ioctl, ffi, lib

__all__ = ["size_bytes", "read_only"]


def _query(path_or_fd, fn, request: int, name: str, arg) -> None:
    if isinstance(path_or_fd, int) and not isinstance(path_or_fd, bool):
        check_ioctl(fn(path_or_fd, request, arg), path_or_fd, name)
        return
    fd = os.open(path_or_fd, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        check_ioctl(fn(fd, request, arg), path_or_fd, name)
    finally:
        os.close(fd)


def size_bytes(path_or_fd) -> int:
    """BLKGETSIZE64: size of the block device in bytes."""
    out = ffi.new("uint64_t *")
    _query(path_or_fd, lib.llmos_ioctl_u64p, lib.BLKGETSIZE64, "BLKGETSIZE64", out)
    return int(out[0])


def read_only(path_or_fd) -> bool:
    """BLKROGET: True when the block device is read-only."""
    out = ffi.new("int *")
    _query(path_or_fd, lib.llmos_ioctl_intp, lib.BLKROGET, "BLKROGET", out)
    return bool(out[0])
