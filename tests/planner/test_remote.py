"""The remote planner against a fake llama.cpp server on 127.0.0.1 (http.server in a thread):
good, slow, garbage and hostile replies. Whatever it sends, a request gets a valid plan
from the local planner at worst, and a destructive action stays one (the console asks)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from llmos_init.planner import remote
from llmos_init.planner.planner import Planner
from llmos_init.tools.registry import DESTRUCTIVE


class FakeLlamaServer:
    """Answers POST /completion with `self.reply(body)`: (status, bytes) or a delay first."""

    def __init__(self):
        self.requests: list[dict] = []
        self.reply = lambda body: (200, json.dumps({"content": "?"}).encode())
        self.delay = 0.0
        self.props = {"chat_template": "{% for m in messages %}<|im_start|>...{% endfor %}"}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, status, data):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:
                    pass

            def do_GET(self):
                self._send(200, json.dumps(outer.props).encode())

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, **body})
                time.sleep(outer.delay)
                self._send(*outer.reply(body))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answers(self, text: str) -> None:
        self.reply = lambda body: (200, json.dumps({"content": text, "stop": True}).encode())

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.fixture
def server():
    with FakeLlamaServer() as s:
        yield s


@pytest.fixture
def planner(server, monkeypatch):
    monkeypatch.setattr(remote, "TIMEOUT_S", 1.0)
    p = Planner(use_model=False)
    p.remote_url = server.url
    return p


def test_a_request_in_words_is_planned_by_the_server(server, planner):
    server.answers("ls /data/photos")
    plan = planner.plan("show me what is in my photos folder", "/data")
    assert plan == [{"tool": "list_dir", "args": {"path": "/data/photos"}}]
    assert planner.remote_note.startswith(f"planned by the server at {server.url} (")
    req = server.requests[0]
    assert req["path"] == "/completion" and req["temperature"] == 0 and req["n_predict"] == 64
    assert req["prompt"] == ("<|im_start|>user\ncwd=/data\nshow me what is in my photos folder"
                             "<|im_end|>\n<|im_start|>assistant\n")
    assert req["grammar"].startswith('root ::= "?"') and req["stop"] == ["<|im_end|>"]


def test_exact_commands_stay_local(server, planner):
    assert planner.plan("ls /data", "/data") == [{"tool": "list_dir", "args": {"path": "/data"}}]
    assert server.requests == [] and planner.remote_note is None


def test_no_stale_note_after_a_request_the_server_never_saw(server, planner):
    server.answers("ls /data/photos")
    planner.plan("show me what is in my photos folder", "/data")
    assert planner.remote_note.startswith("planned by the server")
    planner.plan("is it safe to delete notes.txt?", "/data")     # a question: answered here
    assert planner.remote_note is None and len(server.requests) == 1


def test_a_gemma_server_gets_gemma_turns(server, planner):
    server.props = {"chat_template": "<start_of_turn>user ..."}
    server.answers("?")
    assert planner.plan("hello, how are you today", "/data")[0]["tool"] == "answer"
    assert server.requests[0]["prompt"].startswith("<start_of_turn>user\ncwd=/data\n")


def test_no_command_fits_is_an_answer(server, planner):
    server.answers("?")
    assert planner.plan("tell me a joke about penguins", "/data") == [{"tool": "answer", "args": {}}]
    assert planner.remote_note.startswith("planned by the server")


def test_a_slow_server_times_out_and_the_local_planner_answers(server, planner):
    server.answers("ls /data")
    server.delay = 2.5
    t0 = time.monotonic()
    plan = planner.plan("list the files in /data please", "/data")
    assert time.monotonic() - t0 < 2.0
    assert plan[0]["tool"] in ("list_dir", "clarify")
    assert "no answer within 1 s" in planner.remote_note
    assert planner.remote_note.endswith("the local planner answered")


def test_no_server_listening(planner, server):
    server.close()
    plan = planner.plan("what processes are running right now", "/data")
    assert plan and "gave no usable plan" in planner.remote_note
    assert "Connection" in planner.remote_note or "refused" in planner.remote_note.lower()


@pytest.mark.parametrize("status, body, why", [
    (200, b"\x00\xff\xfe binary \x89PNG", "not JSON"),
    (200, b"<html>hello</html>", "not JSON"),
    (200, json.dumps([1, 2, 3]).encode(), "no string 'content'"),
    (200, json.dumps({"content": 42}).encode(), "no string 'content'"),
    (200, json.dumps({"content": ["ls"]}).encode(), "no string 'content'"),
    (200, json.dumps({"content": "ls /data\x1b[2J\x07"}).encode(), "not a few lines"),
    (200, b"{" * (200 * 1024), "over 64 KiB"),
    (500, json.dumps({"error": {"message": "model crashed"}}).encode(), "HTTP 500"),
    (200, json.dumps({"content": "format the disk now"}).encode(), "not a command"),
])
def test_garbage_replies_are_refused(server, planner, status, body, why):
    server.reply = lambda req: (status, body)
    plan = planner.plan("list the files in /data please", "/data")
    assert why in planner.remote_note, planner.remote_note
    assert all(a["tool"] not in DESTRUCTIVE for a in plan)


@pytest.mark.parametrize("answer, why", [
    ("rm -r /data", "not in the request"),            # a destruction nobody asked for
    ("rm /data/secrets.txt", "not in the request"),
    ("kill 1", "pid 1 is not in the request"),
    ("poweroff", None),                               # read back, then vetoed by the guard
    ("reboot", None),
    ("cat /data/a.txt\nrm /data/a.txt", None),
])
def test_hostile_plans_are_refused(server, planner, answer, why):
    server.answers(answer)
    plan = planner.plan("what is in a.txt and in the folder", "/data")
    if why:
        assert why in planner.remote_note, planner.remote_note
    assert all(a["tool"] not in DESTRUCTIVE for a in plan), plan
    assert plan[0] in ({"tool": "read_file", "args": {"path": "/data/a.txt"}},
                       {"tool": "clarify", "args": {"question": "Nothing changed: that reads as a question."}})


def test_a_destructive_plan_asked_for_stays_destructive(server, planner):
    """The server may plan a removal the user asked for; it is a destructive action, which
    the executor confirms with the user (tests/console), whoever planned it."""
    server.answers("rm /data/old.log")
    plan = planner.plan("please get rid of old.log", "/data")
    assert plan == [{"tool": "remove", "args": {"path": "/data/old.log"}}]
    assert "remove" in DESTRUCTIVE
    # a negated request forbids it, whatever the server says
    server.answers("rm /data/old.log")
    plan = planner.plan("don't remove old.log, just show it to me", "/data")
    assert all(a["tool"] not in DESTRUCTIVE for a in plan), plan


def test_the_setting_file_wins_over_the_command_line(tmp_path):
    cmd = tmp_path / "cmdline"
    cmd.write_text("console=ttyS0 llmos.llm=http://10.0.2.2:8080 quiet\n")
    f = tmp_path / "llm"
    assert remote.setting(str(cmd), str(f)) == "http://10.0.2.2:8080"
    f.write_text("http://192.168.1.10:8080\n")
    assert remote.setting(str(cmd), str(f)) == "http://192.168.1.10:8080"
    f.write_text("off\n")
    assert remote.setting(str(cmd), str(f)) is None
    assert remote.setting(str(tmp_path / "none"), str(tmp_path / "none")) is None


@pytest.mark.parametrize("bad", ["https://x:1", "ftp://x", "http://", "http://u:p@h:1",
                                 "http://h:1/?q=1", "10.0.2.2:8080"])
def test_only_plain_http_urls(bad):
    with pytest.raises(ValueError):
        remote.parse_url(bad)
    assert remote.parse_url("http://10.0.2.2:8080/") == ("10.0.2.2", 8080, "")


def test_a_bad_setting_is_said_and_the_local_planner_answers(planner):
    planner.remote_url = "https://10.0.2.2:8080"
    plan = planner.plan("show me the processes", "/data")
    assert plan and "http://HOST:PORT" in planner.remote_note


def test_the_console_says_who_planned_and_still_asks(server, planner, tmp_path):
    """A removal planned by the server is shown, said to come from the server, and asked:
    declined, nothing changes."""
    from llmos_init.console.lineedit import LineEditor
    from llmos_init.console.session import Session
    from llmos_init.tools.context import ActionContext as Context
    from llmos_init.tools.executor import Executor
    from llmos_init.tools.trash import Trash
    from tests.console.fakes import FakeTerm
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("precious")
    server.answers("rm /data/notes.txt")
    term = FakeTerm([b"please get rid of notes.txt\r", b"n\r"])
    ctx = Context(cwd="/data", sandbox=str(tmp_path))
    s = Session(term, LineEditor(term), planner, Executor(ctx, Trash(ctx.real_data_dir)),
                cwd="/data", hostname=lambda: "box", sandbox=str(tmp_path), context=ctx,
                status_delay=10)
    s.run()
    assert f"planned by the server at {server.url}" in term.output
    assert "Proceed?" in term.output and "declined: nothing changed" in term.output
    assert (tmp_path / "data" / "notes.txt").read_text() == "precious"
