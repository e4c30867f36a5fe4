"""prctl(2) bits PID 1 needs, and unshare(2) (Python 3.11 has no os.unshare)."""

from __future__ import annotations

from ._ffi import Sym, check, ffi, lib

__all__ = [
    "set_child_subreaper", "is_child_subreaper", "set_name", "get_name",
    "set_parent_death_signal", "set_cmdline", "unshare",
    "CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWUSER", "CLONE_NEWPID",
    "CLONE_NEWNET", "CLONE_NEWCGROUP", "CLONE_FILES", "CLONE_FS", "TASK_COMM_LEN",
]

CLONE_NEWNS = lib.CLONE_NEWNS
CLONE_NEWUTS = lib.CLONE_NEWUTS
CLONE_NEWIPC = lib.CLONE_NEWIPC
CLONE_NEWUSER = lib.CLONE_NEWUSER
CLONE_NEWPID = lib.CLONE_NEWPID
CLONE_NEWNET = lib.CLONE_NEWNET
CLONE_NEWCGROUP = lib.CLONE_NEWCGROUP
CLONE_FILES = lib.CLONE_FILES
CLONE_FS = lib.CLONE_FS

_UNSHARE_FLAGS = (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID
                  | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_FILES | CLONE_FS)

#: The kernel keeps 15 bytes of a thread name plus the terminating NUL.
TASK_COMM_LEN = 16


def _prctl(option: int, name: str, a2: int = 0, *, shown: tuple | None = None) -> int:
    """prctl(option, a2, 0, 0, 0); ``shown`` replaces ``a2`` in error messages
    (for pointer arguments)."""
    args = (a2,) if shown is None else shown
    return check(lib.llmos_prctl(option, a2, 0, 0, 0), "prctl", Sym(name), *args)



def set_child_subreaper(on: bool = True) -> None:
    """PR_SET_CHILD_SUBREAPER: orphaned descendants are re-parented to us."""
    _prctl(lib.PR_SET_CHILD_SUBREAPER, "PR_SET_CHILD_SUBREAPER", 1 if on else 0)


def is_child_subreaper() -> bool:
    out = ffi.new("int *")
    _prctl(lib.PR_GET_CHILD_SUBREAPER, "PR_GET_CHILD_SUBREAPER",
           int(ffi.cast("uintptr_t", out)), shown=())
    return bool(out[0])


def set_name(name: str) -> None:
    """PR_SET_NAME: the calling thread's name (/proc/self/comm).  Names longer
    than 15 bytes are truncated by the kernel; ValueError for an embedded NUL."""
    raw = name.encode("utf-8") if isinstance(name, str) else bytes(name)
    if b"\0" in raw:
        raise ValueError(f"thread name contains NUL: {name!r}")
    buf = ffi.new("char[]", raw[: TASK_COMM_LEN - 1])
    _prctl(lib.PR_SET_NAME, "PR_SET_NAME", int(ffi.cast("uintptr_t", buf)), shown=(name,))


def get_name() -> str:
    buf = ffi.new("char[]", TASK_COMM_LEN)
    _prctl(lib.PR_GET_NAME, "PR_GET_NAME", int(ffi.cast("uintptr_t", buf)), shown=())
    return ffi.string(buf).decode("utf-8", "replace")


_cmdline_buf = None   # the buffer /proc/self/cmdline points to after set_cmdline (kept alive)


def set_cmdline(argv: list[str]) -> None:
    """What /proc/self/cmdline (and `ps`) shows for this process: argv, NUL-separated.

    For a child forked without exec (Reaper.fork_call), whose arguments would otherwise
    still read as its parent's. PR_SET_MM_ARG_START/END point the kernel at a buffer of
    ours, as systemd's rename_process does; it needs CAP_SYS_RESOURCE (SyscallError
    EPERM without it). ValueError for an empty argv or an embedded NUL."""
    global _cmdline_buf
    raw = [a.encode("utf-8", "surrogateescape") if isinstance(a, str) else bytes(a) for a in argv]
    if not raw or any(b"\0" in a for a in raw):
        raise ValueError(f"cmdline must be non-empty arguments without NUL: {argv!r}")
    data = b"\0".join(raw) + b"\0"
    buf = ffi.new("char[]", data)               # ends with two NULs: cffi adds one
    start = int(ffi.cast("uintptr_t", buf))
    end = start + len(data)                     # just past argv's last NUL
    # The kernel requires start <= end at every step: which end moves first depends on
    # where the new buffer lies relative to the current range.
    first, second = ((lib.PR_SET_MM_ARG_START, start), (lib.PR_SET_MM_ARG_END, end))
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        old_end = int(fields[49 - 3])           # arg_end: field 49 of stat(5)
        if start >= old_end:
            first, second = second, first
    except (OSError, IndexError, ValueError):
        pass
    for opt, addr in (first, second):
        check(lib.llmos_prctl(lib.PR_SET_MM, opt, addr, 0, 0), "prctl", Sym("PR_SET_MM"),
              Sym("PR_SET_MM_ARG_START" if opt == lib.PR_SET_MM_ARG_START else "PR_SET_MM_ARG_END"))
    _cmdline_buf = buf


def set_parent_death_signal(signum: int) -> None:
    """PR_SET_PDEATHSIG: signal delivered to us when our parent thread dies (0 clears)."""
    _prctl(lib.PR_SET_PDEATHSIG, "PR_SET_PDEATHSIG", int(signum))


def unshare(flags: int) -> None:
    """unshare(2) with CLONE_* flags.  ValueError for flags outside the known set."""
    if isinstance(flags, bool) or not isinstance(flags, int) or flags < 0:
        raise ValueError(f"unshare flags must be a non-negative int, got {flags!r}")
    if flags & ~_UNSHARE_FLAGS:
        raise ValueError(f"unknown unshare flag bits {flags & ~_UNSHARE_FLAGS:#x}")
    check(lib.unshare(flags), "unshare", flags)
