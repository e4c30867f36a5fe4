import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "llmos_init", "plan", "--no-model", *args], cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=60)


def test_single_request_one_line():
    r = run("--cwd", "/data", "make", "a", "folder", "tmp", "and", "list", "it")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == [{"tool": "make_dir", "args": {"path": "/data/tmp"}},
                                   {"tool": "list_dir", "args": {"path": "/data/tmp"}}]


def test_batch_in_order_with_bad_line(tmp_path):
    f = tmp_path / "b.jsonl"
    f.write_text('{"request": "ls", "cwd": "/srv"}\nnot json\n{"request": "ps", "cwd": "/"}\n')
    r = run("--batch", str(f))
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert out[0] == [{"tool": "list_dir", "args": {"path": "/srv"}}]
    assert out[1][0]["tool"] == "clarify"
    assert out[2] == [{"tool": "list_processes", "args": {}}]
    assert r.returncode == 1 and "bad line" in r.stderr


def test_bad_model_reports_and_still_plans(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(100))
    r = subprocess.run([sys.executable, "-m", "llmos_init", "plan", "--model", str(bad), "ls /tmp"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "unavailable" in r.stderr
    assert json.loads(r.stdout) == [{"tool": "list_dir", "args": {"path": "/tmp"}}]
