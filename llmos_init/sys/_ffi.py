"""Loads the compiled cffi extension and exposes ``ffi``, ``lib`` and ``check``.

Where the extension comes from:

1. ``llmos_init/sys/_llmos_sys*.so`` next to this file: the image ships it
   prebuilt (the image has no compiler; nothing is ever compiled there).
2. Otherwise (a development checkout) it is compiled once, with
   ``ffi_build.build``, into ``$LLMOS_CACHE/ffi/<key>/`` (default cache:
   ``~/.cache/llmos``), where ``<key>`` hashes ``ffi_build.py``, the Python
   version, the cffi backend version and the machine architecture; later
   imports reuse it.  A file lock makes concurrent first imports safe.

A prebuilt module whose embedded source hash differs from the current
``ffi_build.py`` is stale (built from older declarations): on a host with a
compiler the cache is used instead; without one (the image) it is used with a
warning.  Set ``LLMOS_FFI_NO_BUILD=1`` to forbid compiling (then a missing
module is an ImportError).
"""

from __future__ import annotations

import os
import sys

from ..digest import sha256
from .errors import SyscallError, Sym

# Only the image's fast path (a prebuilt module next to this file) runs at boot; what the
# development-host path needs (pathlib, platform, shutil, importlib.util...) is imported
# there, as under QEMU TCG each of those costs tens of milliseconds before the prompt.

__all__ = ["ffi", "lib", "check", "check_ioctl", "fspath", "fileno", "SyscallError", "Sym"]

_MODULE = "llmos_init.sys._llmos_sys"
_BUILD_SCRIPT = os.path.join(os.path.dirname(os.path.realpath(__file__)), "ffi_build.py")


def _current_source_hash() -> str | None:
    try:
        with open(_BUILD_SCRIPT, "rb") as f:
            return sha256(f.read()).hexdigest()[:16]
    except OSError:
        return None


def cache_dir():
    """Directory (a Path) holding the host-compiled extension for this interpreter."""
    import platform
    import sysconfig
    from pathlib import Path

    import _cffi_backend

    base = os.environ.get("LLMOS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "llmos")
    with open(_BUILD_SCRIPT, encoding="utf-8") as f:
        script = f.read()
    key_src = "\0".join([
        script,
        sys.version,
        getattr(_cffi_backend, "__version__", "?"),
        platform.machine(),
        sysconfig.get_config_var("EXT_SUFFIX") or "",
    ])
    key = sha256(key_src.encode()).hexdigest()[:20]
    return Path(base) / "ffi" / key


def _load_from(path):
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.ExtensionFileLoader(_MODULE, str(path))
    spec = importlib.util.spec_from_file_location(_MODULE, str(path), loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[_MODULE] = module
    # keep the package attribute in step (it may name a stale prebuilt module)
    setattr(sys.modules[__package__], _MODULE.rpartition(".")[2], module)
    return module


def _have_compiler() -> bool:
    import shlex
    import shutil

    cc = os.environ.get("CC") or "cc"
    return shutil.which(shlex.split(cc)[0]) is not None


def _load_or_build_cached():
    import fcntl

    from . import ffi_build

    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / (ffi_build.BASENAME + ffi_build.host_ext_suffix())
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            ffi_build.build(directory, quiet=True)
    return _load_from(target)


def _load():
    no_build = os.environ.get("LLMOS_FFI_NO_BUILD", "") not in ("", "0")
    prebuilt = None
    try:
        from . import _llmos_sys as prebuilt  # type: ignore[attr-defined]
    except ImportError:
        prebuilt = None
    if prebuilt is not None:
        want = _current_source_hash()
        try:
            have = prebuilt.ffi.string(prebuilt.lib.llmos_ffi_source_hash()).decode()
        except AttributeError:
            have = "unknown"
        if want is None or want == have:
            return prebuilt
        if no_build or not _have_compiler():
            import warnings
            warnings.warn(f"{_MODULE} was built from another ffi_build.py "
                          f"({have} != {want}); using it anyway", RuntimeWarning)
            return prebuilt
        # stale prebuilt on a dev host: fall through to the cache
    if no_build:
        raise ImportError(f"{_MODULE} is not built and LLMOS_FFI_NO_BUILD is set; "
                          "run: python -m llmos_init.sys.ffi_build")
    if not os.path.exists(_BUILD_SCRIPT):
        raise ImportError(f"{_MODULE} is missing and ffi_build.py is not available to build it")
    try:
        return _load_or_build_cached()
    except Exception as exc:  # no compiler, no headers, no cffi ...
        raise ImportError(f"cannot build {_MODULE} on this machine: {exc}") from exc


_module = _load()
ffi = _module.ffi
lib = _module.lib


def fspath(path) -> bytes:
    """Path-like (str/bytes/PathLike) -> bytes for C, rejecting embedded NULs."""
    raw = os.fsencode(path)
    if b"\0" in raw:
        raise ValueError(f"embedded NUL character in path {path!r}")
    return raw


def fileno(fd) -> int:
    """An int fd, or ``fd.fileno()`` for file objects/sockets."""
    if isinstance(fd, int) and not isinstance(fd, bool):
        return fd
    if hasattr(fd, "fileno"):
        return fd.fileno()
    raise TypeError(f"expected a file descriptor or an object with fileno(), got {fd!r}")


def check(ret, call: str, *args):
    """Return ``ret``; raise SyscallError(errno, call, args) if it is negative."""
    if ret < 0:
        raise SyscallError(ffi.errno, call, args)
    return ret


def check_ioctl(ret, target, request_name: str):
    """``check`` for the ioctl wrappers: the message shows ``ioctl(<fd or path>, NAME)``."""
    if ret < 0:
        raise SyscallError(ffi.errno, "ioctl", (target, Sym(request_name)))
    return ret
