"""The session with the real executor when the planner is wrong (issue 17): what it refuses
and what the user declines is in the audit log with the reason; a destructive action on
something nobody named is refused (the grounding check); a change that does not ask is
still shown before it happens."""
from __future__ import annotations

import json
import subprocess

import pytest

from llmos_init.console.lineedit import LineEditor
from llmos_init.console.session import Session
from llmos_init.tools.trash import Trash
from llmos_init.tools.context import ActionContext
from llmos_init.tools.executor import Executor

from .fakes import FakeTerm


class ScriptedPlanner:
    """Gives the plans it was handed, in order, whatever the request (a planner that
    misreads)."""
    status = "none"

    def __init__(self, *plans):
        self.plans = list(plans)

    def plan(self, request, cwd, history):
        return self.plans.pop(0)


@pytest.fixture
def sandbox(tmp_path):
    (tmp_path / "sb" / "data").mkdir(parents=True)
    (tmp_path / "sb" / "data" / "notes.txt").write_text("precious")
    (tmp_path / "sb" / "data" / "other.txt").write_text("also precious")
    return tmp_path / "sb"


def session(sandbox, chunks, *plans):
    term = FakeTerm(chunks)
    ctx = ActionContext(cwd="/data", sandbox=str(sandbox))
    ex = Executor(ctx, Trash(ctx.real_data_dir))
    s = Session(term, LineEditor(term), ScriptedPlanner(*plans), ex, cwd="/data",
                hostname=lambda: "box", sandbox=str(sandbox), context=ctx, status_delay=10)
    return s, term


def log(sandbox):
    return [json.loads(ln) for ln in (sandbox / "data/log/actions.jsonl").read_text().splitlines()]


def remove(path):
    return [{"tool": "remove", "args": {"path": path}}]


def test_a_destructive_action_on_something_nobody_named_is_refused_and_logged(sandbox):
    s, term = session(sandbox, [b"tidy up my notes please\r"], remove("/data/other.txt"))
    s.run()
    assert "refused: remove /data/other.txt: remove: /data/other.txt was not mentioned" in term.output
    assert "Proceed?" not in term.output
    assert (sandbox / "data/other.txt").read_text() == "also precious"
    (entry,) = log(sandbox)
    assert entry["refused"] is True and entry["ok"] is False and "not mentioned" in entry["message"]


def test_a_target_named_in_an_earlier_request_is_grounded(sandbox):
    s, term = session(sandbox, [b"look at notes.txt\r", b"now delete it\r", b"y\r"],
                      [{"tool": "read_file", "args": {"path": "/data/notes.txt"}}],
                      remove("/data/notes.txt"))
    s.run()
    assert "removed /data/notes.txt" in term.output
    assert not (sandbox / "data/notes.txt").exists()


def test_a_declined_confirmation_is_logged_with_what_was_shown(sandbox):
    s, term = session(sandbox, [b"delete notes.txt\r", b"n\r"], remove("/data/notes.txt"))
    s.run()
    assert "declined: nothing changed" in term.output
    (entry,) = log(sandbox)
    assert entry["declined"] is True and entry["ok"] is False
    assert entry["message"] == "declined at the confirmation"
    assert entry["preview"].startswith("remove /data/notes.txt (file, 8 B)")
    assert (sandbox / "data/notes.txt").exists()


def test_a_refusal_by_the_rails_is_logged(sandbox):
    s, term = session(sandbox, [b"delete the log /data/log\r"], remove("/data/log"))
    s.run()
    assert "refused: remove /data/log" in term.output
    (entry,) = log(sandbox)
    assert entry["refused"] is True and "audit log" in entry["message"]


def test_an_undo_that_asks_shows_what_it_reverts_first(sandbox):
    s, term = session(sandbox, [b"rename notes.txt to n2.txt\r", b"y\r", b"undo\r", b"n\r",
                                b"undo\r", b"y\r"],
                      [{"tool": "move", "args": {"src": "/data/notes.txt", "dst": "/data/n2.txt"}}],
                      [{"tool": "undo", "args": {}}], [{"tool": "undo", "args": {}}])
    s.run()
    out = term.output
    assert out.count("undo: move /data/n2.txt back to /data/notes.txt") == 2
    assert "declined: nothing changed" in out and "moved /data/n2.txt back to /data/notes.txt" in out
    assert (sandbox / "data/notes.txt").read_text() == "precious"


def test_an_undo_that_only_restores_is_shown_without_a_question(sandbox):
    s, term = session(sandbox, [b"delete notes.txt\r", b"y\r", b"undo\r"],
                      remove("/data/notes.txt"), [{"tool": "undo", "args": {}}])
    s.run()
    out = term.output.split("box:/data> undo")[-1]
    assert "undo: restore /data/notes.txt from the trash" in out and "Proceed?" not in out
    assert "restored /data/notes.txt" in out


def count_preparing(monkeypatch):
    """Counts of the executor's validations and the rails' path resolutions."""
    from llmos_init.tools import executor as executor_mod, safety
    calls = {"validate": 0, "resolve": 0}
    validate, resolve = executor_mod.validate_action, safety.resolve_path

    def counting_validate(action):
        calls["validate"] += 1
        return validate(action)

    def counting_resolve(*args, **kwargs):
        calls["resolve"] += 1
        return resolve(*args, **kwargs)
    monkeypatch.setattr(executor_mod, "validate_action", counting_validate)
    monkeypatch.setattr(safety, "resolve_path", counting_resolve)
    return calls


def counted_at_question(s, calls) -> dict:
    """s.confirm, wrapped: what the counts were when the question was asked."""
    seen = {}
    ask = s.confirm

    def confirm(question):
        seen.update(calls)
        return ask(question)
    s.confirm = confirm
    return seen


def test_a_confirmed_remove_is_validated_and_resolved_once_before_the_question_and_once_after(
        sandbox, monkeypatch):
    """One prepare step per tool, shared by check, preview and run (issue 13): a confirmed
    remove is validated and its path resolved once before the question and once after it
    (it was three validations and four resolutions before the question alone)."""
    calls = count_preparing(monkeypatch)
    s, term = session(sandbox, [b"delete notes.txt\r", b"y\r"], remove("/data/notes.txt"))
    seen_at_question = counted_at_question(s, calls)
    s.run()
    assert "removed /data/notes.txt" in term.output
    assert not (sandbox / "data/notes.txt").exists()
    assert seen_at_question == {"validate": 1, "resolve": 1}
    assert calls == {"validate": 2, "resolve": 2}


def test_a_confirmed_move_resolves_each_path_once_before_the_question_and_once_after(
        sandbox, monkeypatch):
    calls = count_preparing(monkeypatch)
    s, term = session(sandbox, [b"rename notes.txt to n2.txt\r", b"y\r"],
                      [{"tool": "move", "args": {"src": "/data/notes.txt", "dst": "/data/n2.txt"}}])
    seen_at_question = counted_at_question(s, calls)
    s.run()
    assert (sandbox / "data/n2.txt").read_text() == "precious"
    assert seen_at_question == {"validate": 1, "resolve": 2}     # src and dst
    assert calls == {"validate": 2, "resolve": 4}


def test_a_confirmed_kill_looks_up_its_process_once_before_the_question_and_once_after(
        sandbox, monkeypatch):
    """The tools without a path argument have their prepare step too: a confirmed
    kill_process is validated and its pid checked and its process looked up once before
    the question and once after it (it was three look-ups before the question: check,
    pin and preview, and two more after it)."""
    from llmos_init.tools import processes
    calls = count_preparing(monkeypatch)
    calls["targets"] = 0
    targets = processes._targets

    def counting_targets(*args, **kwargs):
        calls["targets"] += 1
        return targets(*args, **kwargs)
    monkeypatch.setattr(processes, "_targets", counting_targets)
    child = subprocess.Popen(["sleep", "30"])
    try:
        s, term = session(sandbox, [f"kill {child.pid}\r".encode(), b"y\r"],
                          [{"tool": "kill_process", "args": {"pid": child.pid}}])
        s.context.started[child.pid] = "/data/sleep"
        seen_at_question = counted_at_question(s, calls)
        s.run()
        assert child.wait(timeout=10) == -15
    finally:
        child.kill()
        child.wait()
    assert f"sent TERM to pid {child.pid}" in term.output
    assert seen_at_question == {"validate": 1, "resolve": 0, "targets": 1}
    assert calls == {"validate": 2, "resolve": 0, "targets": 2}
