"""The shutdown sequence, written once. The supervisor's orderly shutdown and boot's
last-resort emergency path (when no supervisor could run) both go through `Shutdown.run`:

  1. the caller's own stop steps (the supervisor: its emergency console, then its services
     with their grace period; the last resort: SIGTERM to every process, one second);
  2. SIGKILL to every process left, reaped until none is (at most 3 s);
  3. the caller's closers (kernel log, watchdog...);
  4. sync; the log file closed (pid1.log lives on /data);
  5. unmount in reverse mount order, the data partition last, a busy one remounted
     read-only; / remounted read-only when asked; sync again;
  6. the power action.

Each step is logged and guarded: a failing step never stops the ones after it.
"""
from __future__ import annotations

import os
import time

from . import signals as signal  # _signal without the enums (signals.py)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~0.1 s under QEMU TCG before the prompt
    from typing import Any, Callable, Iterable

KILL_WAIT_S = 3.0       # how long SIGKILL and reaping go on while children are left
LAST_RESORT_GRACE_S = 1.0


class Shutdown:
    """One shutdown: the platform's power and filesystem actions, and the log.

    reap()          reaps what has exited (the reaper's, or a bare waitpid loop)
    known_pids()    our children's pids when /proc cannot be read (not PID 1 only)
    event(kind, **data) and guard(what, fn, *args) are the supervisor's hooks; without
    them nothing is reported and a failing step is only logged.
    """

    def __init__(self, platform: Any, log: Callable[[str], None], *, is_pid1: bool,
                 reap: Callable[[], Any], mounts: Iterable[str] = (),
                 data_mount: str | None = "/data", remount_root_ro: bool = False,
                 known_pids: Callable[[], list[int]] = list,
                 event: Callable[..., None] | None = None,
                 guard: Callable[..., Any] | None = None):
        self.platform = platform
        self.log = log
        self.is_pid1 = is_pid1
        self.reap = reap
        self.mounts = list(mounts)           # in mount order
        self.data_mount = data_mount
        self.remount_root_ro = remount_root_ro
        self.known_pids = known_pids
        self.event = event or (lambda kind, **data: None)
        self.guard = guard or self._logged

    def run(self, action: str, *, stop: Iterable[tuple[str, Callable[[], None]]] = (),
            closers: Iterable[tuple[str, Callable[[], None]]] = (),
            before_power: Callable[[str], None] | None = None) -> None:
        """The whole sequence, then platform.power(action) (which does not return as PID 1)."""
        t0 = time.monotonic()
        self.log(f"shutdown: {action}")
        self.event("shutdown", action=action)
        for name, fn in stop:
            self.guard(name, fn)
        self.guard("kill remaining processes", self.kill_remaining)
        for name, fn in closers:
            self.guard(f"close {name}", fn)
        self.step("sync", self.platform.sync)
        detach = getattr(self.log, "detach_file", None)
        if detach is not None:      # pid1.log lives on /data
            self.guard("close pid1.log", detach)
        self.guard("unmount", self.unmount_all)
        if self.remount_root_ro:
            self.step("remount / read-only", self.platform.remount_ro, "/")
        self.step("sync", self.platform.sync)
        self.log(f"shutdown: done in {time.monotonic() - t0:.2f} s; {action} now")
        self.event("power", action=action)
        if before_power is not None:
            before_power(action)
        self.platform.power(action)

    def _logged(self, what: str, fn: Callable, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as e:
            self.log(f"shutdown: {what} failed: {e}")
            return None

    def step(self, name: str, fn: Callable, *args) -> bool:
        try:
            fn(*args)
        except Exception as e:
            self.log(f"shutdown: {name} failed: {e}")
            self.event("step", name=name, ok=False, error=str(e))
            return False
        self.event("step", name=name, ok=True)
        return True

    def terminate_all(self, grace: float = LAST_RESORT_GRACE_S) -> None:
        """SIGTERM to every process (PID 1 only), then a grace period: the last resort's
        stop step, where no supervisor knows the services."""
        try:
            os.kill(-1, signal.SIGTERM)
        except OSError:
            return
        time.sleep(grace)

    def kill_remaining(self) -> None:
        """SIGKILL to every process left (kill(-1) as PID 1; our descendants otherwise),
        then reap until none is left (at most KILL_WAIT_S)."""
        deadline = time.monotonic() + KILL_WAIT_S
        killed = 0
        while time.monotonic() < deadline:
            if self.is_pid1:
                try:
                    os.kill(-1, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
            else:
                for pid in self.our_children():
                    try:
                        os.kill(pid, signal.SIGKILL)
                        killed += 1
                    except ProcessLookupError:
                        pass
            self.reap()
            if not has_children():
                break
            time.sleep(0.01)
        self.event("killed", count=killed)
        if has_children():
            self.log("shutdown: some processes could not be reaped")
        elif killed:
            self.log("shutdown: remaining processes killed and reaped")

    def our_children(self) -> list[int]:
        me = os.getpid()
        pids = []
        try:
            names = os.listdir("/proc")
        except OSError:
            return self.known_pids()
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

    def unmount_all(self) -> None:
        """Reverse mount order, the data partition last; read-only remount when busy."""
        order = list(reversed(self.mounts))
        if self.data_mount in order:
            order.remove(self.data_mount)
            order.append(self.data_mount)
        for target in order:
            try:
                self.platform.umount(target)
                self.log(f"shutdown: unmounted {target}")
                self.event("umount", target=target, ok=True)
            except OSError as e:
                self.event("umount", target=target, ok=False, error=str(e))
                try:
                    self.platform.remount_ro(target)
                    self.log(f"shutdown: {target} busy ({e.strerror}); remounted read-only")
                    self.event("remount_ro", target=target, ok=True)
                except OSError as e2:
                    self.log(f"shutdown: cannot unmount or remount {target} read-only: {e2}")
                    self.event("remount_ro", target=target, ok=False, error=str(e2))


def has_children() -> bool:
    """True while any child (running or zombie) is left."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def reap_all() -> None:
    """Reap every exited child without a reaper (the last resort's)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except OSError:
        pass
