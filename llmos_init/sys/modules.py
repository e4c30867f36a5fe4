"""Kernel modules: finit_module(2) and delete_module(2) (via syscall(2))."""

from __future__ import annotations

import os

from ._ffi import check, fspath, lib

__all__ = ["finit_module", "delete_module", "loaded_modules",
           "MODULE_INIT_IGNORE_MODVERSIONS", "MODULE_INIT_IGNORE_VERMAGIC"]

MODULE_INIT_IGNORE_MODVERSIONS = lib.MODULE_INIT_IGNORE_MODVERSIONS
MODULE_INIT_IGNORE_VERMAGIC = lib.MODULE_INIT_IGNORE_VERMAGIC


def finit_module(path_or_fd, params: str = "", flags: int = 0) -> None:
    """Load the module in file ``path_or_fd`` (a path or an open fd) with
    module parameters ``params`` ("opt=1 other=x").  Compressed modules
    (.ko.xz/.zst) need kernel support for in-kernel decompression."""
    raw_params = params.encode("utf-8") if isinstance(params, str) else bytes(params)
    if b"\0" in raw_params:
        raise ValueError(f"module parameters contain NUL: {params!r}")
    if isinstance(path_or_fd, int) and not isinstance(path_or_fd, bool):
        check(lib.llmos_finit_module(path_or_fd, raw_params, flags),
              "finit_module", path_or_fd, params, flags)
        return
    fd = os.open(path_or_fd, os.O_RDONLY | os.O_CLOEXEC)
    try:
        check(lib.llmos_finit_module(fd, raw_params, flags),
              "finit_module", path_or_fd, params, flags)
    finally:
        os.close(fd)


def delete_module(name: str, flags: int = os.O_NONBLOCK) -> None:
    """Unload module ``name`` (O_NONBLOCK: fail with EWOULDBLOCK if in use,
    the only mode modern kernels support without O_TRUNC forcing)."""
    raw = fspath(name)
    if not raw or b"/" in raw:
        raise ValueError(f"invalid module name {name!r}")
    check(lib.llmos_delete_module(raw, flags), "delete_module", name, flags)


def loaded_modules() -> list[str]:
    """Names of loaded modules from /proc/modules (empty if unsupported)."""
    try:
        with open("/proc/modules", encoding="ascii", errors="replace") as fh:
            return [line.split(" ", 1)[0] for line in fh if line.strip()]
    except FileNotFoundError:
        return []
