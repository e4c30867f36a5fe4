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


def sse(*pieces: str, stop: bool = True) -> list[bytes]:
    """llama-server's /completion stream: one `data: {json}` event per piece, the last with
    "stop": true (unless `stop` is False)."""
    out = [f"data: {json.dumps({'content': p, 'stop': False})}\n\n".encode() for p in pieces]
    if stop:
        out.append(f"data: {json.dumps({'content': '', 'stop': True, 'timings': {}})}\n\n".encode())
    return out


class FakeLlamaServer:
    """Answers POST /completion with `self.reply(body)`: (status, bytes) or a delay first;
    a streamed request (`"stream": true`) with `self.stream(body)` when that is set: bytes
    written and flushed one by one, a float a pause, a threading.Event waited for."""

    def __init__(self):
        self.requests: list[dict] = []
        self.reply = lambda body: (200, json.dumps({"content": "?"}).encode())
        self.stream = None
        self.stream_type = "text/event-stream"
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
                if body.get("stream") and outer.stream is not None:
                    self._stream(outer.stream(body))
                else:
                    self._send(*outer.reply(body))

            def _stream(self, items):
                self.send_response(200)
                self.send_header("Content-Type", outer.stream_type)
                self.end_headers()
                try:
                    for item in items:
                        if isinstance(item, float):
                            time.sleep(item)
                        elif isinstance(item, threading.Event):
                            item.wait(5)
                        else:
                            self.wfile.write(item)
                            self.wfile.flush()
                except OSError:
                    pass

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


def run_console(planner, sandbox, keys: list[bytes]) -> str:
    """The console (Session) on a fake terminal over `sandbox` with `planner`, fed `keys`;
    what it wrote."""
    from llmos_init.console.lineedit import LineEditor
    from llmos_init.console.session import Session
    from llmos_init.tools.context import ActionContext
    from llmos_init.tools.executor import Executor
    from llmos_init.tools.trash import Trash
    from tests.console.fakes import FakeTerm
    term = FakeTerm(keys)
    ctx = ActionContext(cwd="/data", sandbox=str(sandbox))
    Session(term, LineEditor(term), planner, Executor(ctx, Trash(ctx.real_data_dir)),
            cwd="/data", hostname=lambda: "box", sandbox=str(sandbox), context=ctx,
            status_delay=10).run()
    return term.output


def test_the_console_says_who_planned_and_still_asks(server, planner, tmp_path):
    """A removal planned by the server is shown, said to come from the server, and asked:
    declined, nothing changes."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("precious")
    server.answers("rm /data/notes.txt")
    output = run_console(planner, tmp_path, [b"please get rid of notes.txt\r", b"n\r"])
    assert f"planned by the server at {server.url}" in output
    assert "Proceed?" in output and "declined: nothing changed" in output
    assert (tmp_path / "data" / "notes.txt").read_text() == "precious"


# ---- free-form answers streamed from the server --------------------------------------

class LocalRuntime:
    """The local model's reply path (ModelRuntime.stream_reply), counted."""

    def __init__(self):
        self.asked: list[str] = []

    def stream_reply(self, text, cancel=None):
        self.asked.append(text)
        yield from ("local ", "reply")


@pytest.fixture
def local(planner):
    rt = LocalRuntime()
    planner._runtime, planner._status = rt, "ready"
    return rt


def test_a_free_form_answer_streams_from_the_server(server, planner, local):
    """Each event is shown as it arrives: the first piece is out before the server has
    written the second."""
    second = threading.Event()
    server.answers("?")
    server.stream = lambda body: [*sse("Penguins")[:1], second, *sse(" waddle.")]
    assert planner.plan("tell me a joke about penguins", "/data") == [{"tool": "answer", "args": {}}]
    got = planner.stream_answer("tell me a joke about penguins")
    assert next(got) == "Penguins"
    second.set()
    assert "".join(got) == " waddle."
    assert planner.answer_note.startswith(f"answered by the server at {server.url} (")
    assert local.asked == []
    req = server.requests[-1]
    assert req["path"] == "/completion" and req["stream"] is True and req["n_predict"] == 96
    assert req["lora"] == [{"id": 0, "scale": 0.0}]          # the planner's adapter off
    assert req["stop"] == ["<|im_end|>"]
    assert req["prompt"] == ("<|im_start|>system\nYou are the console of a tiny operating system. "
                             "Answer in one or two short sentences.<|im_end|>\n"
                             "<|im_start|>user\ntell me a joke about penguins<|im_end|>\n"
                             "<|im_start|>assistant\n")


def test_a_gemma_server_gets_the_system_line_in_the_user_turn():
    prompt = remote.chat_prompt("Be brief.", " hi ", remote.canonical.GEMMA)
    assert prompt == "<start_of_turn>user\nBe brief.\n\nhi<end_of_turn>\n<start_of_turn>model\n"


def test_a_server_that_does_not_stream_still_answers(server, planner, local):
    server.answers("Hello from a JSON reply.")          # application/json, not events
    assert "".join(planner.stream_answer("say hello")) == "Hello from a JSON reply."
    assert planner.answer_note.startswith("answered by the server")
    server.answers("  \n ")
    assert "".join(planner.stream_answer("say hello")) == "local reply"
    assert "gave no answer (its answer was empty)" in planner.answer_note


BIG = "x" * 1000


@pytest.mark.parametrize("kind, items, why", [
    ("text/html", [b"<html>hi</html>"], "text/html, not server-sent events"),
    ("text/event-stream", [b"data: {not json\n\n"], "not JSON"),
    ("text/event-stream", [b"data: [1, 2]\n\n"], "not a JSON object"),
    ("text/event-stream", [b'data: {"content": 7}\n\n'], "no string 'content'"),
    ("text/event-stream", sse("ok\x1b[2J"), "control characters"),
    ("text/event-stream", sse("bell\x07"), "control characters"),
    ("text/event-stream", [b'data: {"error": {"message": "out of memory"}}\n\n'],
     "it reported an error: out of memory"),
    ("text/event-stream", sse(""), "its answer was empty"),
    ("text/event-stream", sse("  "), "its answer was empty"),
    ("text/event-stream", [b": ping\n\n"] * 3, "ended before it said it was done"),
    ("text/event-stream", [b"data: " + b"1" * (20 * 1024) + b"\n\n"], "over 16 KiB"),
    ("text/event-stream", [b": " + b"p" * 8000 + b"\n"] * 9, "over 64 KiB"),
    ("text/event-stream", [3.0, *sse("late")], "no answer within 1 s"),
    ("text/event-stream", [x for _ in range(12) for x in (b": ping\n\n", 0.2)], "no answer within 1 s"),
])
def test_a_bad_stream_before_any_text_lets_the_local_model_answer(server, planner, local,
                                                                   kind, items, why):
    server.stream_type = kind
    server.stream = lambda body: items
    t0 = time.monotonic()
    assert "".join(planner.stream_answer("tell me about penguins")) == "local reply"
    assert time.monotonic() - t0 < 2.0
    note = planner.answer_note
    assert note.startswith(f"the server at {server.url} gave no answer (") and why in note, note
    assert note.endswith("); the local model answered"), note
    assert local.asked == ["tell me about penguins"]


def test_an_http_error_lets_the_local_model_answer(server, planner, local):
    server.reply = lambda body: (503, json.dumps({"error": "busy"}).encode())
    assert "".join(planner.stream_answer("tell me about penguins")) == "local reply"
    assert "gave no answer (it answered HTTP 503)" in planner.answer_note


@pytest.mark.parametrize("items, why", [
    ([*sse("Penguins are")[:1], b"data: \x00\xff\n\n"], "its reply is not JSON"),
    ([*sse("Penguins are")[:1], 3.0, *sse(" birds.")], "no answer within 1 s"),
    (sse("Penguins are", stop=False), "its answer ended before it said it was done"),
    (sse(*[BIG] * 3), "its answer is over 2048 characters"),
    ([*sse("Penguins are")[:1], *sse("\x1b]0;pwned\x07")], "its answer holds control characters"),
])
def test_a_stream_that_breaks_after_some_text_ends_there(server, planner, local, items, why):
    """What was shown stays; the answer is not started again by the local model, and the
    console says the server broke off."""
    server.stream = lambda body: items
    text = "".join(planner.stream_answer("tell me about penguins"))
    assert text in ("Penguins are", BIG * 2), text
    assert planner.answer_note == f"the server at {server.url} broke off its answer ({why})"
    assert local.asked == []


def test_a_stream_is_held_to_its_whole_deadline(server, planner, local, monkeypatch):
    monkeypatch.setattr(remote, "ANSWER_TIMEOUT_S", 1.5)
    server.stream = lambda body: [x for _ in range(40) for x in (*sse("la ")[:1], 0.2)]
    t0 = time.monotonic()
    text = "".join(planner.stream_answer("sing me a song"))
    assert time.monotonic() - t0 < 2.5 and text.startswith("la la ")
    assert planner.answer_note.endswith("broke off its answer (its answer took over 1.5 s)")


def test_no_server_for_the_plan_means_no_second_try_for_its_answer(server, planner, local):
    """A request whose plan found no server (it stopped) is answered here at once, and
    the console says the server gave no answer."""
    server.close()
    plan = planner.plan("tell me a joke about penguins", "/data")
    assert "gave no usable plan" in planner.remote_note
    assert plan[0]["tool"] in ("answer", "clarify")
    t0 = time.monotonic()
    assert "".join(planner.stream_answer("tell me a joke about penguins")) == "local reply"
    assert time.monotonic() - t0 < 0.5
    assert planner.answer_note.startswith(f"the server at {server.url} gave no answer (")
    assert planner.answer_note.endswith("; the local model answered")


def test_no_server_set_the_local_model_answers_without_a_note(planner, local):
    planner.remote_url = ""
    assert "".join(planner.stream_answer("hello")) == "local reply"
    assert planner.answer_note is None


def test_the_console_says_who_answered(server, planner, local, tmp_path):
    """The server's answer streamed on the console and said to come from it; then the
    server answers garbage: the local model's answer, said so."""
    (tmp_path / "data").mkdir()
    server.answers("?")
    replies = iter([sse("Penguins ", "waddle."), [b"data: garbage\n\n"]])
    server.stream = lambda body: next(replies)
    output = run_console(planner, tmp_path, [b"tell me a joke about penguins\r",
                                             b"tell me a joke about cats\r"])
    first, second = output.split("tell me a joke about cats", 1)
    assert "Penguins waddle." in first and f"answered by the server at {server.url} (" in first
    assert "local reply" in second
    assert f"the server at {server.url} gave no answer (its reply is not JSON); " \
           "the local model answered" in second


def scoring(own: str, own_lp: list[float] | None, scored_lp: dict[str, list[float]]):
    """A reply for FakeLlamaServer: `own` (with the per-token log probabilities `own_lp`)
    under the request-word grammar; under a grammar that admits one reading alone (the
    planner asks it to weigh the rules' reading), that reading with `scored_lp[reading]`."""
    def reply(body):
        g = body["grammar"]
        if g.startswith("root ::= \"") and g.count("::=") == 1:
            text = json.loads(g[len("root ::= "):])
            lps = scored_lp[text]
        else:
            text, lps = own, own_lp
        out = {"content": text, "stop": True}
        if lps is not None:
            out["completion_probabilities"] = [{"id": i, "token": "t", "logprob": lp}
                                               for i, lp in enumerate(lps)]
        return 200, json.dumps(out).encode()
    return reply


def test_the_rules_reading_stands_where_the_server_finds_it_about_as_likely(server, planner):
    """A server's plan is weighed against the rules' as the local model's is: "the folder
    log" read as `ls /data` by the server, `ls log` by the rules, which its model finds
    within ARBITRATION_MARGIN nats of its own: theirs stands."""
    server.reply = scoring("ls /data", [-0.1, -0.2, -0.3], {"ls log": [-0.5, -2.0, -3.0]})
    plan = planner.plan("show me what is in the folder log", "/data")
    assert plan == [{"tool": "list_dir", "args": {"path": "/data/log"}}]
    assert [r["grammar"] for r in server.requests][1] == 'root ::= "ls log"'
    assert all(r["n_probs"] == 1 for r in server.requests)
    assert planner.remote_note.startswith(f"planned by the server at {server.url} (")
    assert "its reading (ls /data) is set aside for the rules' one, which it found about " \
        "as likely (-5.5 against -0.6 nats)" in planner.remote_note, planner.remote_note
    assert planner.last_arbitration == {"rules": "ls log", "rules_logprob": -5.5,
                                        "model": "ls /data", "model_logprob": pytest.approx(-0.6)}
    assert planner.last_source.startswith("parser")


def test_the_servers_reading_stands_where_it_finds_the_rules_unlikely(server, planner):
    server.reply = scoring("ls /data", [-0.1, -0.2], {"ls log": [-9.0, -9.0]})
    plan = planner.plan("show me what is in the folder log", "/data")
    assert plan == [{"tool": "list_dir", "args": {"path": "/data"}}]
    assert planner.remote_note.startswith("planned by the server") and \
        "set aside" not in planner.remote_note
    assert planner.last_source == "remote"


def test_readings_the_rules_share_cost_no_second_request(server, planner):
    server.reply = scoring("ls log", [-0.1], {})
    assert planner.plan("show me what is in the folder log", "/data") == \
        [{"tool": "list_dir", "args": {"path": "/data/log"}}]
    assert len(server.requests) == 1 and planner.last_source == "remote"


@pytest.mark.parametrize("own_lp, scored, why", [
    (None, {"ls log": [-1.0]}, "its reply gives no token probabilities"),
    ([0.5], {"ls log": [-1.0]}, "its reply gives no token probabilities"),   # not a log P
    ([-0.1], {"ls log": None}, "its reply gives no token probabilities"),
    ([-0.1], {"ls log": [float("nan")]}, "its reply gives no token probabilities"),
])
def test_a_server_that_cannot_weigh_the_readings_leaves_the_rules_one(server, planner,
                                                                      own_lp, scored, why):
    server.reply = scoring("ls /data", own_lp, scored)
    plan = planner.plan("show me what is in the folder log", "/data")
    assert plan == [{"tool": "list_dir", "args": {"path": "/data/log"}}]
    assert f"set aside for the rules' one, as it could not weigh the two ({why})" \
        in planner.remote_note, planner.remote_note


def test_a_server_that_scores_another_reading_leaves_the_rules_one(server, planner):
    def reply(body):
        return 200, json.dumps({"content": "ls /data", "completion_probabilities":
                                [{"logprob": -0.1}]}).encode()
    server.reply = reply      # it answers its own reading where it was to weigh `ls log`
    assert planner.plan("show me what is in the folder log", "/data") == \
        [{"tool": "list_dir", "args": {"path": "/data/log"}}]
    assert "(it did not score the reading it was given)" in planner.remote_note


def test_a_server_reading_that_drops_a_step_gives_way_without_scoring(server, planner):
    server.reply = scoring("mkdir /data/x", [-0.1], {})
    plan = planner.plan("make a folder x and list it", "/data")
    assert [a["tool"] for a in plan] == ["make_dir", "list_dir"], plan
    assert len(server.requests) == 1
    assert "which leaves out a step or a place they read" in planner.remote_note
