"""bench/remote.py: what it reads off the console (the planner's own notes, the plan lines)
and the report's section, without a guest."""
from __future__ import annotations

from bench import remote, report
from bench.__main__ import merge, parse_args
from llmos_init.console.render import format_action
from llmos_init.planner import remote as planner_remote
from llmos_init.planner.planner import Planner
from tests.planner.test_remote import FakeLlamaServer


def test_it_reads_the_planners_own_notes(monkeypatch):
    """The patterns match what the planner says, so a changed note fails here, not as an
    empty benchmark."""
    monkeypatch.setattr(planner_remote, "TIMEOUT_S", 1.0)
    p = Planner(use_model=False)
    with FakeLlamaServer() as server:
        p.remote_url = server.url
        server.answers("ls /data/log")
        p.plan("show me what is in the folder log", "/data")
        m = remote.PLANNED.search(p.remote_note)
        assert m and 0 <= float(m.group(1)) < 1
        server.answers("rm -r /data")
        p.plan("show me what is in the folder log", "/data")
        assert remote.FELL_BACK.search(p.remote_note).group(1) == "path /data is not in the request"


def test_plan_lines_are_read_from_the_console_output():
    out = ("\x1b[2mplanned by the server at http://10.0.2.2:8080 (0.12 s)\x1b[0m\r\n"
           f"\x1b[36m{format_action({'tool': 'list_dir', 'args': {'path': '/data/log'}})}\x1b[0m\r\n"
           "pid1.log  network.log\r\n")
    assert remote.actions(out) == ["list_dir /data/log"]
    slow = ("how busy is it\r\n\x1b[2m… thinking\x1b[0m\x1b[K\r\x1b[2m… thinking 1s\x1b[0m\x1b[K\r"
            "\x1b[K\x1b[36m→ system_info\x1b[0m\r\nhostname  llmos\r\n")
    assert remote.actions(slow) == ["system_info"]
    assert remote.actions("The time is 12:00.\r\n") == []


class FakeGuest:
    """timed_ask: the console's text for a request, by mode; a request in `hang` fails."""

    def __init__(self, remote_on=True, hang=()):
        self.remote_on, self.hang, self.sent = remote_on, set(hang), []
        self.proc = self

    def send(self, s):
        self.sent.append(s)

    def timed_ask(self, request, timeout=300):
        if request in self.hang:
            raise AssertionError("waiting for prompt: TIMEOUT\n...")
        note = "planned by the server at http://10.0.2.2:9 (0.20 s)\r\n" if self.remote_on else ""
        return (0.5 if self.remote_on else 9.0), f"{note}→ system_info\r\nok\r\n"


def test_rounds_time_each_request_and_keep_the_plan():
    failed: list[str] = []
    got = remote.rounds(FakeGuest(hang={"b"}), ["a", "b"], 2, 10, failed)
    assert [x["s"] for x in got["a"]] == [0.5, 0.5] and got["b"] == []
    assert got["a"][0] == {"s": 0.5, "server_s": 0.2, "fell_back": None, "plan": ["system_info"]}
    assert len(failed) == 2 and failed[0].startswith("'b': waiting for prompt")
    local = remote.rounds(FakeGuest(remote_on=False), ["a"], 1, 10, [])
    assert local["a"][0]["server_s"] is None and local["a"][0]["s"] == 9.0


def _results() -> dict:
    runs_r = {"a": [{"s": 0.5, "server_s": 0.2, "fell_back": None, "plan": ["system_info"]}] * 2}
    runs_l = {"a": [{"s": 10.0, "server_s": None, "fell_back": None, "plan": ["system_info"]}] * 2}
    floor = {"ls /data": [{"s": 0.1, "server_s": None, "fell_back": None, "plan": ["list_dir /data"]}]}
    r = {"requests": ["a"], "floor_request": "ls /data", "reps": 2, "server_threads": 1,
         "mem_mb": 512, "server_model": "m.gguf", "model_ready_s": 9.7, "failed": [],
         "remote": {"runs": runs_r, **remote._summaries(runs_r), "fell_back": 0},
         "local": {"runs": runs_l, **remote._summaries(runs_l), "asked_server": 0},
         "floor": {"runs": floor, **remote._summaries(floor)}, "same_plan": {"a": True}}
    r["remote"]["server"] = remote._summaries(runs_r, "server_s")
    r["remote"]["planned"] = remote.summary([0.5, 0.5])
    r["remote"]["fell_back_s"] = remote.summary([])
    return r


def test_the_report_section():
    md = report.markdown({"remote": _results()})
    assert "## Remote planner (a llama-server on the host, from the guest)" in md
    assert "| remote: llama-server on the host, every round | 500 ms | 500 ms | 2 |" in md
    assert "|   rounds it planned | 500 ms | 500 ms | 2 |" in md
    assert "| local: the guest's model | 10.00 s | 10.00 s | 2 |" in md
    assert "| floor: an exact command ('ls /data'), no planning | 100 ms | 100 ms | 1 |" in md
    assert "| 'a' | 500 ms | 10.00 s | 20.00× | system_info | same |" in md
    assert "fell back" not in md


def test_the_section_is_one_of_the_benchmarks_and_merges_alone():
    assert parse_args(["--only", "remote"]).only == ["remote"]
    assert parse_args([]).remote_reps == 2 and parse_args(["--quick"]).remote_reps == 1
    old = {"boot": {"kept": 1}, "remote": {"old": 1}, "errors": ["remote: RuntimeError: x"]}
    m = merge(old, {"remote": _results(), "errors": []}, ["remote"])
    assert m["boot"] == {"kept": 1} and m["remote"]["reps"] == 2 and m["errors"] == []
