"""Process executors: listing from a fake /proc, signals, start_program, set_priority."""
from __future__ import annotations

import os
import sys


from llmos_init.tools.processes import proc_info

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


def _start_script(ex, sandbox, name, text, wait=0.5):
    """Write an executable script into /data and start it from the console; its pid."""
    write(sandbox / "data" / name, text)
    os.chmod(sandbox / "data" / name, 0o755)
    ex.ctx.start_wait = wait
    r = run(ex, "start_program", path=name)
    assert r.ok and "still running" in r.text, r.text
    return r.data["pid"]


def _start_sleeper(ex, sandbox, name="sleeper.py", seconds=30):
    return _start_script(ex, sandbox, name, f"#!{sys.executable}\nimport time\n"
                                            f"print('hi', flush=True)\ntime.sleep({seconds})\n")


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


def _another_nice(base: int) -> int:
    """A nice value other than the runner's: slower where there is room (any user may), else
    faster (a runner at nice 19, e.g. `nice -n 19 make test`, runs as root here)."""
    return base + 5 if base <= 14 else base - 5


def test_set_priority(ex, sandbox):
    pid = _start_sleeper(ex, sandbox)
    base = os.getpriority(os.PRIO_PROCESS, pid)   # the runner's own nice (make test may be niced)
    to = _another_nice(base)
    assert run(ex, "set_priority", pid=pid).text.endswith(f"runs at nice {base}")
    r = run(ex, "set_priority", pid=pid, nice=to)
    assert r.ok and f"nice {base} → {to}" in r.text and os.getpriority(os.PRIO_PROCESS, pid) == to
    assert "-20 (fastest) to 19" in run(ex, "set_priority", pid=pid, nice=40).text
    assert "only programs started here" in run(ex, "set_priority", pid=os.getppid(), nice=1).text


def _with_real_reaper(tmp):
    from llmos_init.tools.trash import Trash
    from llmos_init.reaper import Reaper
    from llmos_init.tools.context import ActionContext
    from llmos_init.tools.executor import Executor
    reaper = Reaper()
    reaper.start_thread()
    data = os.path.join(tmp, "data")
    ctx = ActionContext(cwd=data, data_dir=data, writable=(tmp,), tmp_dir=tmp, spawn=reaper.spawn,
                  start_wait=0.3)
    ex = Executor(ctx, Trash(data))
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


# ---- issue 17: full names, previews that list each pid, set_priority preview ------------
def _start_sh(ex, sandbox, name, seconds=30):
    """A #!/bin/sh script that sleeps, started by the console (its comm is the script's
    name cut to 15 characters); on TERM it takes its sleep child with it."""
    return _start_script(ex, sandbox, name, f"#!/bin/sh\ntrap 'kill $!; exit 0' TERM\nsleep {seconds} &\nwait\n",
                         wait=0.3)


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_kill_by_name_is_not_fooled_by_the_15_character_comm(ex, sandbox):
    web = _start_sh(ex, sandbox, "backup_nightly_web.sh")
    db = _start_sh(ex, sandbox, "backup_nightly_db.sh")
    for pid in (web, db):  # what made the old matching kill both
        with open(f"/proc/{pid}/comm") as f:
            assert f.read().strip() == "backup_nightly_"
    action = {"tool": "kill_process", "args": {"name": "backup_nightly_web.sh"}}
    preview = ex.preview(action).split("\n")
    assert preview == ["send TERM to 1 process named backup_nightly_web.sh:",
                       f"  pid {web}: /bin/sh /data/backup_nightly_web.sh"], preview
    r = ex.run(action)
    assert r.ok and r.data == [web] and "it has exited" in r.text, r.text
    assert f"pid {web}" in r.text and str(db) not in r.text
    assert not _alive(web) and _alive(db)
    # the cut comm itself names neither of them
    assert "no process named backup_nightly_" in ex.check(
        {"tool": "kill_process", "args": {"name": "backup_nightly_"}})
    r = run(ex, "kill_process", name="backup_nightly_db.sh")
    assert r.ok and r.data == [db] and not _alive(db), r.text


def test_kill_by_name_signals_only_what_the_question_showed(ex, sandbox):
    first = _start_sh(ex, sandbox, "worker.sh")
    action = {"tool": "kill_process", "args": {"name": "worker.sh"}}
    assert ex.preview(action).split("\n")[1:] == [f"  pid {first}: /bin/sh /data/worker.sh"]
    second = _start_sh(ex, sandbox, "worker.sh")   # started while the question was open
    r = ex.run(action)
    assert r.ok and r.data == [first], r.text
    assert not _alive(first) and _alive(second)
    # not previewed (or previewed and declined): the run takes what matches now
    r = run(ex, "kill_process", name="worker.sh")   # (the first may linger as a zombie)
    assert r.ok and second in r.data and not _alive(second), r.text


def test_kill_preview_by_pid_names_the_process_and_its_command_line(ex, sandbox):
    pid = _start_sleeper(ex, sandbox)
    preview = ex.preview({"tool": "kill_process", "args": {"pid": pid, "signal": "KILL"}})
    assert preview == f"send KILL to pid {pid} (sleeper.py: {sys.executable} /data/sleeper.py)"
    r = run(ex, "kill_process", pid=pid)
    assert r.text.startswith(f"sent TERM to pid {pid} (sleeper.py); it has exited"), r.text


def test_kill_preview_escapes_a_hostile_argv(ex, sandbox):
    write(sandbox / "data/evil.py", f"#!{sys.executable}\nimport time\ntime.sleep(30)\n")
    os.chmod(sandbox / "data/evil.py", 0o755)
    ex.ctx.start_wait = 0.3
    args = ["x\npid 1: /sbin/init", "", "\x1b[2J\x1b[31mred"]
    pid = run(ex, "start_program", path="evil.py", args=args).data["pid"]
    for action in ({"pid": pid}, {"name": "evil.py"}):
        preview = ex.preview({"tool": "kill_process", "args": action})
        lines = preview.split("\n")
        assert len(lines) == (1 if "pid" in action else 2), preview
        assert "\x1b" not in preview and "\r" not in preview
        assert lines[-1].endswith(f"{sys.executable} /data/evil.py 'x^Jpid 1: /sbin/init' '' "
                                  "'^[[2J^[[31mred'" + (")" if "pid" in action else "")), preview


def test_names_from_a_fake_proc(guest, tmp_path):
    guest.ctx.own_pids = {4_000_001}
    guest.ctx.procfs = fake_proc(tmp_path / "proc", [
        (1, "init", "S", 0, 0, 0, 1, ["/sbin/init"]),
        (2, "kthreadd", "S", 0, 0, 0, 0, []),
        (50, "backup.sh", "S", 1, 0, 0, 1, ["/bin/sh", "-e", "/data/backup.sh", "--nightly"]),
        (51, "python3.11", "S", 1, 0, 0, 1, ["/usr/bin/python3.11", "-u", "-W", "ignore", "/data/backup.sh"]),
        (52, "sh", "S", 1, 0, 0, 1, ["/bin/sh", "-ec", "backup.sh"]),      # inline code
        (53, "sleep", "S", 1, 0, 0, 1, ["/bin/sleep", "backup.sh"]),       # not an interpreter
        (54, "backup.sh", "Z", 1, 0, 0, 0, []),                            # a zombie: comm only
        (55, "backup.sh", "I", 2, 0, 0, 0, []),                            # a kernel thread
        (56, "backup_nightly_", "S", 1, 0, 0, 1, ["/bin/sh", "/data/backup_nightly_db.sh"]),
        (57, "backup_nightly_", "Z", 1, 0, 0, 0, []),
        (58, "renamed", "S", 1, 0, 0, 1, ["worker: idle"]),                # comm set by prctl
        (59, "evil\x1bname", "S", 1, 0, 0, 1, ["/data/a\nb"]),
    ])
    preview = guest.preview({"tool": "kill_process", "args": {"name": "backup.sh"}})
    assert preview.split("\n") == ["send TERM to 3 processes named backup.sh:",
                                   "  pid 50: /bin/sh -e /data/backup.sh --nightly",
                                   "  pid 51: /usr/bin/python3.11 -u -W ignore /data/backup.sh",
                                   "  pid 54: [backup.sh], zombie"], preview
    assert "no process named backup_nightly_web.sh" in guest.check(
        {"tool": "kill_process", "args": {"name": "backup_nightly_web.sh"}})
    assert guest.preview({"tool": "kill_process", "args": {"name": "backup_nightly_db.sh"}}).endswith(
        "  pid 56: /bin/sh /data/backup_nightly_db.sh")
    assert "pid 58:" in guest.preview({"tool": "kill_process", "args": {"name": "renamed"}})
    assert guest.preview({"tool": "kill_process", "args": {"pid": 59}}) == \
        "send TERM to pid 59 (evil^[name: '/data/a^Jb')"
    assert guest.preview({"tool": "kill_process", "args": {"name": "evil\x1bname"}}).split("\n") == \
        ["send TERM to 1 process named evil^[name:", "  pid 59: '/data/a^Jb'"]
    # a 15-character comm may be cut: without a command line it names nothing
    assert "no process named backup_nightly_" in guest.check(
        {"tool": "kill_process", "args": {"name": "backup_nightly_"}})


def test_kill_preview_by_name_says_what_it_leaves_alone(ex, sandbox, tmp_path):
    pid = _start_sleeper(ex, sandbox, "twin.py")
    real = proc_info("/proc", pid)
    ex.ctx.procfs = fake_proc(tmp_path / "proc", [
        (pid, "twin.py", "S", 1, 0, 0, 1, real["argv"]),
        (4_000_002, "twin.py", "S", 1, 0, 0, 1, ["/usr/bin/python3", "/home/someone/twin.py"]),
    ])
    lines = ex.preview({"tool": "kill_process", "args": {"name": "twin.py"}}).split("\n")
    assert lines == ["send TERM to 1 process named twin.py:",
                     f"  pid {pid}: {sys.executable} /data/twin.py",
                     "  (left alone: 1 other process named twin.py, not started here)"], lines


def test_script_names():
    from llmos_init.tools.processes import _script
    assert _script(["/bin/bash", "-o", "pipefail", "x.sh"]) == "x.sh"
    assert _script(["python3", "-Wignore", "-X", "dev", "--", "-odd.py"]) == "-odd.py"
    assert _script(["python3", "-m", "http.server"]) is None
    assert _script(["perl", "-w", "t.pl"]) == "t.pl" and _script(["perl", "-e", "1"]) is None
    assert _script(["node", "app.js"]) == "app.js" and _script(["/bin/cat", "x.sh"]) is None
    assert _script(["python3"]) is None and _script([]) is None


def test_set_priority_preview_shows_the_process_and_its_nice(ex, sandbox, spawner):
    pid = _start_sleeper(ex, sandbox)
    base = os.getpriority(os.PRIO_PROCESS, pid)
    to = _another_nice(base)
    who = f"pid {pid} (sleeper.py: {sys.executable} /data/sleeper.py, sleeping)"
    action = {"tool": "set_priority", "args": {"pid": pid, "nice": to}}
    assert ex.preview(action) == f"set {who} from nice {base} to nice {to}"
    assert run(ex, "set_priority", pid=pid, nice=to).ok
    assert ex.preview({"tool": "set_priority", "args": {"pid": pid}}) == f"show the nice value of {who}"
    assert ex.preview(action).endswith(f"from nice {to} to nice {to} (no change)")
    assert "only programs started here" in ex.preview(
        {"tool": "set_priority", "args": {"pid": os.getppid(), "nice": 1}})
    run(ex, "kill_process", pid=pid, signal="KILL")
    next(c for c in spawner.children if c.pid == pid).wait(5)  # the supervisor's reaper's job
    assert f"no process with pid {pid}" in ex.check({"tool": "set_priority", "args": {"pid": pid, "nice": 1}})


def test_set_priority_preview_from_a_fake_proc(guest, tmp_path):
    guest.ctx.procfs = fake_proc(tmp_path / "proc", [
        (700, "sleeper.py", "R", 1, 0, 0, 1, ["/usr/bin/python3", "/data/sleeper.py"])])
    stat = tmp_path / "proc/700/stat"
    f = stat.read_text().split(" ")
    f[18] = "-3"  # field 19: nice
    stat.write_text(" ".join(f))
    assert guest.preview({"tool": "set_priority", "args": {"pid": 700, "nice": 5}}) == \
        "set pid 700 (sleeper.py: /usr/bin/python3 /data/sleeper.py, running) from nice -3 to nice 5"
    assert "no process with pid 701" in guest.check({"tool": "set_priority", "args": {"pid": 701, "nice": 5}})
    assert "no process with pid 701" in guest.preview({"tool": "set_priority", "args": {"pid": 701}})
