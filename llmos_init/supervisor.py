"""The supervisor: PID 1's event loop around the one reaper.

Services from services.toml (restart policy, exponential backoff, restart budget, tty),
power signals (SIGTERM/SIGINT -> reboot, SIGUSR1/SIGPWR -> halt, SIGUSR2 -> power-off),
timers and fd readers for the rest of PID 1 (kernel log, watchdog), the emergency console,
and the orderly shutdown. The other concerns have a file each:

  reaper.py      Child and Reaper: spawn() and the only os.waitpid() in llmos
  services.py    the service declarations (services.toml) and Service, one's runtime state
  shutdown.py    the shutdown sequence (also boot's last-resort emergency path)
  platform.py    Pid1Platform, the one adapter to the system calls boot and shutdown make
  consolelog.py  ConsoleLog, `[  0.412s] message` lines to the console and pid1.log

Runs as PID 1 (is_pid1=True: power actions are real reboot(2) calls and shutdown kills
with kill(-1, SIGKILL)) or, for tests and development, as an ordinary child subreaper
with an injected Platform that records power actions.

No subprocess module anywhere: Popen.wait() would race this reaper.
"""
from __future__ import annotations

import heapq
import itertools
import os
import selectors
import sys
import threading
import time
from collections import deque

from . import signals as signal  # _signal without the enums (signals.py)
from .commands import run as _run_command
from .consolelog import ConsoleLog, close_fd
from .platform import Pid1Platform
from .reaper import Child, Reaper
from .services import Service, ServiceSpec, ServicesConfig, llmos_main_args, resolve_tty
from .shutdown import Shutdown

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
                name = signal.name(sig)
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
            close_fd(fd)
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
        """Orderly shutdown (llmos_init/shutdown.py: the sequence), then the power action."""
        self._shutting_down = True
        for svc in self.services.values():
            if svc.timer is not None:
                svc.timer.cancel()
                svc.timer = None
        Shutdown(self.platform, self.log, is_pid1=self.is_pid1, reap=self.reaper.reap,
                 mounts=self.mounts, data_mount=self.data_mount,
                 remount_root_ro=self.remount_root_ro,
                 known_pids=lambda: [c.pid for c in self.reaper.children()],
                 event=self._event, guard=self._guard).run(
            action, stop=[("close emergency console", self._close_emergency),
                          ("stop services", self._stop_services)],
            closers=self._closers, before_power=self._powering)

    def _powering(self, action: str) -> None:
        self.power_done = action

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
    return _run_command(list(args))


def _signame(sig: int) -> str:
    try:
        return signal.name(sig)
    except ValueError:
        return f"signal {sig}"


def default_env() -> dict[str, str]:
    """The environment services start with (plus their own env table)."""
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/data", "LANG": "C.UTF-8",
            "TERM": os.environ.get("TERM", "linux")}
