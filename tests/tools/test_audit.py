"""The audit log: one line per action, and a log that cannot be written is reported, not
fatal."""
from __future__ import annotations

import json

from .conftest import run, write


def test_audit_log_one_line_per_action(ex, sandbox):
    write(sandbox / "data/a.txt", "a")
    actions = [{"tool": "list_dir", "args": {"path": "/data"}},
               {"tool": "remove", "args": {"path": "/data/a.txt"}},
               {"tool": "remove", "args": {"path": "/"}},
               {"tool": "nonsense", "args": {}},
               {"tool": "undo", "args": {}}]
    results = [ex.run(a) for a in actions]
    with open(sandbox / "data/log/actions.jsonl") as f:
        lines = [json.loads(line) for line in f]
    assert len(lines) == len(actions)
    for entry, action, res in zip(lines, actions, results):
        assert entry["action"] == action and entry["ok"] == res.ok
        assert entry["message"] == res.text[:2000] and entry["time"].endswith("Z")
    assert lines[2].get("refused") is True and lines[3].get("refused") is True
    assert [e["ok"] for e in lines] == [True, True, False, False, True]


def test_audit_log_failure_is_reported_not_fatal(ex, sandbox, monkeypatch):
    def broken(*a, **k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr("llmos_init.tools.audit.makedirs_durable", broken)
    r = run(ex, "get_time")
    assert r.ok and "not written to the audit log" in r.text
