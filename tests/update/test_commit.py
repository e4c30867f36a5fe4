"""PID 1's side of an update (llmos_init/update/commit.py), on a file for the boot state."""
from __future__ import annotations

from llmos_init.update import bootstate, commit, slots


def _setup(tmp_path, state, booted):
    d = tmp_path / "disk"
    d.mkdir()
    (d / "2").write_bytes(bootstate.format_state(state))
    (tmp_path / "root").mkdir()
    return slots.Layout(str(d), str(d) + "/", booted), str(tmp_path / "root")


def test_a_rollback_is_reported_once_and_cleared(tmp_path):
    lay, root = _setup(tmp_path, {"slot": "a", "rolled_back": "b", "version_a": "0.1",
                                  "version_b": "1.2"}, "a")
    line, trying = commit.at_boot(lay, root)
    assert not trying and "rolled back" in line
    note = (tmp_path / "root/run/llmos/update-note").read_text()
    assert "1.2 (slot b) did not come up healthy" in note and "running 0.1 in slot a" in note
    assert "rolled back" in (tmp_path / "root/data/log/update.log").read_text()
    assert "rolled_back" not in bootstate.read(lay.state)


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_a_try_commits_only_after_the_console_ran_healthy(tmp_path):
    lay, root = _setup(tmp_path, {"slot": "a", "try": "b", "tries": "0", "version_b": "1.2"}, "b")
    line, trying = commit.at_boot(lay, root)
    assert trying and "trying" in line
    clock, pid, wd, rebooted, logged = Clock(), [None], [True], [], []
    c = commit.Committer(lay, watchdog_ok=lambda: wd[0], console_pid=lambda: pid[0],
                         reboot=lambda: rebooted.append(1), log=logged.append, clock=clock, root=root)
    assert not c.check()                      # no console yet
    pid[0] = 42
    clock.t = 1
    assert not c.check()                      # console just seen
    clock.t = 3
    pid[0] = 43                               # restarted: the clock starts again
    assert not c.check()
    clock.t = 7
    assert not c.check()                      # 4 s under one pid
    wd[0] = False
    clock.t = 9
    assert not c.check()                      # the watchdog is not petted
    wd[0] = True
    assert c.check()
    assert bootstate.read(lay.state) == {"slot": "b", "version_b": "1.2"}
    assert "committed" in (tmp_path / "root/run/llmos/update-note").read_text()
    assert not rebooted


def test_a_try_that_never_gets_healthy_reboots_into_the_old_slot(tmp_path):
    lay, root = _setup(tmp_path, {"slot": "a", "try": "b", "tries": "0"}, "b")
    clock, rebooted = Clock(), []
    c = commit.Committer(lay, watchdog_ok=lambda: False, console_pid=lambda: 7,
                         reboot=lambda: rebooted.append(1), log=lambda m: None, clock=clock, root=root)
    for t in range(0, int(commit.DEADLINE_S) + 10, 5):
        clock.t = t
        c.check()
    assert rebooted == [1]
    assert bootstate.read(lay.state)["slot"] == "a"   # never committed: the script rolls back
