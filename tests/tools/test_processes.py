"""Process executors: listing from a fake /proc, signals, start_program, set_priority."""
from __future__ import annotations

import os
import sys


from .conftest import fake_proc, run, write

HZ = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def test_list_processes_from_fake_proc(ex, tmp_path):
    ex.ctx.procfs = fake_proc(tmp_path / "proc", [
        (1, "init", "S", 0, 10 * HZ, 0, 2560, ["/sbin/init"]),
        (2, "kthreadd", "S", 0, 0, 0, 0, []),
        (3, "kworker/0:0", "I", 2, 0, 0, 0, []),
        (42, "my prog) x", "R", 1, 50 * HZ, 900 * HZ, 1024, ["/data/job.py", "--fast"]),
    ], uptime=1000.0)
    r = run(ex, "list_processes")
    assert r.ok
    lines = r.text.splitlines()
    assert lines[0] == "2 processes (+2 kernel threads not shown)"
    assert lines[1].split() == ["PID", "NAME", "STATE", "CPU%", "RSS", "COMMAND"]
    assert lines[2].split()[:3] == ["1", "init", "sleeping"] and "1.0" in lines[2]
    assert "my prog) x" in lines[3] and "running" in lines[3] and "50.0" in lines[3]
    assert human(2560 * PAGE) in lines[2] and "/data/job.py --fast" in lines[3]
    cpu_col = lines[1].index("CPU%") + 4
    assert lines[2][cpu_col - 1] == lines[3][cpu_col - 1] == "0"  # right-aligned numbers


def human(n):
    from llmos_init.tools.text import human_size
    return human_size(n)


def _start_sleeper(ex, sandbox, name="sleeper.py", seconds=30):
    write(sandbox / "data" / name, f"#!{sys.executable}\nimport time\nprint('hi', flush=True)\ntime.sleep({seconds})\n")
    os.chmod(sandbox / "data" / name, 0o755)
    ex.ctx.start_wait = 0.5
    r = run(ex, "start_program", path=name)
    assert r.ok and "still running" in r.text, r.text
    return r.data["pid"]


def test_start_program_that_exits_shows_output(ex, sandbox):
    write(sandbox / "data/job.py", f"#!{sys.executable}\nimport os, sys\nprint('args', sys.argv[1:])\n"
                                   "print('cwd', os.getcwd())\nprint('stdin', os.readlink('/proc/self/fd/0'), os.getsid(0) == os.getpid())\nsys.stdout.write('\\x1b[31mred\\n')\n")
    # not marked executable: run through its #! interpreter
    r = run(ex, "start_program", path="job.py", args=["a b", "c"])
    assert r.ok, r.text
    assert "exited with code 0" in r.text and "run with" in r.text
    assert "args ['a b', 'c']" in r.text and f"cwd {sandbox}/data" in r.text
    assert "stdin /dev/null True" in r.text
    assert "^[[31mred" in r.text and "\x1b" not in r.text


def test_start_program_failure_code_and_refusals(ex, sandbox):
    write(sandbox / "data/fail.py", f"#!{sys.executable}\nimport sys\nsys.exit(3)\n")
    r = run(ex, "start_program", path="fail.py")
    assert not r.ok and "exited with code 3; no output" in r.text
    write(sandbox / "data/plain.txt", "hello")
    r = run(ex, "start_program", path="plain.txt")
    assert not r.ok and "neither an ELF" in r.text
    assert not run(ex, "start_program", path="missing").ok
    ex.ctx.spawn = None
    assert "supervisor" in run(ex, "start_program", path="fail.py").text


def test_start_then_kill_by_pid_and_name(ex, sandbox):
    pid = _start_sleeper(ex, sandbox)
    assert pid in ex.ctx.started
    preview = ex.preview({"tool": "kill_process", "args": {"pid": pid}})
    assert preview.startswith(f"send TERM to pid {pid}")
    r = run(ex, "kill_process", pid=pid)
    assert r.ok and "it has exited" in r.text
    pid2 = _start_sleeper(ex, sandbox, "other.py")
    r = run(ex, "kill_process", name="other.py", signal="KILL")
    assert r.ok and f"pid {pid2}" in r.text and "exited" in r.text


def test_kill_refusals(guest):
    assert "supervisor" in guest.check({"tool": "kill_process", "args": {"pid": 1}})
    assert "console itself" in guest.check({"tool": "kill_process", "args": {"pid": os.getpid()}})
    assert "process group" in guest.check({"tool": "kill_process", "args": {"pid": -1}})
    assert "no process named" in guest.check({"tool": "kill_process", "args": {"name": "no-such-prog-xyz"}})
    assert "kernel thread" in guest.check({"tool": "kill_process", "args": {"pid": 2}})
    big = 4_000_000
    assert "no process" in guest.check({"tool": "kill_process", "args": {"pid": big}})


def test_kill_by_name_guest_skips_self(guest, tmp_path):
    write(tmp_path / "data/s.py", f"#!{sys.executable}\nimport time\ntime.sleep(30)\n")
    os.chmod(tmp_path / "data/s.py", 0o755)
    guest.ctx.start_wait = 0.2
    pid = run(guest, "start_program", path="s.py").data["pid"]
    r = run(guest, "kill_process", pid="s.py")  # a name given as "pid"
    assert r.ok and str(pid) in r.text


def test_set_priority(ex, sandbox):
    pid = _start_sleeper(ex, sandbox)
    assert run(ex, "set_priority", pid=pid).text.endswith("runs at nice 0")
    r = run(ex, "set_priority", pid=pid, nice=7)
    assert r.ok and "nice 0 → 7" in r.text and os.getpriority(os.PRIO_PROCESS, pid) == 7
    assert "-20 (fastest) to 19" in run(ex, "set_priority", pid=pid, nice=40).text
    assert "only programs started here" in run(ex, "set_priority", pid=os.getppid(), nice=1).text


def _with_real_reaper(tmp):
    from llmos_init.journal import Journal
    from llmos_init.supervisor import Reaper
    from llmos_init.tools.context import Context
    from llmos_init.tools.executor import Executor
    reaper = Reaper()
    reaper.start_thread()
    data = os.path.join(tmp, "data")
    ctx = Context(cwd=data, data_dir=data, writable=(tmp,), tmp_dir=tmp, spawn=reaper.spawn,
                  start_wait=0.3)
    ex = Executor(ctx, Journal(data))
    prog = os.path.join(data, "job.py")
    with open(prog, "w") as f:
        f.write(f"#!{sys.executable}\nimport time\nprint('started', flush=True)\ntime.sleep(60)\n")
    os.chmod(prog, 0o755)
    started = ex.run({"tool": "start_program", "args": {"path": prog}})
    killed = ex.run({"tool": "kill_process", "args": {"pid": started.data["pid"]}})
    done = ex.run({"tool": "start_program", "args": {"path": "/bin/true"}}) if os.path.exists("/bin/true") else None
    return started.text, killed.text, None if done is None else done.text


def test_start_and_kill_under_the_real_reaper(tmp_path):
    """The supervisor's Reaper as ctx.spawn (in a forked child: its waitpid loop must not
    take other tests' children)."""
    from tests.sys.child import run_in_child
    (tmp_path / "data").mkdir()
    started, killed, done = run_in_child(_with_real_reaper, str(tmp_path))
    assert "still running" in started and "started" in started, started
    assert "it has exited" in killed, killed
    if done is not None:
        assert "exited with code 0" in done
