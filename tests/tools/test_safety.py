"""Safety rails: protected paths, sandbox confinement, confirmation from the registry."""
from __future__ import annotations

import os

import pytest

from llmos_init.tools import safety
from llmos_init.tools.safety import SafetyError
from llmos_init.tools import executor as executor_mod
from llmos_init.tools import preview as preview_mod
from llmos_init.tools.context import ActionContext
from llmos_init.tools.registry import TOOLS

from .conftest import run, write


def test_every_registry_tool_has_an_executor():
    assert executor_mod.missing_executors() == []
    assert set(executor_mod.EXECUTORS) == set(TOOLS)


def test_confirmation_matches_the_registry(ex):
    for name, tool in TOOLS.items():
        if name == "undo":   # decided per entry (nothing to undo here: no question)
            assert not ex.needs_confirmation({"tool": name, "args": {}})
            continue
        assert ex.needs_confirmation({"tool": name, "args": {}}) is tool.confirms, name
    assert TOOLS["mount"].confirms and not TOOLS["mount"].destructive
    assert ex.needs_confirmation({"tool": "no_such_tool"})  # unknown: never run unasked


def test_every_destructive_tool_has_a_specific_preview():
    destructive = {n for n, t in TOOLS.items() if t.destructive}
    assert destructive <= set(preview_mod.PREVIEWS)


def test_every_tool_with_a_preview_has_a_prepare_step():
    """Its preview, its check and its run share that one step (issue 13)."""
    assert set(preview_mod.PREVIEWS) <= set(executor_mod.PREPARES)


def test_previews_name_action_and_target(ex, sandbox):
    write(sandbox / "data/a.txt", "x" * 12)
    assert ex.preview({"tool": "remove", "args": {"path": "/data/a.txt"}}) == \
        "remove /data/a.txt (file, 12 B) → moved to the trash, undoable"
    assert ex.preview({"tool": "move", "args": {"src": "a.txt", "dst": "b.txt"}}) == \
        "move /data/a.txt (file, 12 B) → /data/b.txt, undoable"
    assert "overwrite /data/a.txt" in ex.preview({"tool": "write_file", "args": {"path": "a.txt", "text": "y"}})
    assert ex.preview({"tool": "append_file", "args": {"path": "a.txt", "text": "y"}}) == \
        "append a line (2 B) to /data/a.txt (12 B), undoable; the text:\n  | y"
    assert ex.preview({"tool": "reboot", "args": {}}).startswith("reboot the machine")
    assert "save hostname kiosk" in ex.preview({"tool": "set_hostname", "args": {"name": "kiosk"}})


@pytest.mark.parametrize("path,why", [
    ("/", "root directory"),
    ("/proc/1", "protected"),
    ("/data/../sys/x", "protected"),
    ("/dev/null", "protected"),
    ("/data/log/actions.jsonl", "audit log"),
    ("/data/trash", "trash"),
])
def test_protected_paths_refused(ex, sandbox, path, why):
    for d in ("proc/1", "sys", "dev"):
        (sandbox / d).mkdir(parents=True, exist_ok=True)
    write(sandbox / "data/log/actions.jsonl", "")
    (sandbox / "data/trash").mkdir(exist_ok=True)
    for action in ({"tool": "remove", "args": {"path": path}},
                   {"tool": "write_file", "args": {"path": path, "text": "x"}}):
        reason = ex.check(action)
        assert reason and why in reason, (action, reason)
        r = ex.run(action)
        assert not r.ok and why in r.text


def test_symlink_into_protected_path_is_resolved(ex, sandbox):
    (sandbox / "sys").mkdir()
    os.symlink("/sys", sandbox / "data/sneaky")  # absolute: inside the sandbox it is <sandbox>/sys...
    reason = ex.check({"tool": "write_file", "args": {"path": "/data/sneaky/x", "text": "x"}})
    assert reason and "outside the sandbox" in reason  # ...but the host resolves it to /sys
    os.symlink("../sys", sandbox / "data/rel")
    reason = ex.check({"tool": "write_file", "args": {"path": "/data/rel/x", "text": "x"}})
    assert reason and "protected" in reason


def test_sandbox_escape_refused(ex, sandbox, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    # ".." cannot climb above the sandbox: /../../outside.txt is <sandbox>/outside.txt
    r = run(ex, "read_file", path="/data/../../../outside.txt")
    assert not r.ok and "does not exist" in r.text
    os.symlink(str(outside), sandbox / "data/link")
    for action in ({"tool": "read_file", "args": {"path": "link"}},
                   {"tool": "write_file", "args": {"path": "link", "text": "x"}},
                   {"tool": "copy", "args": {"src": "link", "dst": "c"}},
                   {"tool": "append_file", "args": {"path": "/data/./link", "text": "x"}}):
        r = ex.run(action)
        assert not r.ok and "outside the sandbox" in r.text, action
    assert outside.read_text() == "secret"
    # acting on the link itself stays inside the sandbox
    assert run(ex, "file_info", path="link").data["type"] == "symbolic link"
    assert run(ex, "remove", path="link").ok and outside.read_text() == "secret"
    os.symlink(str(tmp_path), sandbox / "data/up")
    assert "outside the sandbox" in run(ex, "change_dir", path="/data/up").text
    assert "outside the sandbox" in run(ex, "list_dir", path="/data/up").text
    assert "outside the sandbox" in run(ex, "find_files", pattern="*", path="/data/up").text
    assert ex.ctx.cwd == "/data"


def test_guest_read_only_root(guest, tmp_path):
    r = run(guest, "write_file", path="/etc/llmos-test", text="x")
    assert not r.ok and "read-only root" in r.text
    assert not os.path.exists("/etc/llmos-test")
    r = run(guest, "remove", path="/usr")
    assert not r.ok and "read-only root" in r.text
    assert run(guest, "read_file", path="/proc/self/status").ok  # reading is fine
    r = run(guest, "remove", path=str(tmp_path / "data"))
    assert not r.ok and "console's data" in r.text


def test_signal_names():
    assert safety.signal_name(None) == "TERM"
    assert safety.signal_name("sigkill") == "KILL"
    assert safety.signal_name(9) == "KILL"
    for bad in ("SEGV", "FOO", 0, "", [1]):
        with pytest.raises(SafetyError):
            safety.signal_name(bad)


def test_bad_actions_refused_with_reason(ex):
    assert "unknown tool" in ex.check({"tool": "format_disk", "args": {}})
    assert "missing" in ex.check({"tool": "remove", "args": {}})
    assert "bad signal" in ex.check({"tool": "kill_process", "args": {"pid": 123, "signal": "BOOM"}})
    assert "must be a path" in ex.check({"tool": "read_file", "args": {"path": 5}})
    r = ex.run({"tool": "remove"})
    assert not r.ok and "missing" in r.text


def test_grounding_hook(ex, sandbox):
    write(sandbox / "data/a.txt", "x")
    act = {"tool": "remove", "args": {"path": "/data/a.txt"}}
    assert ex.check(act, request="delete a.txt") is None
    assert "not mentioned" in ex.check(act, request="what is in the readme?")
    assert ex.check(act, request="delete it", history=("show a.txt",)) is None
    assert ex.check({"tool": "list_dir", "args": {"path": "/data"}}, request="anything") is None


def test_host_console_refuses_host_wide_changes(ex):
    for action in ({"tool": "set_time", "args": {"time": "2030-01-01 00:00"}},
                   {"tool": "mount", "args": {"device": "/dev/sda", "target": "/data"}},
                   {"tool": "unmount", "args": {"target": "/data"}},
                   {"tool": "link_down", "args": {"interface": "lo"}},
                   {"tool": "kill_process", "args": {"pid": os.getppid()}},
                   {"tool": "set_priority", "args": {"pid": os.getppid(), "nice": 5}}):
        reason = ex.check(action)
        assert reason and ("host" in reason), (action, reason)


def test_context_paths(tmp_path):
    ctx = ActionContext(sandbox=str(tmp_path), cwd="/data")
    assert ctx.real("x") == str(tmp_path) + "/data/x"
    assert ctx.real("/") == str(tmp_path)
    assert ctx.display(str(tmp_path) + "/data/x") == "/data/x"
    assert ctx.normalize("~/notes") == "/data/notes"
    with pytest.raises(ValueError):
        ctx.normalize("a\0b")
