"""`python -m llmos_init console`: options, guest/host decision, banner facts."""
import json
import os
import subprocess
import sys

import pytest

from llmos_init.console import main as cm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_parse_args():
    o = cm.parse_args(["--sandbox", "/x", "--no-model", "--dumb"])
    assert (o.sandbox, o.no_model, o.dumb, o.model) == ("/x", True, True, None)
    with pytest.raises(SystemExit):
        cm.parse_args(["--model", "m.gguf", "--no-model"])
    with pytest.raises(SystemExit):
        cm.parse_args(["--bogus"])


@pytest.mark.skipif(cm.is_llmos_guest(), reason="this host looks like llmos")
def test_refuses_the_real_system_on_a_host():
    # The test runner itself uses subprocess; llmos_init never does.
    r = subprocess.run([sys.executable, "-m", "llmos_init", "console", "--no-model"],
                       cwd=ROOT, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 2
    assert "--sandbox DIR" in r.stderr


def test_piped_session_creates_the_sandbox(tmp_path):
    sb = tmp_path / "new" / "sb"
    r = subprocess.run([sys.executable, "-m", "llmos_init", "console", "--sandbox", str(sb), "--no-model"],
                       cwd=ROOT, input=b"help\n", capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (sb / "data").is_dir()
    assert b"\x1b" not in r.stdout          # not a tty: dumb
    assert b"help" in r.stdout and b":/data> " in r.stdout


# boot.py's summary (Boot.summary; its round trip: tests/supervisor/test_boot_steps.py):
# boot_seconds is its total_s, the steps are not added up
SUMMARY = {"init_started": 0.61, "console_ready": 0.93, "finished": 1.2, "total_s": 1.2,
           "init_s": 0.59, "data": "persistent", "hostname": "llmos", "warnings": [],
           "steps": [{"name": "mount /proc", "start": 0.61, "duration_ms": 0.4, "status": "ok",
                      "detail": "", "error": ""}]}


@pytest.mark.parametrize("doc,total", [
    ({"total_s": 3.5}, 3.5),
    (SUMMARY, 1.2),
    ({**SUMMARY, "total_s": 2}, 2.0),
    ({k: v for k, v in SUMMARY.items() if k != "total_s"}, None),    # the steps are not summed
    ({**SUMMARY, "total_s": "1.2"}, None),
    ({**SUMMARY, "total_s": True}, None),
    ({"steps": "nonsense"}, None),
    ([SUMMARY], None),
    ("text", None),
])
def test_boot_seconds(tmp_path, doc, total):
    p = tmp_path / "boot.json"
    p.write_text(json.dumps(doc))
    assert cm.boot_seconds(str(p)) == total
    assert cm.boot_seconds(str(tmp_path / "missing.json")) is None
    p.write_bytes(b"\xff{not json")
    assert cm.boot_seconds(str(p)) is None


def test_boot_seconds_from_pid1s_environment_first(tmp_path):
    """A console PID 1 forked before boot.json exists has the figure in its environment;
    a garbled one falls back to the file."""
    missing = str(tmp_path / "missing.json")
    assert cm.boot_seconds(missing, env={"LLMOS_BOOT_S": "3.107"}) == 3.107
    assert cm.boot_seconds(missing, env={"LLMOS_BOOT_S": "soon"}) is None
    p = tmp_path / "boot.json"
    p.write_text('{"total_s": 2.5}')
    assert cm.boot_seconds(str(p), env={"LLMOS_BOOT_S": "soon"}) == 2.5


def test_memory_and_uptime_from_proc():
    total, free = cm.memory()
    assert total > 0 and 0 <= free <= total
    assert cm.uptime_seconds() > 0


def test_power_on_a_host_only_reports():
    p = cm.Power(host=True)

    class S:
        ended = False
    p.session = S()
    assert "not rebooted" in p("reboot") and not p.session.ended
    assert "not powered off" in p("poweroff") and p.session.ended
