"""Fixtures for the executor tests: a sandboxed console, a guest-like console rooted in a
temp dir, fake /proc and /sys trees, and a minimal spawner (tests only: package code never
waits for children; the supervisor's reaper does)."""
from __future__ import annotations

import os
import signal
import time

import pytest

from llmos_init.tools.trash import Trash
from llmos_init.tools.context import ActionContext
from llmos_init.tools.executor import Executor


class TestChild:
    """What ctx.spawn returns: .pid and .wait(timeout) -> exit code (None while running;
    minus the signal number when killed)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.code = None

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.code is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.code = os.waitstatus_to_exitcode(status)
                break
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.01)
        return self.code

    def kill(self):
        if self.code is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.wait()


class TestSpawner:
    def __init__(self):
        self.children: list[TestChild] = []

    def __call__(self, argv, stdin=None, stdout=None, stderr=None, cwd=None, new_session=False):
        pid = os.fork()
        if pid == 0:
            try:
                if new_session:
                    os.setsid()
                if stdin is not None:
                    os.dup2(stdin, 0)
                if stdout is not None:
                    os.dup2(stdout, 1)
                if stderr is not None:
                    os.dup2(stderr, 2)
                if cwd:
                    os.chdir(cwd)
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        child = TestChild(pid)
        self.children.append(child)
        return child

    def cleanup(self):
        for c in self.children:
            c.kill()


@pytest.fixture
def spawner():
    s = TestSpawner()
    yield s
    s.cleanup()


@pytest.fixture
def sandbox(tmp_path):
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (root / "tmp").mkdir()
    return root


@pytest.fixture
def ex(sandbox, spawner):
    """A host console against a sandbox: console path /data is <sandbox>/data."""
    ctx = ActionContext(cwd="/data", sandbox=str(sandbox), spawn=spawner, start_wait=3.0,
                  request_power=lambda action: f"fake {action}")
    return Executor(ctx)


@pytest.fixture
def guest(tmp_path, spawner):
    """A guest-like console (no sandbox): real paths, data dir and writable area in tmp."""
    data = tmp_path / "data"
    data.mkdir()
    ctx = ActionContext(cwd=str(data), data_dir=str(data), writable=(str(tmp_path),),
                  spawn=spawner, start_wait=3.0, tmp_dir=str(tmp_path),
                  request_power=lambda action: f"fake {action}")
    return Executor(ctx, Trash(str(data)))


def run(ex, tool, **args):
    return ex.run({"tool": tool, "args": args})


def write(path, data: bytes | str):
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def fake_proc(root, procs, uptime=1000.0):
    """A fake /proc: procs = [(pid, comm, state, ppid, ticks, start_ticks, rss_pages, argv)]."""
    write(os.path.join(root, "uptime"), f"{uptime} 900.0\n")
    write(os.path.join(root, "loadavg"), "0.50 0.25 0.10 1/80 1234\n")
    write(os.path.join(root, "meminfo"), "MemTotal:        2048000 kB\nMemFree:  1000000 kB\n"
                                         "MemAvailable:    1536000 kB\nSwapTotal: 0 kB\n")
    write(os.path.join(root, "cpuinfo"), "processor\t: 0\nmodel name\t: x\n\nprocessor\t: 1\n")
    for pid, comm, state, ppid, ticks, start, rss, argv in procs:
        rest = [state, str(ppid)] + ["0"] * 9 + [str(ticks), "0"] + ["0"] * 6 + [str(start), "0", str(rss)]
        write(os.path.join(root, str(pid), "stat"), f"{pid} ({comm}) " + " ".join(rest) + " 0 0\n")
        write(os.path.join(root, str(pid), "cmdline"), b"\0".join(a.encode() for a in argv) + b"\0")
    return str(root)
