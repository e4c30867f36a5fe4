"""The ONE reaper: spawn() and the only os.waitpid() in llmos.

  Child       one spawned process: .pid, .returncode, .wait(timeout) (thread-safe; the
              status is delivered by the reaper, never by a second waitpid).
  Reaper      spawn() + the only os.waitpid() in llmos. Usable in any process: PID 1 drives
              it from its event loop (SIGCHLD wakes the loop); the console process creates
              one with subreaper=True and start_thread() for its own children
              (start_program). Orphans re-parented to the process are reaped and counted.

No subprocess module anywhere: Popen.wait() would race this reaper.
"""
from __future__ import annotations

import errno
import os
import sys
import threading
import time

from . import signals as signal  # _signal without the enums (signals.py)
from .consolelog import close_fd, format_exc, write_all

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~0.1 s under QEMU TCG before the prompt
    from typing import Any, Callable, Iterable

# Signals a new program starts with at their default disposition (Python ignores
# SIGPIPE and SIGXFSZ; a console may ignore SIGINT; handlers reset on exec anyway).
_SPAWN_SIGDEF = frozenset(s for s in signal.valid_signals()
                          if s not in (signal.SIGKILL, signal.SIGSTOP) and s < signal.SIGRTMIN)


def decode_status(status: int) -> int:
    """Raw wait status -> exit code, or -signal when killed by a signal."""
    return os.waitstatus_to_exitcode(status)



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
                close_fd(fd)
            if tty_fd is not None:
                close_fd(tty_fd)

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
                close_fd(tty_fd)

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
                     + format_exc())

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
                close_fd(pidfd)

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
                self.log("reaper thread: " + format_exc())
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
            write_all(2, (format_exc() + "\n").encode("utf-8", "replace"))
            rc = 1
        _finalize_like_an_interpreter()
        if rc is None:
            code = 0
        elif isinstance(rc, int) and not isinstance(rc, bool):
            code = rc & 0xFF
        else:
            write_all(2, f"{rc}\n".encode("utf-8", "replace"))
            code = 1
    except BaseException:  # noqa: BLE001 - the child must never go back into the caller
        try:
            write_all(2, (format_exc() + "\n").encode("utf-8", "replace"))
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
