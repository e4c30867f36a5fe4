"""`fork = true` services: started as a forked copy of the supervisor (no exec), set up
like an exec'd program, and reaped like any other service."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from .conftest import PY, console_pty, py, spec

REPO = Path(__file__).resolve().parents[2]


def forked(*args: str) -> tuple[str, ...]:
    return (PY, "-I", "-m", "llmos_init", *args)


def _patch_main(body):
    """setup hook: the forked services run body(args) instead of llmos_init's main."""
    def setup(sup, emit):
        import llmos_init.supervisor as s
        s._llmos_main = body
    return setup


def test_forked_service_status_is_reaped_beside_exec_ones(supervisor):
    sup = supervisor([spec("f", forked("a", "b"), fork=True, restart="never"),
                      spec("e", py("raise SystemExit(3)"), restart="never")],
                     setup=_patch_main(lambda args: 40 + len(args)))
    f = sup.wait_for("exit", service="f", timeout=20)
    e = sup.wait_for("exit", service="e", timeout=20)
    assert f["returncode"] == 42          # forked: the patched main ran, no new interpreter
    assert e["returncode"] == 3
    assert sup.wait_for("start", service="f")["argv"] == list(forked("a", "b"))
    st = sup.status()
    assert st["orphans_reaped"] == 0 and st["reaped"] == 2


def _probe(args):
    import signal as sg
    import sys
    out = {
        "pid": os.getpid(), "ppid": os.getppid(), "sid": os.getsid(0),
        "fds": sorted(int(n) for n in os.listdir("/proc/self/fd")),
        "env": dict(os.environ), "argv": sys.argv,
        "handlers": {name: str(sg.getsignal(getattr(sg, name)))
                     for name in ("SIGTERM", "SIGCHLD", "SIGUSR1", "SIGHUP", "SIGINT", "SIGPIPE")},
        "wakeup": sg.set_wakeup_fd(-1),
        "blocked": sorted(int(s) for s in sg.pthread_sigmask(sg.SIG_BLOCK, [])),
        "ctype": __import__("locale").setlocale(__import__("locale").LC_CTYPE),
    }
    with open(args[0], "w") as f:
        json.dump(out, f)
    return 0


def _c_locale_and(setup):
    def both(sup, emit):
        import locale
        locale.setlocale(locale.LC_CTYPE, "C")      # like PID 1, started without LANG
        setup(sup, emit)
    return both


def test_forked_service_starts_like_an_exec_would(supervisor, tmp_path):
    out = tmp_path / "probe.json"
    sup = supervisor([spec("f", forked(str(out)), fork=True, restart="never",
                           env={"FOO": "bar", "LC_ALL": "C.UTF-8"})],
                     setup=_c_locale_and(_patch_main(_probe)))
    assert sup.wait_for("exit", service="f", timeout=20)["returncode"] == 0
    got = json.loads(out.read_text())
    assert got["ppid"] == sup.pid and got["sid"] == got["pid"]       # own session
    # /proc/self/fd lists the directory's own fd too while it is being read
    assert set(got["fds"]) - {0, 1, 2} <= {3}, got["fds"]
    assert got["env"]["FOO"] == "bar" and "PATH" in got["env"]
    assert got["argv"] == list(forked(str(out)))
    h = got["handlers"]
    assert h["SIGTERM"] == h["SIGCHLD"] == h["SIGUSR1"] == h["SIGHUP"] == str(signal.SIG_DFL)
    assert h["SIGINT"] == str(signal.default_int_handler)
    assert h["SIGPIPE"] == str(signal.SIG_IGN)
    assert got["wakeup"] == -1 and got["blocked"] == []
    assert got["ctype"] == "C.UTF-8"          # the locale from the service's environment


def test_forked_service_is_stopped_and_reaped_at_shutdown(supervisor):
    sup = supervisor([spec("f", forked(), fork=True)], grace=3.0,
                     setup=_patch_main(lambda args: time.sleep(60)))
    sup.wait_for("start", service="f")
    time.sleep(0.2)
    os.kill(sup.pid, signal.SIGUSR2)
    assert sup.wait_for("platform", op="power", timeout=15)["action"] == "poweroff"
    # SIGTERM's default action ended it: the supervisor's own handler was not inherited
    assert sup.wait_for("exit", service="f")["returncode"] == -signal.SIGTERM
    assert sup.wait_for("returned")["action"] == "poweroff"
    assert sup.join() == 0


def _patch_and_thread(sup, emit):
    import threading
    _patch_main(lambda args: 41)(sup, emit)
    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()


def test_fork_falls_back_to_exec_while_another_thread_runs(supervisor):
    # forked, the patched main would exit 41; exec'd, llmos_init prints its usage: 2
    sup = supervisor([spec("f", (PY, "-m", "llmos_init", "no-such-command"), fork=True,
                           restart="never", cwd=str(REPO))], setup=_patch_and_thread)
    assert sup.wait_for("exit", service="f", timeout=30)["returncode"] == 2


def test_forked_child_exception_and_system_exit(supervisor, tmp_path):
    def body(args):
        if args[0] == "raise":
            raise RuntimeError("boom in the child")
        raise SystemExit(int(args[0]))
    sup = supervisor([spec("x", forked("raise"), fork=True, restart="never"),
                      spec("y", forked("9"), fork=True, restart="never")],
                     setup=_patch_main(body))
    assert sup.wait_for("exit", service="x", timeout=20)["returncode"] == 1
    assert sup.wait_for("exit", service="y", timeout=20)["returncode"] == 9
    sup.send("ping")
    sup.wait_for("pong")           # the supervisor itself carries on


def test_forked_console_failing_to_start_gets_the_emergency_console(supervisor, tmp_path):
    master, tty = console_pty(tmp_path)
    con = spec("console", forked("console"), fork=True, tty="console", essential=True,
               backoff_initial=0.01, backoff_max=0.02)
    sup = supervisor([con], sysfs=str(tmp_path / "sys"), setup=_patch_main(lambda args: 1))
    ev = sup.wait_for("emergency", service="console", timeout=20)
    assert ev["tty"] == tty
    exits = sup.of("exit", service="console")
    assert len(exits) == 5 and {e["returncode"] for e in exits} == {1}
    buf = b""
    deadline = time.monotonic() + 10
    import select
    while b"emergency> " not in buf:
        assert time.monotonic() < deadline, buf
        if select.select([master], [], [], 0.1)[0]:
            try:
                buf += os.read(master, 4096)
            except OSError:
                time.sleep(0.02)
    assert b"EMERGENCY CONSOLE" in buf
    os.write(master, b"poweroff\n")
    assert sup.wait_for("platform", op="power")["action"] == "poweroff"
    os.close(master)
