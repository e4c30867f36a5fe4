"""The supervisor: services, the ONE reaper, signals and orderly shutdown.

Pieces, from the bottom up:

  Child       one spawned process: .pid, .returncode, .wait(timeout) (thread-safe; the
              status is delivered by the reaper, never by a second waitpid).
  Reaper      spawn() + the only os.waitpid() in llmos. Usable in any process: PID 1 drives
              it from its event loop (SIGCHLD wakes the loop); the console process creates
              one with subreaper=True and start_thread() for its own children
              (start_program). Orphans re-parented to the process are reaped and counted.
  ConsoleLog  `[  0.412s] message` lines to the console, copied to /data/log/pid1.log.
  Supervisor  services from services.toml (restart policy, exponential backoff, restart
              budget, tty), power signals (SIGTERM/SIGINT -> reboot, SIGUSR1/SIGPWR ->
              halt, SIGUSR2 -> power-off), timers and fd readers for the rest of PID 1
              (kernel log, watchdog), the emergency console, and orderly shutdown.

Runs as PID 1 (is_pid1=True: power actions are real reboot(2) calls and shutdown kills
with kill(-1, SIGKILL)) or, for tests and development, as an ordinary child subreaper
with an injected Platform that records power actions.

No subprocess module anywhere: Popen.wait() would race this reaper.
"""
from __future__ import annotations

import errno
import heapq
import itertools
import os
import selectors
import signal
import sys
import threading
import time
from collections import deque

from .services import ServiceSpec, ServicesConfig, llmos_main_args, resolve_tty

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~0.1 s under QEMU TCG before the prompt
    from typing import Any, Callable, Iterable

# Signal -> power action, like erlinit and BusyBox init.
POWER_SIGNALS = {
    signal.SIGTERM: "reboot",
    signal.SIGINT: "reboot",      # Ctrl-Alt-Del once the kernel's hard reboot is off
    signal.SIGUSR1: "halt",
    signal.SIGPWR: "halt",
    signal.SIGUSR2: "poweroff",
}
POWER_ACTIONS = ("reboot", "poweroff", "halt")

QUICK_EXIT_S = 1.0          # a run shorter than this counts as a failed start
STABLE_RUN_S = 10.0         # a run at least this long resets the backoff delay
EMERGENCY_AFTER = 5         # consecutive failed starts of an essential tty service

# Signals a new program starts with at their default disposition (Python ignores
# SIGPIPE and SIGXFSZ; a console may ignore SIGINT; handlers reset on exec anyway).
_SPAWN_SIGDEF = frozenset(s for s in signal.valid_signals()
                          if s not in (signal.SIGKILL, signal.SIGSTOP) and s < signal.SIGRTMIN)


def decode_status(status: int) -> int:
    """Raw wait status -> exit code, or -signal when killed by a signal."""
    return os.waitstatus_to_exitcode(status)


# --------------------------------------------------------------------------- log


class ConsoleLog:
    """One line per message, `[  0.412s] message` (seconds since boot when PID 1:
    CLOCK_MONOTONIC), written to the console fd and appended to a log file once one is
    attached (/data/log/pid1.log). Never raises."""

    def __init__(self, fd: int = 2, *, clock: Callable[[], float] = time.monotonic):
        self.fd = fd
        self.clock = clock
        self._file_fd: int | None = None
        self.file_path: str | None = None
        self._lock = threading.Lock()

    def stamp(self, t: float | None = None) -> str:
        return f"[{self.clock() if t is None else t:8.3f}s]"

    def __call__(self, msg: str, *, t: float | None = None, console: bool = True) -> None:
        stamp = self.stamp(t)
        text = "".join(f"{stamp} {line}\n" for line in str(msg).splitlines() or [""])
        data = text.encode("utf-8", "replace")
        with self._lock:
            if console and self.fd is not None:
                _write_all(self.fd, data)
            if self._file_fd is not None:
                _write_all(self._file_fd, data)

    info = __call__

    def exception(self, msg: str) -> None:
        self(f"{msg}\n{_format_exc()}")

    def attach_file(self, path: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        with self._lock:
            old, self._file_fd, self.file_path = self._file_fd, fd, path
        if old is not None:
            _close(old)

    def detach_file(self) -> None:
        with self._lock:
            old, self._file_fd, self.file_path = self._file_fd, None, None
        if old is not None:
            _close(old)


def _format_exc() -> str:
    """traceback.format_exc(), imported only when there is one to format (traceback
    costs ~0.1 s under QEMU TCG on PID 1's way to the prompt)."""
    import traceback
    return traceback.format_exc().rstrip()


def _write_all(fd: int, data: bytes) -> None:
    try:
        while data:
            n = os.write(fd, data)
            data = data[n:]
    except OSError:
        pass


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


# --------------------------------------------------------------------------- children


class Child:
    """A process spawned through a Reaper. Its exit status is delivered by the reaper."""

    def __init__(self, reaper: "Reaper", pid: int, argv: list[str], owner: Any,
                 on_exit: Iterable[Callable[["Child"], None]] = ()):
        self.reaper = reaper
        self.pid = pid
        self.argv = argv
        self.owner = owner
        self.started = time.monotonic()
        self.ended: float | None = None
        self.status: int | None = None        # raw wait status
        self.returncode: int | None = None    # exit code, or -signal
        self._done = threading.Event()
        self._callbacks = list(on_exit)

    def __repr__(self) -> str:
        return f"<Child pid={self.pid} {self.argv[0]!r} rc={self.returncode}>"

    @property
    def running(self) -> bool:
        return self.returncode is None

    @property
    def runtime(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code (or -signal); None when `timeout` seconds pass first."""
        if self._done.is_set():
            return self.returncode
        if self.reaper.driven_elsewhere():
            self._done.wait(timeout)
        else:
            self.reaper._wait_inline(self, timeout)
        return self.returncode

    def add_exit_callback(self, fn: Callable[["Child"], None]) -> None:
        """fn(child) runs once, in the thread that reaps (immediately if already done)."""
        with self.reaper._lock:
            if not self._done.is_set():
                self._callbacks.append(fn)
                return
        fn(self)

    def send_signal(self, sig: int, *, group: bool = False) -> bool:
        """Signal the process (or its process group); False when it has already exited."""
        with self.reaper._lock:
            if self._done.is_set():
                return False
            try:
                if group:
                    try:
                        os.killpg(self.pid, sig)
                        return True
                    except ProcessLookupError:
                        pass
                os.kill(self.pid, sig)
                return True
            except ProcessLookupError:
                return False

    def terminate(self) -> bool:
        return self.send_signal(signal.SIGTERM)

    def kill(self) -> bool:
        return self.send_signal(signal.SIGKILL)

    def _finish(self, status: int) -> list[Callable[["Child"], None]]:
        self.status = status
        self.returncode = decode_status(status)
        self.ended = time.monotonic()
        self._done.set()
        callbacks, self._callbacks = self._callbacks, []
        return callbacks


def _fileno(obj: Any) -> int:
    return obj if isinstance(obj, int) else obj.fileno()


class Reaper:
    """spawn() and the one waitpid() loop of a process.

    Drive it either from an event loop (call reap() when SIGCHLD arrives, after
    set_driver(thread)) or with start_thread() (a daemon thread blocked in waitpid). Child
    statuses go to their Child objects (wait() and exit callbacks); unknown pids (orphans
    re-parented to this process) are reaped and counted in .orphans_reaped.
    """

    def __init__(self, *, subreaper: bool = False,
                 set_subreaper: Callable[[bool], None] | None = None,
                 log: Callable[[str], None] | None = None,
                 on_orphan: Callable[[int, int], None] | None = None):
        self._lock = threading.RLock()
        self._children: dict[int, Child] = {}
        self._have_children = threading.Condition(self._lock)
        self._driver: threading.Thread | None = None
        self.log = log or (lambda msg: None)
        self.on_orphan = on_orphan
        self.orphans_reaped = 0
        self.reaped = 0
        self.last_orphan_at: float | None = None
        self.first_orphan_at: float | None = None
        if subreaper:
            if set_subreaper is None:
                from .sys.process import set_child_subreaper as set_subreaper
            set_subreaper(True)

    # -- spawning

    def spawn(self, argv: list[str] | tuple[str, ...], *, env: dict[str, str] | None = None,
              cwd: str | None = None, stdin: Any = None, stdout: Any = None,
              stderr: Any = None, owner: Any = None, tty: str | None = None,
              new_session: bool = False, new_pgroup: bool = False,
              on_exit: Callable[[Child], None] | None = None) -> Child:
        """Start argv[0] (a path, or a name looked up in PATH) and register it.

        stdin/stdout/stderr: None (inherit) or an fd / object with fileno().
        tty: a terminal device that becomes the child's controlling tty and its fds
        0/1/2; the child is made a session leader (setsid) first.
        new_session: setsid(); new_pgroup: own process group (setpgid(0, 0)).
        Raises OSError when the program cannot be started (not found, not executable,
        tty cannot be opened); nothing is left behind then.
        """
        argv = [os.fsdecode(a) for a in argv]
        if not argv:
            raise ValueError("spawn: empty argv")
        env = dict(os.environ) if env is None else dict(env)
        fds = {0: stdin, 1: stdout, 2: stderr}
        tty_fd = None
        dup_fds: list[int] = []
        if tty is not None:
            new_session = True
            tty_fd = _prepare_tty(tty)
        try:
            sources: dict[int, int] = {}
            if tty is None:
                for target, src in fds.items():
                    if src is None:
                        continue
                    fd = _fileno(src)
                    if fd != target and fd in (0, 1, 2):
                        fd = os.dup(fd)      # avoid clobbering by an earlier dup2
                        dup_fds.append(fd)
                    sources[target] = fd
            with self._lock:
                if cwd is None:
                    pid = self._posix_spawn(argv, env, tty, sources, new_session, new_pgroup)
                else:
                    pid = self._fork_exec(argv, env, cwd, tty, sources, new_session, new_pgroup)
                child = Child(self, pid, argv, owner, [on_exit] if on_exit else ())
                self._children[pid] = child
                self._have_children.notify_all()
            return child
        finally:
            for fd in dup_fds:
                _close(fd)
            if tty_fd is not None:
                _close(tty_fd)

    def _posix_spawn(self, argv, env, tty, sources, new_session, new_pgroup) -> int:
        actions = []
        if tty is not None:
            actions = [(os.POSIX_SPAWN_OPEN, 0, tty, os.O_RDWR, 0),
                       (os.POSIX_SPAWN_DUP2, 0, 1), (os.POSIX_SPAWN_DUP2, 0, 2)]
        else:
            for target, fd in sources.items():
                if fd != target:
                    actions.append((os.POSIX_SPAWN_DUP2, fd, target))
                else:
                    os.set_inheritable(fd, True)
        kw: dict[str, Any] = dict(file_actions=actions, setsigdef=_SPAWN_SIGDEF, setsigmask=())
        if new_session:
            kw["setsid"] = True
        elif new_pgroup:
            kw["setpgroup"] = 0
        fn = os.posix_spawn if "/" in argv[0] else os.posix_spawnp
        return fn(argv[0], argv, env, **kw)

    def _fork_exec(self, argv, env, cwd, tty, sources, new_session, new_pgroup) -> int:
        """fork+exec, for the one thing posix_spawn cannot do here: a working directory.
        Exec errors come back through a close-on-exec pipe."""
        ignored = [s for s in _SPAWN_SIGDEF if signal.getsignal(s) == signal.SIG_IGN]
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: only os calls until exec
            stage = "setup"
            try:
                os.close(r)
                if new_session:
                    stage = "setsid"
                    os.setsid()
                elif new_pgroup:
                    os.setpgid(0, 0)
                if tty is not None:
                    stage = f"open {tty}"
                    fd = os.open(tty, os.O_RDWR)
                    for target in (0, 1, 2):
                        if fd != target:
                            os.dup2(fd, target)
                    if fd > 2:
                        os.close(fd)
                else:
                    for target, fd in sources.items():
                        os.dup2(fd, target, inheritable=True)
                stage = f"chdir {cwd}"
                os.chdir(cwd)
                for s in ignored:
                    signal.signal(s, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                stage = f"exec {argv[0]}"
                if "/" in argv[0]:
                    os.execve(argv[0], argv, env)
                else:
                    os.execvpe(argv[0], argv, env)
            except BaseException as e:  # noqa: BLE001 - report anything to the parent
                err = getattr(e, "errno", None) or errno.EIO
                try:
                    os.write(w, f"{err}:{stage}".encode("utf-8", "replace"))
                except BaseException:
                    pass
            finally:
                os._exit(127)
        os.close(w)
        try:
            chunks = []
            while True:
                try:
                    data = os.read(r, 512)
                except InterruptedError:
                    continue
                if not data:
                    break
                chunks.append(data)
        finally:
            os.close(r)
        if chunks:
            # Leave the dead child to the reaper as a registered, silent Child.
            self._children[pid] = Child(self, pid, argv, owner="<failed spawn>")
            err, _, stage = b"".join(chunks).decode("utf-8", "replace").partition(":")
            raise OSError(int(err), f"{os.strerror(int(err))} ({stage})", argv[0])
        return pid

    def fork_call(self, fn: Callable[[], int | None], argv: list[str] | tuple[str, ...], *,
                  env: dict[str, str] | None = None, cwd: str | None = None,
                  tty: str | None = None, new_session: bool = False, owner: Any = None,
                  on_exit: Callable[[Child], None] | None = None,
                  in_child: Callable[[], None] | None = None) -> Child:
        """Run fn() in a forked copy of this process instead of exec'ing a program: what a
        fresh interpreter would spend starting and importing is already done here.

        The child gets what an exec'd program would: default signal dispositions (Python's
        own for SIGINT, SIGPIPE and SIGXFSZ), an empty signal mask, no wakeup fd, fds
        0/1/2 only (the tty as controlling terminal when given, like spawn; else
        inherited), os.environ = env, the working directory, sys.argv = argv and argv as
        its /proc/PID/cmdline. in_child() (the caller's own clean-up, e.g. closing its
        files) runs first. fn's return value, or its SystemExit code, is the exit status;
        an exception is printed on fd 2 and exits 1. The child never returns into the
        caller's code (os._exit). Its status goes to the returned Child like a spawned
        one's. Fork only from a process with no other threads (PID 1): a lock held by
        another thread stays held in the child forever.
        """
        argv = [os.fsdecode(a) for a in argv]
        env = dict(os.environ) if env is None else dict(env)
        tty_fd = _prepare_tty(tty) if tty is not None else None
        if tty is not None:
            new_session = True
        for f in (sys.stdout, sys.stderr):       # nothing buffered is written twice
            try:
                if f is not None:
                    f.flush()
            except Exception:  # noqa: BLE001
                pass
        try:
            with self._lock:
                pid = os.fork()
                if pid == 0:
                    _forked_child(fn, argv, env, cwd, tty, new_session, in_child)  # never returns
                child = Child(self, pid, argv, owner, [on_exit] if on_exit else ())
                self._children[pid] = child
                self._have_children.notify_all()
            return child
        finally:
            if tty_fd is not None:
                _close(tty_fd)

    # -- reaping

    def set_driver(self, thread: threading.Thread | None) -> None:
        """Declare the thread that calls reap() (an event loop)."""
        self._driver = thread

    def driven_elsewhere(self) -> bool:
        d = self._driver
        return d is not None and d is not threading.current_thread() and d.is_alive()

    def reap(self) -> int:
        """Reap every child that has exited (non-blocking); returns how many."""
        n = 0
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            if pid == 0:
                break
            self._dispatch(pid, status)
            n += 1
        return n

    def _dispatch(self, pid: int, status: int) -> None:
        with self._lock:
            self.reaped += 1
            child = self._children.pop(pid, None)
            if child is None:
                self.orphans_reaped += 1
                now = time.monotonic()
                self.last_orphan_at = now
                if self.first_orphan_at is None:
                    self.first_orphan_at = now
                callbacks = []
            else:
                callbacks = child._finish(status)
        if child is None:
            if self.on_orphan is not None:
                self._call(self.on_orphan, pid, status)
            return
        for fn in callbacks:
            self._call(fn, child)

    def _call(self, fn, *args) -> None:
        try:
            fn(*args)
        except Exception:  # a bad handler must not stop reaping
            self.log(f"reaper: exit handler {getattr(fn, '__qualname__', fn)!r} failed:\n"
                     + _format_exc())

    def _wait_inline(self, child: Child, timeout: float | None) -> None:
        """wait() in the driving thread (or with no driver): reap here until done."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pidfd = None
        try:
            try:
                pidfd = os.pidfd_open(child.pid)
            except (OSError, AttributeError):
                pidfd = None
            while not child._done.is_set():
                self.reap()
                if child._done.is_set():
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                if pidfd is not None:
                    import select
                    p = select.poll()
                    p.register(pidfd, select.POLLIN)
                    p.poll(None if left is None else max(1, int(left * 1000)))
                else:
                    time.sleep(0.01 if left is None else min(0.01, left))
        finally:
            if pidfd is not None:
                _close(pidfd)

    def start_thread(self) -> threading.Thread:
        """Reap in a daemon thread (for processes without an event loop)."""
        with self._lock:
            if self._driver is not None and self._driver.is_alive():
                return self._driver
            t = threading.Thread(target=self._thread_main, name="reaper", daemon=True)
            self._driver = t
        t.start()
        return t

    def _thread_main(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                with self._lock:
                    self._have_children.wait(0.5 if not self._children else 0.05)
                continue
            except InterruptedError:
                continue
            except Exception:
                self.log("reaper thread: " + _format_exc())
                time.sleep(0.1)
                continue
            self._dispatch(pid, status)

    def children(self) -> list[Child]:
        with self._lock:
            return list(self._children.values())


def _forked_child(fn, argv, env, cwd, tty, new_session, in_child) -> None:
    """The child side of Reaper.fork_call: set up like a freshly exec'd program, run fn,
    exit. Never returns, whatever happens."""
    code = 1
    try:
        try:   # what was inherited is the parent's: the child's collections leave it alone
            import gc    # (no traversal of it, no copy-on-write of its pages for the GC)
            gc.freeze()
        except Exception:  # noqa: BLE001
            pass
        try:
            signal.set_wakeup_fd(-1)
        except (ValueError, OSError):
            pass
        for s in _SPAWN_SIGDEF:
            try:
                signal.signal(s, signal.SIG_DFL)
            except (OSError, ValueError, RuntimeError):
                pass
        # what a fresh interpreter starts with
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for s in (getattr(signal, "SIGPIPE", None), getattr(signal, "SIGXFSZ", None)):
            if s is not None:
                signal.signal(s, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        if in_child is not None:
            in_child()
        if new_session:
            os.setsid()
        if tty is not None:
            fd = os.open(tty, os.O_RDWR)      # session leader: it becomes the ctty
            for target in (0, 1, 2):
                if fd != target:
                    os.dup2(fd, target)
            if fd > 2:
                os.close(fd)
        os.closerange(3, _max_fd())
        if cwd is not None:
            os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        try:   # as a starting interpreter does, from the new environment (LANG=C.UTF-8)
            import _locale
            _locale.setlocale(_locale.LC_CTYPE, "")
        except Exception:  # noqa: BLE001 - an unknown locale: C, like Python's fallback
            pass
        sys.argv = list(argv)
        try:   # what `list processes` shows: the command and name an exec would give
            from .sys.process import set_cmdline, set_name
            set_name(os.path.basename(argv[0]) or argv[0])
            set_cmdline(argv)
        except Exception:  # noqa: BLE001
            pass
        try:
            rc = fn()
        except SystemExit as e:
            rc = e.code
        except KeyboardInterrupt:
            rc = 130
        except BaseException:  # noqa: BLE001 - printed like an uncaught exception
            _write_all(2, (_format_exc() + "\n").encode("utf-8", "replace"))
            rc = 1
        _finalize_like_an_interpreter()
        if rc is None:
            code = 0
        elif isinstance(rc, int) and not isinstance(rc, bool):
            code = rc & 0xFF
        else:
            _write_all(2, f"{rc}\n".encode("utf-8", "replace"))
            code = 1
    except BaseException:  # noqa: BLE001 - the child must never go back into the caller
        try:
            _write_all(2, (_format_exc() + "\n").encode("utf-8", "replace"))
        except BaseException:  # noqa: BLE001
            pass
        code = 1
    finally:
        try:
            for f in (sys.stdout, sys.stderr):
                if f is not None:
                    f.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(code)


def _finalize_like_an_interpreter() -> None:
    """What an exec'd program's interpreter does before it exits, and os._exit skips:
    wait for its non-daemon threads, run its atexit handlers."""
    me = threading.current_thread()
    for t in threading.enumerate():
        if t is not me and not t.daemon:
            try:
                t.join()
            except Exception:  # noqa: BLE001
                pass
    try:
        import atexit
        atexit._run_exitfuncs()
    except Exception:  # noqa: BLE001
        pass


def _max_fd() -> int:
    try:
        return min(os.sysconf("SC_OPEN_MAX"), 1 << 20)
    except (ValueError, OSError):
        return 1024


def _prepare_tty(path: str) -> int:
    """Open the tty in the parent without making it ours (O_NOCTTY, O_NONBLOCK) and set
    CLOCAL, so the child's blocking open cannot hang waiting for a modem carrier (the
    parent is suspended until the child execs). Returns the fd (closed after spawn)."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        import termios
        attrs = termios.tcgetattr(fd)
        if not attrs[2] & termios.CLOCAL:
            attrs[2] |= termios.CLOCAL
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
    except Exception:  # not a terminal with modem lines (pty, vt): nothing to do
        pass
    return fd


# --------------------------------------------------------------------------- platform


class Pid1Platform:
    """The real power and filesystem actions of PID 1 (llmos_init.sys, lazily)."""

    def sync(self) -> None:
        from .sys.system import sync
        sync()

    def umount(self, target: str) -> None:
        from .sys.mounts import umount
        umount(target)

    def remount_ro(self, target: str) -> None:
        from .sys.mounts import MS_RDONLY, MS_REMOUNT, mount
        mount(None, target, None, MS_REMOUNT | MS_RDONLY)

    def power(self, action: str) -> None:
        from .sys import power
        {"reboot": power.restart, "poweroff": power.poweroff, "halt": power.halt}[action]()


# --------------------------------------------------------------------------- services


class Service:
    """Runtime state of one declared service."""

    def __init__(self, spec: ServiceSpec):
        self.spec = spec
        self.name = spec.name
        self.child: Child | None = None
        self.state = "stopped"   # stopped|running|backoff|failed|exited|emergency
        self.starts = 0
        self.restarts: deque[float] = deque()    # restart times within the window
        self.delay: float | None = None          # last backoff delay
        self.failed_starts = 0                   # consecutive (spawn error or quick exit)
        self.last_runtime = 0.0
        self.last_returncode: int | None = None
        self.timer: "_Timer | None" = None
        self.budget_exhausted = False
        self.stopping = False

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "pid": self.child.pid if self.child
                else None, "starts": self.starts, "last_returncode": self.last_returncode,
                "failed_starts": self.failed_starts}


class _Timer:
    __slots__ = ("when", "seq", "fn", "name", "cancelled")

    def __init__(self, when, seq, fn, name):
        self.when, self.seq, self.fn, self.name, self.cancelled = when, seq, fn, name, False

    def __lt__(self, other: "_Timer") -> bool:
        return (self.when, self.seq) < (other.when, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


class Supervisor:
    """Services, signals, timers and orderly shutdown around one Reaper.

    run() is the event loop. As PID 1 it never returns; in test mode (is_pid1=False) it
    returns the power action after the orderly shutdown, with power and filesystem
    actions performed by the injected `platform` (an object with sync(), umount(target),
    remount_ro(target) and power(action)).
    """

    def __init__(self, config: ServicesConfig, *, is_pid1: bool | None = None,
                 platform: Any = None, log: Callable[[str], None] | None = None,
                 subreaper: bool | None = None,
                 set_subreaper: Callable[[bool], None] | None = None,
                 mounts: Iterable[str] = (), data_mount: str | None = "/data",
                 sysfs: str = "/sys", base_env: dict[str, str] | None = None,
                 on_event: Callable[[str, dict], None] | None = None,
                 emergency_info: dict[str, str] | None = None,
                 pending_signals: Iterable[int] = (),
                 remount_root_ro: bool | None = None):
        self.config = config
        self.is_pid1 = (os.getpid() == 1) if is_pid1 is None else is_pid1
        if platform is None:
            if not self.is_pid1:
                raise ValueError("Supervisor: a platform must be injected when not PID 1")
            platform = Pid1Platform()
        self.platform = platform
        self.log = log or ConsoleLog()
        self.reaper = Reaper(subreaper=(not self.is_pid1) if subreaper is None else subreaper,
                             set_subreaper=set_subreaper, log=self.log)
        self.mounts = list(mounts)           # in mount order
        self.data_mount = data_mount
        self.sysfs = sysfs
        self.base_env = dict(base_env) if base_env is not None else default_env()
        self.on_event = on_event
        self.emergency_info = emergency_info or {}
        self.services: dict[str, Service] = {s.name: Service(s) for s in config.services}
        self.power_request: str | None = None
        self.power_done: str | None = None
        self.handler_errors = 0
        self.started_at = time.monotonic()
        self.remount_root_ro = self.is_pid1 if remount_root_ro is None else remount_root_ro
        # the same deque PID 1's early handlers append to, so no signal is lost
        self._pending_signals: deque[int] = (pending_signals if isinstance(pending_signals, deque)
                                             else deque(pending_signals))
        self._timers: list[_Timer] = []
        self._seq = itertools.count()
        self._sel = selectors.DefaultSelector()
        self._readers: dict[int, Callable[[], None]] = {}
        self._closers: list[tuple[str, Callable[[], None]]] = []
        self._child_cleanups: list[Callable[[], None]] = []
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._signals_installed = False
        self._services_started = False
        self._shutting_down = False
        self._emergency: Any = None
        self._emergency_service: Service | None = None
        for err in config.errors:
            self.log(f"services.toml: {err}")

    # -- events, timers, readers (also used by boot: kernel log, watchdog)

    def _event(self, kind: str, **data: Any) -> None:
        if self.on_event is not None:
            try:
                self.on_event(kind, data)
            except Exception:
                self.handler_errors += 1
                self.log.exception(f"supervisor: event hook failed on {kind}")

    def call_later(self, delay: float, fn: Callable[[], None], name: str = "") -> _Timer:
        t = _Timer(time.monotonic() + max(0.0, delay), next(self._seq), fn,
                   name or getattr(fn, "__qualname__", "timer"))
        heapq.heappush(self._timers, t)
        return t

    def call_every(self, interval: float, fn: Callable[[], None], name: str = "") -> None:
        """fn() every `interval` seconds (also during shutdown), starting now."""
        def tick():
            try:
                fn()
            finally:
                self.call_later(interval, tick, name)
        self.call_later(0, tick, name)

    def add_reader(self, fd: int, fn: Callable[[], None]) -> None:
        self.remove_reader(fd)
        self._sel.register(fd, selectors.EVENT_READ, fn)
        self._readers[fd] = fn

    def remove_reader(self, fd: int) -> None:
        if self._readers.pop(fd, None) is not None:
            try:
                self._sel.unregister(fd)
            except (KeyError, ValueError, OSError):
                pass

    def add_closer(self, name: str, fn: Callable[[], None]) -> None:
        """fn() runs at shutdown before filesystems are unmounted (close files on /data)."""
        self._closers.append((name, fn))

    def spawn(self, argv, **kw) -> Child:
        """Start a supervised child for other code in this process (e.g. a tool); see
        Reaper.spawn. Its status goes to the returned Child."""
        return self.reaper.spawn(argv, **kw)

    def request_power(self, action: str) -> None:
        if action not in POWER_ACTIONS:
            raise ValueError(f"unknown power action {action!r}")
        if self.power_request is None:
            self.power_request = action
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"\0")
        except OSError:
            pass

    # -- signals

    def install_signals(self) -> None:
        """Handlers only record the signal; the loop acts on it. Must run in the main
        thread."""
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        for sig in (signal.SIGCHLD, signal.SIGHUP, *POWER_SIGNALS):
            signal.signal(sig, self._on_signal)
        if self.is_pid1:
            for sig in (signal.SIGQUIT, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
                signal.signal(sig, signal.SIG_IGN)   # PID 1 must not stop or dump
        self._signals_installed = True

    def _on_signal(self, signum: int, frame: Any) -> None:
        try:
            self._pending_signals.append(signum)
        except Exception:
            pass

    def _handle_signals(self) -> None:
        while self._pending_signals:
            sig = self._pending_signals.popleft()
            action = POWER_SIGNALS.get(sig)
            if action is not None:
                name = signal.Signals(sig).name
                self.log(f"signal {name}: {action} requested")
                self._event("signal", signal=name, action=action)
                if self.power_request is None:
                    self.power_request = action
            elif sig == signal.SIGHUP:
                self.log("signal SIGHUP: ignored")

    # -- the loop

    def run(self) -> str | None:
        """The event loop. PID 1: never returns. Test mode: returns the power action once
        the orderly shutdown has been performed."""
        self.reaper.set_driver(threading.current_thread())
        if threading.current_thread() is threading.main_thread():
            self.install_signals()
        if not self._services_started:
            self._services_started = True
            self.start_services()
        while True:
            self.pump(None)
            if self.power_request is not None and not self._shutting_down:
                action = self.power_request
                self._guard("shutdown", self.shutdown, action)
                if not self.is_pid1:
                    return action
                # reboot(2) does not return; if it did, keep supervising and try again
                self.log(f"shutdown: {action} did not happen; retrying in 5 s")
                self._shutting_down = False
                self.power_request = None
                self.call_later(5.0, lambda a=action: self.request_power(a), "power retry")

    def pump(self, max_wait: float | None) -> None:
        """One loop iteration: wait for a signal, fd or timer, then handle them. Every
        handler is guarded: an exception is logged and the loop goes on."""
        try:
            timeout = self._next_timeout(max_wait)
            try:
                events = self._sel.select(timeout)
            except InterruptedError:
                events = []
            for key, _ in events:
                if key.data is None:
                    self._drain_wakeup()
                else:
                    self._guard(f"reader fd {key.fd}", key.data)
            self._guard("signals", self._handle_signals)
            self._guard("reap", self.reaper.reap)
            self._run_timers()
        except Exception:
            self.handler_errors += 1
            self.log.exception("supervisor: loop iteration failed (continuing)")
            time.sleep(0.05)

    def _guard(self, what: str, fn: Callable, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception:
            self.handler_errors += 1
            self.log.exception(f"supervisor: {what} failed (continuing)")
            return None

    def _drain_wakeup(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _next_timeout(self, max_wait: float | None) -> float | None:
        if self._pending_signals or (self.power_request and not self._shutting_down):
            return 0
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        timeout = max_wait
        if self._timers:
            t = max(0.0, self._timers[0].when - time.monotonic())
            timeout = t if timeout is None else min(timeout, t)
        return timeout

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0].when <= now:
            t = heapq.heappop(self._timers)
            if not t.cancelled:
                self._guard(f"timer {t.name}", t.fn)

    # -- services

    def start_services(self) -> None:
        for svc in self.services.values():
            self._guard(f"start {svc.name}", self.start_service, svc)

    def start_service(self, svc: Service) -> Child | None:
        spec = svc.spec
        if svc.timer is not None:
            svc.timer.cancel()
            svc.timer = None
        if self._shutting_down or (svc.child is not None and svc.child.running):
            return svc.child
        env = dict(self.base_env)
        env.update(spec.env)
        tty = resolve_tty(spec.tty, sysfs=self.sysfs) if spec.tty else None
        svc.starts += 1
        svc.stopping = False
        on_exit = lambda c, s=svc: self._service_exited(s, c)  # noqa: E731
        try:
            args = self._fork_args(spec)
            if args is not None:
                child = self.reaper.fork_call(lambda a=args: _llmos_main(a), list(spec.command),
                                              env=env, cwd=spec.cwd, tty=tty, new_session=True,
                                              owner=svc, on_exit=on_exit,
                                              in_child=self._in_forked_child)
            else:
                child = self.reaper.spawn(list(spec.command), env=env, cwd=spec.cwd, tty=tty,
                                          new_session=True, owner=svc, on_exit=on_exit)
        except OSError as e:
            svc.failed_starts += 1
            svc.last_returncode = None
            self.log(f"service {svc.name}: cannot start {spec.command[0]}: {e}")
            self._event("start_failed", service=svc.name, error=str(e))
            self._after_exit(svc, failed=True)
            return None
        svc.child = child
        svc.state = "running"
        self.log(f"service {svc.name}: started, pid {child.pid}" + (f" on {tty}" if tty else ""))
        self._event("start", service=svc.name, pid=child.pid, argv=child.argv, tty=tty)
        return child

    def _fork_args(self, spec: ServiceSpec) -> list[str] | None:
        """The llmos_init sub-command a `fork = true` service runs in a forked copy of this
        process; None: exec its command (not such a service, not this interpreter, or
        other threads running, which a fork would copy in whatever state their locks are)."""
        if not spec.fork:
            return None
        args = llmos_main_args(spec.command)
        if args is None or threading.active_count() > 1:
            return None
        try:
            if os.path.realpath(spec.command[0]) != os.path.realpath(sys.executable or ""):
                return None
        except (OSError, ValueError):
            return None
        return args

    def _in_forked_child(self) -> None:
        """In a forked service, before it runs: let go of this supervisor's own fds (the
        rest are closed by number after this)."""
        try:
            self._sel.close()
        except Exception:  # noqa: BLE001
            pass
        for fd in (self._wake_r, self._wake_w):
            _close(fd)
        for fn in self._child_cleanups:
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass

    def add_child_cleanup(self, fn: Callable[[], None]) -> None:
        """fn() runs in every forked service before it starts (close an object's fd in the
        child, e.g. a file on /data, so that no finalizer of it ever runs there)."""
        self._child_cleanups.append(fn)

    def _service_exited(self, svc: Service, child: Child) -> None:
        if svc.child is child:
            svc.child = None
        rc = child.returncode
        svc.last_returncode = rc
        svc.last_runtime = child.runtime
        how = f"exit code {rc}" if rc >= 0 else f"killed by {_signame(-rc)}"
        self.log(f"service {svc.name}: pid {child.pid} ended ({how}) after {svc.last_runtime:.2f} s")
        self._event("exit", service=svc.name, pid=child.pid, returncode=rc,
                    runtime=svc.last_runtime)
        if self._shutting_down or svc.stopping:
            svc.state = "stopped"
            return
        quick = svc.last_runtime < QUICK_EXIT_S and rc != 0
        svc.failed_starts = svc.failed_starts + 1 if quick else 0
        if not svc.spec.wants_restart(rc):
            svc.state = "exited"
            self.log(f"service {svc.name}: not restarted (restart = \"{svc.spec.restart}\")")
            return
        self._after_exit(svc, failed=False)

    def _after_exit(self, svc: Service, *, failed: bool) -> None:
        """Schedule the restart (backoff + budget), or give up, or go to emergency."""
        spec = svc.spec
        if self._shutting_down:
            svc.state = "stopped"
            return
        if (spec.essential and spec.tty and svc.failed_starts >= EMERGENCY_AFTER):
            self._enter_emergency(svc)
            return
        now = time.monotonic()
        while svc.restarts and now - svc.restarts[0] > spec.window_s:
            svc.restarts.popleft()
        if not failed and svc.last_runtime >= max(STABLE_RUN_S, spec.backoff_max):
            svc.delay = None
        delay = spec.backoff_initial if svc.delay is None else min(svc.delay * 2,
                                                                    spec.backoff_max)
        if len(svc.restarts) >= spec.max_restarts:
            if not spec.essential:
                svc.state = "failed"
                self.log(f"service {svc.name}: {len(svc.restarts)} restarts within "
                         f"{spec.window_s:g} s; giving up")
                self._event("failed", service=svc.name)
                return
            if not svc.budget_exhausted:
                self.log(f"service {svc.name}: restart budget exhausted; restarting it "
                         f"every {spec.backoff_max:g} s (essential)")
            svc.budget_exhausted = True
            delay = spec.backoff_max
        else:
            svc.budget_exhausted = False
        svc.delay = delay
        svc.state = "backoff"
        self._event("restart_scheduled", service=svc.name, delay=delay)
        svc.timer = self.call_later(delay, lambda s=svc: self._restart(s), f"restart {svc.name}")

    def _restart(self, svc: Service) -> None:
        svc.timer = None
        if self._shutting_down or svc.state != "backoff":
            return
        svc.restarts.append(time.monotonic())
        self.start_service(svc)

    # -- emergency console

    def _enter_emergency(self, svc: Service) -> None:
        from .emergency import EmergencyConsole
        svc.state = "emergency"
        tty = resolve_tty(svc.spec.tty, sysfs=self.sysfs) if svc.spec.tty else "/dev/console"
        reason = (f"the {svc.name} service failed to start {svc.failed_starts} times in a "
                  f"row (last exit: {svc.last_returncode})")
        self.log(f"service {svc.name}: cannot be started; emergency console on {tty}")
        try:
            fd = os.open(tty, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            self.log(f"emergency console: cannot open {tty}: {e}; retrying the service "
                     f"every {svc.spec.backoff_max:g} s")
            svc.state = "backoff"
            svc.timer = self.call_later(svc.spec.backoff_max, lambda: self._restart(svc))
            return
        self._emergency_service = svc
        self._emergency = EmergencyConsole(fd, on_action=self._emergency_action, reason=reason,
                                           **self.emergency_info)
        self.add_reader(fd, self._emergency.on_readable)
        self._emergency.start()
        self._event("emergency", service=svc.name, tty=tty)

    def _close_emergency(self) -> None:
        if self._emergency is not None:
            self.remove_reader(self._emergency.fd)
            self._emergency.close()
            self._emergency = None

    def _emergency_action(self, action: str) -> None:
        if action == "retry":
            svc = self._emergency_service
            self._close_emergency()
            self._emergency_service = None
            if svc is not None:
                self.log(f"emergency console: retrying service {svc.name}")
                svc.failed_starts = 0
                svc.restarts.clear()
                svc.delay = None
                svc.state = "stopped"
                self.start_service(svc)
        elif action in POWER_ACTIONS:
            self.request_power(action)

    # -- shutdown

    def shutdown(self, action: str) -> None:
        """Orderly shutdown, then the power action. Each step is logged and guarded."""
        self._shutting_down = True
        t0 = time.monotonic()
        self.log(f"shutdown: {action}")
        self._event("shutdown", action=action)
        for svc in self.services.values():
            if svc.timer is not None:
                svc.timer.cancel()
                svc.timer = None
        self._guard("close emergency console", self._close_emergency)
        self._guard("stop services", self._stop_services)
        self._guard("kill remaining processes", self._kill_remaining)
        for name, fn in self._closers:
            self._guard(f"close {name}", fn)
        self._step("sync", self.platform.sync)
        detach = getattr(self.log, "detach_file", None)
        if detach is not None:      # pid1.log lives on /data
            self._guard("close pid1.log", detach)
        self._guard("unmount", self._unmount_all)
        if self.remount_root_ro:
            self._step("remount / read-only", self.platform.remount_ro, "/")
        self._step("sync", self.platform.sync)
        self.log(f"shutdown: done in {time.monotonic() - t0:.2f} s; {action} now")
        self._event("power", action=action)
        self.power_done = action
        self.platform.power(action)

    def _step(self, name: str, fn: Callable, *args) -> bool:
        try:
            fn(*args)
        except Exception as e:
            self.log(f"shutdown: {name} failed: {e}")
            self._event("step", name=name, ok=False, error=str(e))
            return False
        self._event("step", name=name, ok=True)
        return True

    def _stop_services(self) -> None:
        grace = self.config.shutdown_grace_s
        stopping: list[Child] = []
        for svc in reversed(list(self.services.values())):
            child = svc.child
            if child is None or not child.running:
                continue
            svc.stopping = True
            sig = svc.spec.stop_signal
            self.log(f"shutdown: stopping {svc.name} (pid {child.pid}, {_signame(sig)})")
            self._event("stop", service=svc.name, pid=child.pid, signal=sig)
            if child.send_signal(sig, group=True):
                stopping.append(child)
        others = [c for c in self.reaper.children() if not isinstance(c.owner, Service)]
        for child in others:
            if child.send_signal(signal.SIGTERM, group=False):
                stopping.append(child)
        deadline = time.monotonic() + grace
        while any(c.running for c in stopping) and time.monotonic() < deadline:
            self.pump(min(0.05, max(0.0, deadline - time.monotonic())))
        left = [c for c in stopping if c.running]
        if left:
            self.log(f"shutdown: {len(left)} process(es) ignored the stop signal for "
                     f"{grace:g} s: " + ", ".join(str(c.pid) for c in left))
        else:
            self.log(f"shutdown: services stopped in {time.monotonic() - deadline + grace:.2f} s")

    def _kill_remaining(self) -> None:
        """SIGKILL to every process left (kill(-1) as PID 1; our descendants otherwise),
        then reap until none is left (at most 3 s)."""
        deadline = time.monotonic() + 3.0
        killed = 0
        while time.monotonic() < deadline:
            if self.is_pid1:
                try:
                    os.kill(-1, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
            else:
                for pid in self._our_children():
                    try:
                        os.kill(pid, signal.SIGKILL)
                        killed += 1
                    except ProcessLookupError:
                        pass
            self.reaper.reap()
            if not self._has_children():
                break
            time.sleep(0.01)
        self._event("killed", count=killed)
        if self._has_children():
            self.log("shutdown: some processes could not be reaped")
        elif killed:
            self.log("shutdown: remaining processes killed and reaped")

    def _has_children(self) -> bool:
        """True while any child (running or zombie) is left."""
        try:
            os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return True

    def _our_children(self) -> list[int]:
        me = os.getpid()
        pids = []
        try:
            names = os.listdir("/proc")
        except OSError:
            return [c.pid for c in self.reaper.children()]
        for name in names:
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2:].split()
            if len(fields) > 1 and int(fields[1]) == me:
                pids.append(int(name))
        return pids

    def _unmount_all(self) -> None:
        """Reverse mount order, the data partition last; read-only remount when busy."""
        order = list(reversed(self.mounts))
        if self.data_mount in order:
            order.remove(self.data_mount)
            order.append(self.data_mount)
        for target in order:
            try:
                self.platform.umount(target)
                self.log(f"shutdown: unmounted {target}")
                self._event("umount", target=target, ok=True)
            except OSError as e:
                self._event("umount", target=target, ok=False, error=str(e))
                try:
                    self.platform.remount_ro(target)
                    self.log(f"shutdown: {target} busy ({e.strerror}); remounted read-only")
                    self._event("remount_ro", target=target, ok=True)
                except OSError as e2:
                    self.log(f"shutdown: cannot unmount or remount {target} read-only: {e2}")
                    self._event("remount_ro", target=target, ok=False, error=str(e2))

    # -- introspection

    def status(self) -> dict[str, Any]:
        return {"services": [s.info() for s in self.services.values()],
                "orphans_reaped": self.reaper.orphans_reaped,
                "reaped": self.reaper.reaped,
                "first_orphan_at": self.reaper.first_orphan_at,
                "last_orphan_at": self.reaper.last_orphan_at,
                "handler_errors": self.handler_errors,
                "power_request": self.power_request,
                "emergency": self._emergency is not None}


def _llmos_main(args: list[str]) -> int:
    """A forked service's body: `python -m llmos_init ARGS` without the new interpreter."""
    from .__main__ import main
    return main(list(args))


def _signame(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def default_env() -> dict[str, str]:
    """The environment services start with (plus their own env table)."""
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/data", "LANG": "C.UTF-8",
            "TERM": os.environ.get("TERM", "linux")}
