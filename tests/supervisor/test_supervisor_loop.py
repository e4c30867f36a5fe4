"""The supervisor as a child subreaper: reaping, restarts, signals, shutdown, resilience."""
from __future__ import annotations

import os
import signal
import time

import pytest

from .conftest import console_pty, py, spec

# Forks 1000 grandchildren that block on a pipe, then exits: they become orphans of the
# supervisor (a child subreaper) and all exit at once when the pipe reaches EOF.
ORPHANS = 1000
FORKER = f"""
import os
r, w = os.pipe()
for i in range({ORPHANS}):
    if os.fork() == 0:
        os.close(w)
        os.read(r, 1)
        os._exit(0)
os._exit(0)
"""


def children_of(pid: int) -> list[tuple[int, str]]:
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2:].split()
        if int(rest[1]) == pid:
            out.append((int(name), rest[0].decode()))
    return out


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_1000_orphans_reaped_no_zombies(supervisor):
    sup = supervisor([spec("forker", py(FORKER), restart="never")])
    rss = rss_kib(sup.pid)
    start = sup.wait_for("start", service="forker")
    exit_ev = sup.wait_for("exit", service="forker", timeout=60)
    assert exit_ev["returncode"] == 0
    deadline = time.monotonic() + 30
    while True:
        st = sup.status()
        if st["orphans_reaped"] >= ORPHANS or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert st["orphans_reaped"] == ORPHANS, st
    left = children_of(sup.pid)
    zombies = [p for p, state in left if state == "Z"]
    assert zombies == [] and left == [], left
    span = st["last_orphan_at"] - st["first_orphan_at"]
    e2e = st["last_orphan_at"] - exit_ev["t"]
    print(f"\n[supervisor] reaped {ORPHANS} orphans: {ORPHANS / max(span, 1e-6):.0f} orphans/s "
          f"while they exited ({span * 1000:.0f} ms), {ORPHANS / e2e:.0f} orphans/s end to end "
          f"from the forker's exit ({e2e * 1000:.0f} ms; forking took "
          f"{(exit_ev['t'] - start['t']) * 1000:.0f} ms); supervisor RSS {rss} KiB at start, "
          f"{rss_kib(sup.pid)} KiB after")


CHILD_WAITER_SETUP = """
"""


def _wait_threads(sup, emit):
    """In the supervisor process: 4 threads spawn children through Supervisor.spawn and
    wait for them while the loop (another thread) does all the reaping."""
    import sys as _sys
    import threading

    def worker(k):
        got = []
        for i in range(10):
            code = (k * 10 + i) % 120 + 1
            c = sup.spawn([_sys.executable, "-S", "-c", f"import os; os._exit({code})"],
                          owner=f"worker{k}")
            got.append([code, c.wait(timeout=30)])
        emit("waited", worker=k, got=got)

    def start():
        for k in range(4):
            threading.Thread(target=worker, args=(k,), daemon=True).start()
    sup.call_later(0.05, start)


def test_child_wait_gets_its_own_status_while_the_loop_reaps(supervisor):
    crash = spec("crasher", py("raise SystemExit(7)"), backoff_initial=0.01, backoff_max=0.02,
                 max_restarts=1000)
    sup = supervisor([crash], setup=_wait_threads)
    for k in range(4):
        ev = sup.wait_for("waited", worker=k, timeout=60)
        for code, got in ev["got"]:
            assert got == code
    # the crashing service's statuses went to the service, not to the waiters
    sup.drain(0.1)
    assert all(e["returncode"] == 7 for e in sup.of("exit", service="crasher"))
    assert len(sup.of("exit", service="crasher")) >= 2


def test_backoff_and_restart_budget(supervisor):
    s = spec("crasher", py("raise SystemExit(3)"), restart="on-failure",
             backoff_initial=0.05, backoff_max=0.4, max_restarts=4, window_s=60)
    sup = supervisor([s])
    failed = sup.wait_for("failed", service="crasher", timeout=20)
    sup.drain(0.8)
    starts = sup.of("start", service="crasher")
    exits = sup.of("exit", service="crasher")
    scheduled = [e["delay"] for e in sup.of("restart_scheduled", service="crasher")]
    assert len(starts) == 5 and len(exits) == 5          # first start + 4 restarts
    assert scheduled == [0.05, 0.1, 0.2, 0.4]
    for ex, nxt, delay in zip(exits, starts[1:], scheduled):
        gap = nxt["t"] - ex["t"]
        assert delay - 0.005 <= gap <= delay + 0.5, (gap, delay)
    assert all(e["t"] <= failed["t"] for e in starts)
    assert [e["returncode"] for e in exits] == [3] * 5


def test_essential_service_keeps_restarting_after_budget(supervisor):
    s = spec("vital", py("raise SystemExit(1)"), essential=True,
             backoff_initial=0.02, backoff_max=0.1, max_restarts=2, window_s=60)
    sup = supervisor([s])
    sup.drain(1.5)
    assert not sup.of("failed")
    delays = [e["delay"] for e in sup.of("restart_scheduled", service="vital")]
    assert len(delays) >= 6
    assert delays[:2] == [0.02, 0.04] and set(delays[2:]) == {0.1}
    assert "restart budget exhausted" in sup.log()


def test_restart_policies(supervisor):
    sup = supervisor([spec("ok-once", py("pass"), restart="on-failure"),
                      spec("never", py("raise SystemExit(2)"), restart="never"),
                      spec("always", py("pass"), restart="always", backoff_initial=0.02,
                           backoff_max=0.02, max_restarts=2)])
    sup.wait_for("failed", service="always", timeout=10)
    sup.drain(0.3)
    assert len(sup.of("start", service="ok-once")) == 1
    assert len(sup.of("start", service="never")) == 1
    assert len(sup.of("start", service="always")) == 3


@pytest.mark.parametrize("sig,action", [
    (signal.SIGTERM, "reboot"), (signal.SIGINT, "reboot"), (signal.SIGUSR1, "halt"),
    (signal.SIGPWR, "halt"), (signal.SIGUSR2, "poweroff")])
def test_signal_mapping(supervisor, sig, action):
    sup = supervisor([spec("sleeper", py("import time; time.sleep(60)"))], grace=2.0)
    sup.wait_for("start", service="sleeper")
    os.kill(sup.pid, sig)
    assert sup.wait_for("platform", op="power")["action"] == action
    assert sup.wait_for("returned")["action"] == action
    assert sup.join() == 0


STUBBORN = """
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(sys.argv[1], "w").close()
time.sleep(60)
"""


def test_orderly_shutdown_order_and_grace(supervisor, tmp_path):
    ready = tmp_path / "stubborn-ready"
    grace = 0.5
    sup = supervisor([spec("polite", py("import time; time.sleep(60)")),
                      spec("stubborn", (*py(STUBBORN), str(ready)))],
                     grace=grace, mounts=["/tmp", "/model", "/data"], umount_busy={"/data"})
    sup.wait_for("start", service="stubborn")
    deadline = time.monotonic() + 10
    while not ready.exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(sup.pid, signal.SIGUSR2)
    sup.wait_for("returned", timeout=15)
    assert sup.join() == 0
    ev = sup.events
    kinds = [(e["kind"], e.get("service") or e.get("op") or e.get("name") or e.get("target"))
             for e in ev if e["kind"] in ("shutdown", "stop", "exit", "platform", "killed")]
    stop = {e["service"]: e for e in sup.of("stop")}
    exits = {e["service"]: e for e in sup.of("exit")}
    assert set(stop) == {"polite", "stubborn"}
    assert exits["polite"]["returncode"] == -signal.SIGTERM
    assert exits["stubborn"]["returncode"] == -signal.SIGKILL
    waited = exits["stubborn"]["t"] - stop["stubborn"]["t"]
    assert grace - 0.01 <= waited <= grace + 1.0, waited
    assert exits["polite"]["t"] - stop["polite"]["t"] < grace
    plat = [(e["op"], e.get("target") or e.get("action")) for e in sup.of("platform")]
    assert plat == [("sync", None), ("umount", "/model"), ("umount", "/tmp"),
                    ("umount", "/data"), ("remount_ro", "/data"), ("sync", None),
                    ("power", "poweroff")], plat
    # services stopped before anything was synced or unmounted
    t_first_platform = sup.of("platform")[0]["t"]
    assert max(e["t"] for e in exits.values()) <= t_first_platform, kinds
    assert "remounted read-only" in sup.log()


def _bad_handlers(sup, emit):
    def bad_timer():
        raise ValueError("injected timer failure")
    sup.call_later(0.0, bad_timer)
    c = sup.spawn([py("pass")[0], "-S", "-c", "pass"])
    c.add_exit_callback(lambda child: 1 / 0)


def test_exception_in_handlers_does_not_stop_the_loop(supervisor):
    s = spec("crasher", py("raise SystemExit(5)"), backoff_initial=0.05, backoff_max=0.05,
             max_restarts=1000)
    sup = supervisor([s], setup=_bad_handlers)
    sup.wait_for("exit", service="crasher")
    sup.send("raise")                         # an fd reader raising
    sup.send("ping")
    sup.wait_for("pong")
    n = len(sup.of("start", service="crasher"))
    sup.wait_count("start", n + 2, service="crasher")       # restarts go on
    st = sup.status()
    assert st["handler_errors"] >= 2, st                   # timer + reader
    log = sup.log()
    assert "injected failure in a handler" in log
    assert "injected timer failure" in log
    assert "ZeroDivisionError" in log                       # the exit callback
    os.kill(sup.pid, signal.SIGUSR1)
    assert sup.wait_for("returned")["action"] == "halt"


def test_emergency_console_when_the_console_cannot_start(supervisor, tmp_path):
    master, tty = console_pty(tmp_path, lambda name: "tty0 " + name)
    con = spec("console", ("/nonexistent/python3.11", "-m", "llmos_init", "console"),
               tty="console", essential=True, backoff_initial=0.01, backoff_max=0.02)
    sup = supervisor([con], sysfs=str(tmp_path / "sys"))
    ev = sup.wait_for("emergency", service="console", timeout=10)
    assert ev["tty"] == tty
    assert len(sup.of("start_failed", service="console")) == 5

    def read_until(marker: bytes, timeout=5.0) -> bytes:
        buf = b""
        deadline = time.monotonic() + timeout
        while marker not in buf:
            assert time.monotonic() < deadline, buf
            import select
            if select.select([master], [], [], 0.1)[0]:
                try:
                    buf += os.read(master, 4096)
                except OSError:      # EIO while no one has the slave side open
                    time.sleep(0.02)
        return buf

    banner = read_until(b"emergency> ")
    assert b"EMERGENCY CONSOLE" in banner and b"poweroff" in banner
    os.write(master, b"log\n")
    assert b"boot log" in read_until(b"emergency> ")
    os.write(master, b"frobnicate\n")
    assert b"unknown command" in read_until(b"emergency> ")
    os.write(master, b"retry\n")
    sup.wait_count("start_failed", 10, service="console")     # it really tried again
    sup.wait_count("emergency", 2, service="console")
    read_until(b"emergency> ")
    os.write(master, b"poweroff\n")
    assert sup.wait_for("platform", op="power")["action"] == "poweroff"
    os.close(master)


def test_tty_service_gets_controlling_terminal(supervisor, tmp_path):
    master, slave = os.openpty()
    tty = os.ttyname(slave)
    os.close(slave)
    probe = ("import os, sys; "
             "print(os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpgrp(), "
             "os.ttyname(0), os.ttyname(1), os.ttyname(2), flush=True); "
             "sys.stdin.readline()")
    sup = supervisor([spec("con", py(probe), tty=tty, restart="never")])
    sup.wait_for("start", service="con")
    buf = b""
    deadline = time.monotonic() + 10
    while b"\n" not in buf:
        assert time.monotonic() < deadline, buf
        buf += os.read(master, 4096)
    assert buf.decode().split() == ["True", "True", tty, tty, tty]
    os.write(master, b"\n")
    assert sup.wait_for("exit", service="con")["returncode"] == 0
    os.close(master)
