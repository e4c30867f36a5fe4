"""Harness: run a Supervisor in a forked child process (a child subreaper, not PID 1).

The child streams what happens as JSON lines (supervisor events, recorded platform
actions, answers to commands) over a pipe; the test reads them with wait_for(). Power
and filesystem actions are recorded by FakePlatform (tests/supervisor/fakes.py) instead of
being performed.
"""
from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
import traceback

import pytest

from llmos_init.services import ServicesConfig, ServiceSpec
from llmos_init.consolelog import ConsoleLog
from llmos_init.supervisor import Supervisor

from tests.supervisor.fakes import FakePlatform

PY = sys.executable


def py(code: str) -> tuple[str, ...]:
    """argv running a Python snippet quickly (no site)."""
    return (PY, "-S", "-c", code)


def spec(name: str, command, **kw) -> ServiceSpec:
    return ServiceSpec(name=name, command=tuple(command), **kw)


class SupervisorProcess:
    def __init__(self, tmp_path, services, *, grace=1.0, mounts=(), umount_busy=(),
                 setup=None, sysfs="/nonexistent-sysfs", errors=()):
        self.tmp_path = tmp_path
        self.config = ServicesConfig(services=list(services), shutdown_grace_s=grace,
                                     errors=list(errors))
        self.mounts = list(mounts)
        self.umount_busy = umount_busy
        self.setup = setup
        self.sysfs = sysfs
        self.log_path = str(tmp_path / "supervisor.log")
        self.events: list[dict] = []
        self._q: queue.Queue = queue.Queue()
        self.pid = None

    # -- child side

    def _child(self, evw: int, ctl_r: int) -> None:
        def emit(kind, data=None, **kw):
            rec = {"kind": kind, "t": time.monotonic(), **(data or {}), **kw}
            line = (json.dumps(rec, default=str) + "\n").encode()
            while line:
                n = os.write(evw, line)
                line = line[n:]

        log_fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        log = ConsoleLog(fd=log_fd)
        sup = Supervisor(self.config, is_pid1=False, log=log,
                         platform=FakePlatform(emit=emit, umount_busy=self.umount_busy),
                         on_event=lambda k, d: emit(k, d), mounts=self.mounts,
                         sysfs=self.sysfs, remount_root_ro=False,
                         base_env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        buf = b""

        def on_ctl():
            nonlocal buf
            data = os.read(ctl_r, 4096)
            if not data:
                sup.remove_reader(ctl_r)
                return
            buf += data
            fail = False
            while b"\n" in buf:
                line, _, buf = buf.partition(b"\n")
                cmd = line.decode()
                if cmd == "status":
                    emit("status", sup.status(), pid=os.getpid())
                elif cmd == "raise":
                    fail = True
                elif cmd == "ping":
                    emit("pong")
            if fail:
                raise RuntimeError("injected failure in a handler")

        sup.add_reader(ctl_r, on_ctl)
        if self.setup is not None:
            self.setup(sup, emit)
        emit("ready", pid=os.getpid())
        action = sup.run()
        emit("returned", action=action)

    # -- parent side

    def start(self) -> "SupervisorProcess":
        evr, evw = os.pipe()
        ctl_r, ctl_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.close(evr)
                os.close(ctl_w)
                self._child(evw, ctl_r)
            except BaseException:
                code = 1
                with open(self.log_path, "a") as f:
                    f.write(traceback.format_exc())
            finally:
                os._exit(code)
        os.close(evw)
        os.close(ctl_r)
        self.pid = pid
        self._ctl = ctl_w
        self._evr = evr
        threading.Thread(target=self._read_events, daemon=True).start()
        self.wait_for("ready", timeout=10)
        return self

    def _read_events(self) -> None:
        buf = b""
        while True:
            data = os.read(self._evr, 65536)
            if not data:
                self._q.put(None)
                return
            buf += data
            while b"\n" in buf:
                line, _, buf = buf.partition(b"\n")
                self._q.put(json.loads(line))

    def send(self, cmd: str) -> None:
        os.write(self._ctl, (cmd + "\n").encode())

    def wait_for(self, kind: str, timeout: float = 10.0, **match) -> dict:
        """The next event of `kind` matching `match` (events are also kept in .events)."""
        deadline = time.monotonic() + timeout
        for ev in self.events:
            if ev.get("_seen") is None and ev["kind"] == kind and \
                    all(ev.get(k) == v for k, v in match.items()):
                ev["_seen"] = True
                return ev
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind} {match} within {timeout} s; events: "
                                     f"{[e['kind'] for e in self.events]}\nlog:\n{self.log()}")
            try:
                ev = self._q.get(timeout=left)
            except queue.Empty:
                continue
            if ev is None:
                raise AssertionError(f"supervisor exited before {kind} {match}\n{self.log()}")
            self.events.append(ev)
            if ev["kind"] == kind and all(ev.get(k) == v for k, v in match.items()):
                ev["_seen"] = True
                return ev

    def wait_count(self, kind: str, n: int, timeout: float = 10.0, **match) -> list[dict]:
        """Wait until at least n events of `kind` matching `match` have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.of(kind, **match)) < n:
            assert time.monotonic() < deadline, f"fewer than {n} {kind} {match}\n{self.log()}"
            self.drain(0.05)
        return self.of(kind, **match)

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                ev = self._q.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                break
            if ev is None:
                break
            self.events.append(ev)

    def of(self, kind: str, **match) -> list[dict]:
        return [e for e in self.events if e["kind"] == kind and
                all(e.get(k) == v for k, v in match.items())]

    def status(self) -> dict:
        self.send("status")
        return self.wait_for("status")

    def log(self) -> str:
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self) -> None:
        if self.pid is None:
            return
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        self.pid = None
        os.close(self._ctl)

    def join(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = None
                os.close(self._ctl)
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.01)
        raise AssertionError("supervisor process did not exit")


@pytest.fixture
def supervisor(tmp_path):
    procs: list[SupervisorProcess] = []

    def make(services, **kw) -> SupervisorProcess:
        p = SupervisorProcess(tmp_path, services, **kw)
        procs.append(p)
        return p.start()

    yield make
    for p in procs:
        p.stop()


def console_pty(tmp_path, active_line=lambda name: name):
    """A pty whose slave the fake sysfs (<tmp_path>/sys) names as the active console, the
    way 'console' resolves through <sysfs>/class/tty/console/active: (master fd, tty path).
    `active_line` writes the file's line from the tty's name (several consoles, say)."""
    import os
    master, slave = os.openpty()
    tty = os.ttyname(slave)
    os.close(slave)
    active = tmp_path / "sys/class/tty/console"
    active.mkdir(parents=True)
    (active / "active").write_text(active_line(tty[len("/dev/"):]) + "\n")
    return master, tty
