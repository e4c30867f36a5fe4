"""Where the executors act: current directory, data dir, sandbox, and injectable roots.

Paths the user (and the planner) sees are *console paths*: absolute, rooted at "/". On the
guest they are the real paths. On a host, the console runs against a sandbox directory
that plays the part of "/": the console path /data/a.txt is <sandbox>/data/a.txt, ".."
cannot climb above the sandbox, and a symlink that resolves outside it is refused.
`ActionContext.real()` maps a console path to the host path; `ActionContext.display()` maps back.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

from .power import Power

DATA_DIR = "/data"      # the data partition: the console's home, what "~" means everywhere
PROTECTED = ("/", "/proc", "/sys", "/dev")
WRITABLE = (DATA_DIR, "/tmp", "/run")


def expand_home(path: str, home: str = DATA_DIR) -> str:
    """"~" and "~/x" name the data directory (the console has no other home), for the
    planner and the executor alike; anything else is returned as it is."""
    if path == "~":
        return home
    if path.startswith("~/"):
        return home.rstrip("/") + path[1:]
    return path


@dataclass
class ActionContext:
    """Where the executors act (one per console session; the owner of its current
    directory). Not the planner's parser.Context, which is what a request is read in."""
    cwd: str = "/"
    data_dir: str = DATA_DIR            # console path of the data partition
    sandbox: str | None = None          # host directory playing "/" (host console)
    protected: tuple[str, ...] = PROTECTED
    writable: tuple[str, ...] = WRITABLE  # outside these the root is read-only (squashfs)
    spawn: Callable[..., Any] | None = None          # spawn(argv, stdout=, stderr=, cwd=) -> Child
    request_power: Callable[[str], Any] = field(default_factory=Power)   # tools/power.py
    sysfs: str = "/sys"
    procfs: str = "/proc"
    dev_kmsg: str = "/dev/kmsg"
    rtc_dev: str = "/dev/rtc0"
    tmp_dir: str = "/tmp"               # console path where program output is captured
    own_pids: set[int] = field(default_factory=lambda: {os.getpid()})
    read_lines: int = 40                # read_file shows this many lines at a time
    list_limit: int = 200               # list_dir / find_files show at most this many
    start_wait: float = 1.0             # start_program waits this long for output
    # state kept across actions of one console session
    started: dict[int, str] = field(default_factory=dict)  # pid -> program started here
    last_read: tuple | None = None      # (real path, next line, mtime_ns, size) for "show more"

    def __post_init__(self) -> None:
        if self.sandbox is not None:
            self.sandbox = os.path.realpath(self.sandbox)
            if not os.path.isdir(self.sandbox):
                raise ValueError(f"sandbox {self.sandbox} is not a directory")
        self.cwd = self.normalize(self.cwd)

    @property
    def host(self) -> bool:
        """True on a host (sandboxed) console: host-wide changes are refused."""
        return self.sandbox is not None

    def normalize(self, path: str, cwd: str | None = None) -> str:
        """A console path made absolute and normalised ("..", ".", "//"); no symlinks resolved."""
        if not isinstance(path, str) or not path:
            raise ValueError("empty path")
        if "\0" in path:
            raise ValueError("a path cannot contain a NUL byte")
        path = expand_home(path, self.data_dir)
        p = os.path.normpath(os.path.join(cwd or self.cwd, path))
        if p.startswith("//"):
            p = "/" + p.lstrip("/")
        return p

    def real(self, path: str) -> str:
        """Host path for a console path (no symlink resolution)."""
        p = self.normalize(path)
        if self.sandbox is None:
            return p
        return self.sandbox if p == "/" else self.sandbox + p

    def display(self, real: str) -> str:
        """Console path for a host path inside the sandbox (real path unchanged on a guest)."""
        if self.sandbox is None:
            return real
        if real == self.sandbox:
            return "/"
        if real.startswith(self.sandbox + "/"):
            return real[len(self.sandbox):]
        return real

    @property
    def real_data_dir(self) -> str:
        return self.real(self.data_dir)

    @property
    def real_cwd(self) -> str:
        return self.real(self.cwd)

    def settle_cwd(self) -> str | None:
        """After a change, keep the current directory pointing at an existing directory
        (the nearest one above it); returns the new one, or None when it still exists."""
        cwd = self.cwd
        while cwd != "/" and not os.path.isdir(self.real(cwd)):
            cwd = os.path.dirname(cwd)
        if cwd != self.cwd:
            self.cwd = cwd
            return cwd
        return None
