"""SyscallError: the one exception type raised by the llmos syscall layer.

Importing this module is cheap (no cffi); code that only needs to *catch*
syscall failures can import it without loading the compiled extension.
"""

from __future__ import annotations

import builtins
import os

__all__ = ["SyscallError", "Sym", "format_call"]


class Sym(str):
    """A symbolic argument (e.g. an ioctl request name) shown bare in messages."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def format_call(call: str, args: tuple) -> str:
    return f"{call}({', '.join(repr(a) for a in args)})"


class SyscallError(OSError):
    """A failed system call.

    ``str(err)`` reads like ``[Errno 16] Device or resource busy: umount2('/data', 0)``.
    Attributes: ``errno``, ``strerror`` (as for any OSError), ``call`` (the C
    function name) and ``call_args`` (the arguments as passed from Python).

    ``SyscallError(errno, ...)`` returns an instance of a subclass that also
    derives from the matching builtin OSError subclass, so
    ``except FileNotFoundError`` / ``except PermissionError`` work as usual.
    """

    _by_base: dict[type, type] = {}

    def __new__(cls, err: int, call: str = "?", call_args: tuple = ()):
        if cls is SyscallError:
            base = _errno_class(err)
            if base is not OSError:
                cls = _combined(base)
        return OSError.__new__(cls, err, os.strerror(err))

    def __init__(self, err: int, call: str = "?", call_args: tuple = ()):
        super().__init__(err, os.strerror(err))
        self.call = call
        self.call_args = tuple(call_args)

    def __str__(self) -> str:
        return f"[Errno {self.errno}] {self.strerror}: {format_call(self.call, self.call_args)}"

    def __reduce__(self):
        return (SyscallError, (self.errno, self.call, self.call_args))


def _errno_class(err: int) -> type:
    # OSError(err, msg) picks the builtin subclass for this errno (PEP 3151).
    return type(builtins.OSError(err, "x"))


def _combined(base: type) -> type:
    cls = SyscallError._by_base.get(base)
    if cls is None:
        cls = type(f"SyscallError_{base.__name__}", (SyscallError, base), {"__module__": __name__})
        SyscallError._by_base[base] = cls
    return cls

