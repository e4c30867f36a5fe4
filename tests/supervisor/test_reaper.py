"""Reaper and Child on their own (each test runs in a forked child process, so the
reaper's waitpid(-1) never touches pytest's other children)."""
from __future__ import annotations

import json
import shutil
import os
import signal
import sys
import time
import traceback

import pytest

from llmos_init.reaper import Reaper

PY = sys.executable


def in_child(fn):
    """Run fn() in a forked child; return its JSON-able result or fail with its traceback."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            out = {"ok": fn()}
        except BaseException:
            out = {"error": traceback.format_exc()}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    res = json.loads(data)
    assert "error" not in res, res["error"]
    return res["ok"]


def test_exit_codes_and_signals_inline_wait():
    def body():
        rp = Reaper()
        a = rp.spawn([PY, "-S", "-c", "raise SystemExit(3)"])
        b = rp.spawn([PY, "-S", "-c", "import time; time.sleep(30)"])
        assert b.wait(timeout=0.05) is None            # timeout: None, still running
        b.kill()
        return [a.wait(), b.wait(), b.returncode, a.runtime > 0, len(rp.children())]
    assert in_child(body) == [3, -signal.SIGKILL, -signal.SIGKILL, True, 0]


def test_statuses_reach_their_owners_with_a_reaper_thread():
    def body():
        import threading
        rp = Reaper(subreaper=True)
        rp.start_thread()
        results = {}

        def worker(k):
            for i in range(8):
                code = k * 8 + i + 1
                c = rp.spawn([PY, "-S", "-c", f"import os; os._exit({code})"], owner=k)
                results[code] = c.wait(timeout=30)
        # orphans of a helper process arrive in the middle of it all
        rp.spawn([PY, "-S", "-c", "import os\nfor i in range(20):\n"
                  "    if os.fork() == 0: os._exit(0)\nos._exit(0)"])
        ts = [threading.Thread(target=worker, args=(k,)) for k in range(5)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        deadline = time.monotonic() + 10
        while rp.orphans_reaped < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        return [sorted(results.items()) == [(c, c) for c in range(1, 41)], rp.orphans_reaped]
    assert in_child(body) == [True, 20]


def test_stdio_env_and_cwd(tmp_path):
    def body():
        rp = Reaper()
        out = []
        for cwd in (None, str(tmp_path)):          # posix_spawn and fork+exec paths
            r, w = os.pipe()
            c = rp.spawn([PY, "-S", "-c", "import os; print(os.getcwd(), os.environ['X'])"],
                         env={"X": "42"}, cwd=cwd, stdout=w)
            os.close(w)
            data = os.read(r, 4096).decode().split()
            os.close(r)
            out.append([data, c.wait()])
        return out
    here = os.getcwd()
    assert in_child(body) == [[[here, "42"], 0], [[str(tmp_path), "42"], 0]]


def test_spawn_errors_are_clear_and_leave_nothing(tmp_path):
    def body():
        rp = Reaper()
        errs = []
        for kw in ({}, {"cwd": str(tmp_path)}):
            try:
                rp.spawn(["/nonexistent/prog"], **kw)
            except FileNotFoundError as e:
                errs.append(e.filename)
        try:
            rp.spawn([PY], cwd="/nonexistent-dir")
        except FileNotFoundError as e:
            errs.append("chdir" in str(e))
        time.sleep(0.1)
        rp.reap()
        try:
            os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            left = True
        except ChildProcessError:
            left = False
        return [errs, left, [c.pid for c in rp.children()]]
    assert in_child(body) == [["/nonexistent/prog", "/nonexistent/prog", True], False, []]


@pytest.mark.skipif(not shutil.which("cat"), reason="needs cat(1) on the host")
def test_children_start_with_default_signal_dispositions():
    def body():
        signal.signal(signal.SIGINT, signal.SIG_IGN)     # parent ignores SIGINT and SIGPIPE
        rp = Reaper()
        r, w = os.pipe()
        # not python: it ignores SIGPIPE itself at startup
        c = rp.spawn(["cat", "/proc/self/status"], stdout=w)
        os.close(w)
        text = b""
        while chunk := os.read(r, 65536):
            text += chunk
        c.wait()
        ign = [line for line in text.decode().splitlines() if line.startswith("SigIgn:")][0]
        return int(ign.split()[1], 16)
    ignored = in_child(body)
    assert not ignored & (1 << (signal.SIGINT - 1))
    assert not ignored & (1 << (signal.SIGPIPE - 1))


def test_supervisor_rss_in_a_fresh_interpreter(tmp_path):
    """A supervisor in test mode in its own python3 (not a fork of pytest)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    script = f"""
import sys, time
sys.path.insert(0, {root!r})
from llmos_init.services import ServicesConfig, ServiceSpec
from llmos_init.consolelog import ConsoleLog
from llmos_init.supervisor import Supervisor
class P:
    def sync(self): pass
    def umount(self, t): pass
    def remount_ro(self, t): pass
    def power(self, a): print('power', a, flush=True)
cfg = ServicesConfig(services=[ServiceSpec('s', ({PY!r}, '-S', '-c', 'import time; time.sleep(30)'))])
sup = Supervisor(cfg, is_pid1=False, platform=P(), log=ConsoleLog(fd=2))
sup.call_later(0.3, lambda: print('ready', flush=True))
sup.run()
"""
    r, w = os.pipe()
    pid = os.posix_spawn(PY, [PY, "-c", script], dict(os.environ),
                         file_actions=[(os.POSIX_SPAWN_DUP2, w, 1)])
    os.close(w)
    try:
        buf = b""
        while b"ready" not in buf:
            chunk = os.read(r, 4096)
            assert chunk, "supervisor did not start"
            buf += chunk
        with open(f"/proc/{pid}/status") as f:
            rss = int([line for line in f if line.startswith("VmRSS:")][0].split()[1])
        os.kill(pid, signal.SIGUSR2)
        while b"power poweroff" not in buf:
            chunk = os.read(r, 4096)
            assert chunk
            buf += chunk
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        os.close(r)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    print(f"\n[supervisor] RSS in a fresh interpreter, test mode, one service: {rss} KiB")
    assert rss < 40 * 1024


def test_fork_call_status_and_the_child_never_returns_into_the_caller():
    def body():
        rp = Reaper()
        r, w = os.pipe()
        codes = {}
        for name, fn in (("ret", lambda: 7), ("none", lambda: None),
                         ("exit", lambda: sys.exit(4)), ("raise", lambda: 1 / 0)):
            c = rp.fork_call(fn, ["x", name])
            # only the parent gets here: a child that came back would write its own pid
            os.write(w, f"{os.getpid()}\n".encode())
            codes[name] = c.wait(timeout=30)
        os.close(w)
        data = b""
        while chunk := os.read(r, 4096):
            data += chunk
        os.close(r)
        return [codes, set(data.split()) == {str(os.getpid()).encode()}, len(rp.children())]
    assert in_child(body) == [{"ret": 7, "none": 0, "exit": 4, "raise": 1}, True, 0]


def test_fork_call_statuses_with_a_reaper_thread_and_orphans():
    def body():
        rp = Reaper(subreaper=True)
        rp.start_thread()

        def orphan_maker():
            if os.fork() == 0:
                os._exit(0)
            return 5
        a = rp.fork_call(orphan_maker, ["orphans"])
        b = rp.fork_call(lambda: time.sleep(30), ["sleeper"])
        b.terminate()
        got = [a.wait(timeout=30), b.wait(timeout=30)]
        deadline = time.monotonic() + 10
        while rp.orphans_reaped < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        return got + [rp.orphans_reaped]
    assert in_child(body) == [5, -signal.SIGTERM, 1]


def test_fork_call_child_finishes_like_an_interpreter(tmp_path):
    """Non-daemon threads are waited for and atexit handlers run before the child exits."""
    out = tmp_path / "order"

    def body():
        rp = Reaper()

        def fn():
            import atexit
            import threading

            def late():
                time.sleep(0.3)
                with open(out, "a") as f:
                    f.write("thread\n")
            threading.Thread(target=late).start()
            atexit.register(lambda: open(out, "a").write("atexit\n"))
            return 3
        return rp.fork_call(fn, ["x"]).wait(timeout=30)
    assert in_child(body) == 3
    assert out.read_text().split() == ["thread", "atexit"]
