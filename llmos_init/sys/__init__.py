"""llmos syscall layer: direct system calls through cffi (API mode).

One module per kernel interface the supervisor and the tools use: mounts, power,
system, process, netif, rtc, watchdog.  Import those modules directly, e.g.
``from llmos_init.sys import mounts``.

This package itself stays light: importing ``llmos_init.sys`` neither loads
nor compiles the cffi extension (``_llmos_sys``).  The extension is loaded by
``llmos_init.sys._ffi`` the first time an interface module is imported; see
that module for how it is found (prebuilt in the image, or compiled once into
a per-user cache on a development host).
"""

from .errors import SyscallError

__all__ = ["SyscallError"]
