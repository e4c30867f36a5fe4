"""llama.cpp RPC workers for the local model (planner/rpc.py, modelhost.py): the setting,
the HELLO probe against fake workers, the modelhost protocol against fake children that
answer, abort like ggml does, hang or never get ready, and the planner falling back to the
local model when its workers cannot be used. (With the real rpc-server and a wheel built
with GGML_RPC: tests/planner/test_rpc_worker.py.)"""
from __future__ import annotations

import socket
import struct
import sys
import textwrap
import threading
import time

import pytest

from llmos_init.planner import rpc
from llmos_init.planner.modelhost import HostedRuntime, WorkerGone
from llmos_init.reaper import Reaper


def test_setting_data_file_wins_and_off_turns_it_off(tmp_path):
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("console=ttyS0 llmos.rpc=10.0.2.2:50052,10.0.2.2:50053 quiet\n")
    data = tmp_path / "rpc"
    assert rpc.setting(str(cmdline), str(data)) == "10.0.2.2:50052,10.0.2.2:50053"
    data.write_text("192.168.1.5:50052\n")
    assert rpc.setting(str(cmdline), str(data)) == "192.168.1.5:50052"
    data.write_text("off\n")
    assert rpc.setting(str(cmdline), str(data)) is None
    data.unlink()
    cmdline.write_text("console=ttyS0\n")
    assert rpc.setting(str(cmdline), str(data)) is None


def test_parse_workers():
    assert rpc.parse("10.0.2.2:50052") == [("10.0.2.2", 50052)]
    assert rpc.parse("a:1, b.lan:65535") == [("a", 1), ("b.lan", 65535)]
    for bad in ("10.0.2.2", ":50052", "h:0", "h:65536", "h:x", "http://h:1", "h:1,", "u@h:1"):
        with pytest.raises(ValueError):
            rpc.parse(bad)
    with pytest.raises(ValueError):
        rpc.parse(",".join(f"h:{i + 1}" for i in range(rpc.MAX_WORKERS + 1)))


class FakeWorker:
    """A TCP server on 127.0.0.1 that answers one HELLO per connection with `answer`
    (bytes after the request), or says nothing (`answer` None)."""

    def __init__(self, answer: bytes | None):
        self.answer = answer
        self.requests: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while len(data) < 1 + 8 + rpc.CONN_CAPS:
                    piece = conn.recv(64)
                    if not piece:
                        break
                    data += piece
                self.requests.append(data)
                if self.answer is None:
                    time.sleep(5)
                else:
                    conn.sendall(self.answer)

    def close(self):
        self.sock.close()


def hello(major=7, minor=0, patch=0, size=28) -> bytes:
    return struct.pack("<Q", size) + bytes([major, minor, patch, 0]) + bytes(24)


def test_probe_speaks_rpc_hello():
    w = FakeWorker(hello(7, 0, 0))
    try:
        assert rpc.probe(("127.0.0.1", w.port)) == "7.0.0"
        assert w.requests == [bytes([14]) + struct.pack("<Q", 24) + bytes(24)]
    finally:
        w.close()


@pytest.mark.parametrize("answer, why", [
    (hello(6, 0, 0), "protocol 6.0.0"),
    (hello(7, 1, 0), "protocol 7.1.0"),
    (hello(size=12), "not a llama.cpp rpc-server"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "not a llama.cpp rpc-server"),
    (b"", "closed the connection"),
])
def test_probe_refuses_what_is_not_this_rpc_server(answer, why):
    w = FakeWorker(answer)
    try:
        with pytest.raises(rpc.RpcError, match=why):
            rpc.probe(("127.0.0.1", w.port))
    finally:
        w.close()


def test_probe_of_a_silent_or_absent_worker_ends_in_time():
    w = FakeWorker(None)
    t0 = time.monotonic()
    try:
        with pytest.raises(rpc.RpcError, match="no answer within 0.5 s"):
            rpc.probe(("127.0.0.1", w.port), timeout=0.5)
    finally:
        w.close()
    assert time.monotonic() - t0 < 3
    with socket.socket() as s:          # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(rpc.RpcError, match="refused"):
        rpc.probe(("127.0.0.1", port))


def test_usable_asks_an_unreachable_worker_again_until_it_answers():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    late: list = []

    def start_later():
        time.sleep(1.5)
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", port))
        srv.listen(1)
        late.append(srv)
        conn, _ = srv.accept()
        conn.recv(64)
        conn.sendall(hello())
        conn.close()

    threading.Thread(target=start_later, daemon=True).start()
    t0 = time.monotonic()
    ok, skipped = rpc.usable([("127.0.0.1", port)], wait=10)
    assert ok == [("127.0.0.1", port)] and skipped == [] and time.monotonic() - t0 < 8
    late[0].close()
    t0 = time.monotonic()                  # nothing there at all: given up after `wait`
    ok, skipped = rpc.usable([("127.0.0.1", port)], wait=2)
    assert ok == [] and "refused" in skipped[0] and time.monotonic() - t0 < 5
    w = FakeWorker(hello(6, 0, 0))         # a wrong version is final: not asked again
    t0 = time.monotonic()
    try:
        ok, skipped = rpc.usable([("127.0.0.1", w.port)], wait=10)
    finally:
        w.close()
    assert ok == [] and "protocol 6.0.0" in skipped[0] and time.monotonic() - t0 < 2


# ---- the modelhost protocol, against fake children --------------------------------------

FAKE_CHILD = textwrap.dedent('''
    import json, os, sys, time
    mode = os.environ["FAKE_MODE"]
    out = sys.stdout
    def send(m):
        out.write(json.dumps(m) + "\\n"); out.flush()
    if mode == "error":
        send({"error": "127.0.0.1:1: Connection refused"}); sys.exit(3)
    if mode == "silent":
        time.sleep(30); sys.exit(0)
    send({"ready": {"workers": ["127.0.0.1:50052"], "skipped": ["10.9.9.9:1: no answer"],
                    "prefix_source": "none", "load_seconds": {"total": 0.1}}})
    for line in sys.stdin:
        msg = json.loads(line)
        if "cancel" in msg:
            continue
        n, args = msg["id"], msg["args"]
        if msg["call"] == "stream_reply":
            for p in ("Hello", " there"):
                send({"id": n, "piece": p})
            send({"id": n, "done": True})
        elif args[0] == "abort":
            sys.stderr.write("/x/ggml-rpc.cpp:566: Remote RPC server crashed or returned "
                             "malformed response\\n"); sys.stderr.flush()
            os.abort()
        elif args[0] == "hang":
            time.sleep(30)
        elif args[0] == "raise":
            send({"id": n, "exc": ["ValueError", "prompt too long"]})
        elif args[0] == "garbage":
            out.write("not json\\n"); out.flush()
        else:
            send({"id": n, "ok": "list_dir " + args[1], "last_logprob": -0.25})
''')


@pytest.fixture
def hosted(tmp_path, monkeypatch):
    script = tmp_path / "fake_child.py"
    script.write_text(FAKE_CHILD)
    reaper = Reaper()
    made = []

    def make(mode: str, call_timeout: float = 5.0, load_timeout: float = 10.0):
        monkeypatch.setenv("FAKE_MODE", mode)

        def spawn(argv, **kw):
            assert argv[1:5] == ["-m", "llmos_init", "modelhost", "--model"]
            assert "--workers" in argv and kw.get("new_session") is True
            return reaper.spawn([sys.executable, str(script)], **kw)

        rt = HostedRuntime("/m.gguf", 1, "/a.lora.gguf", "127.0.0.1:50052", spawn,
                           load_timeout=load_timeout, call_timeout=call_timeout)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()


def test_hosted_runtime_answers_and_streams(hosted):
    rt = hosted("ok")
    rt.load()
    assert rt.workers == ["127.0.0.1:50052"] and rt.skipped == ["10.9.9.9:1: no answer"]
    assert rt.translate("show the folder log", "/data/log") == "list_dir /data/log"
    assert rt.last_logprob == -0.25
    assert "".join(rt.stream_reply("hi")) == "Hello there"
    with pytest.raises(ValueError, match="prompt too long"):
        rt.translate("raise", "/data")
    assert rt.translate("again", "/data") == "list_dir /data"     # still usable


def test_a_reply_given_up_half_way_is_cancelled_and_the_next_call_answers(hosted):
    rt = hosted("ok")
    rt.load()
    stream = rt.stream_reply("hi")
    assert next(stream) == "Hello"
    stream.close()                          # the console's Ctrl-C: the reader goes away
    assert rt.translate("after", "/data") == "list_dir /data"    # the stale piece passed over
    ev = threading.Event()
    ev.set()
    assert list(rt.stream_reply("hi", cancel=ev)) == []


def test_a_child_that_aborts_like_ggml_is_worker_gone_with_its_reason(hosted):
    rt = hosted("ok")
    rt.load()
    t0 = time.monotonic()
    with pytest.raises(WorkerGone, match="Remote RPC server crashed or returned malformed"):
        rt.translate("abort", "/data")
    assert time.monotonic() - t0 < 4
    with pytest.raises(WorkerGone):        # gone stays gone, at once
        rt.translate("x", "/data")
    assert rt.child.wait(5) is not None


def test_a_child_that_hangs_is_killed_at_the_deadline(hosted):
    rt = hosted("ok", call_timeout=1.0)
    rt.load()
    t0 = time.monotonic()
    with pytest.raises(WorkerGone, match=r"no answer within 1 s \(translate\)"):
        rt.translate("hang", "/data")
    assert time.monotonic() - t0 < 3
    assert rt.child.wait(5) is not None     # killed


def test_a_child_that_breaks_the_protocol_is_gone(hosted):
    rt = hosted("ok")
    rt.load()
    with pytest.raises(WorkerGone, match="not the protocol"):
        rt.translate("garbage", "/data")


@pytest.mark.parametrize("mode, why", [("error", "Connection refused"),
                                       ("silent", r"no answer within 1 s \(loading the model\)")])
def test_a_child_that_never_gets_ready_is_gone(hosted, mode, why):
    rt = hosted(mode, load_timeout=1.0)
    with pytest.raises(WorkerGone, match=why):
        rt.load()


# ---- the planner: workers that cannot be used leave the model local ---------------------

def test_the_planner_without_usable_workers_loads_locally_and_says_why(tmp_path):
    pytest.importorskip("llama_cpp", reason="llama_cpp is not installed")
    from llmos_init.planner.models import find_model
    from llmos_init.planner.planner import Planner
    model = find_model()
    if not model:
        pytest.skip("no GGUF model found")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]           # nothing listens there once closed
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "rpc").write_text(f"127.0.0.1:{port}\n")
    p = Planner(model_path=model)
    p.data_dir = str(tmp_path)
    p.rpc_wait = 1.0
    t0 = time.monotonic()
    assert p.load() == "ready", p.status
    assert time.monotonic() - t0 < 20
    assert p.rpc_note == (f"RPC workers 127.0.0.1:{port}: not used (127.0.0.1:{port}: "
                          f"Connection refused); the model runs locally"), p.rpc_note
    assert type(p.runtime).__name__ == "ModelRuntime"
    plan = p.plan("show me what is in the folder log", "/data")
    assert plan and plan[0]["tool"] in ("list_dir", "clarify", "answer"), plan


# ---- a real rpc-server (make serve's build) and a wheel with GGML_RPC -------------------

def _rpc_ready():
    """Why the real-worker test cannot run here, or None."""
    import importlib.util
    import os
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None:
        return "llama_cpp is not installed"
    lib = os.path.join(list(spec.submodule_search_locations)[0], "lib")
    if not os.path.exists(os.path.join(lib, "libggml-rpc.so.0")):
        return "this venv's llama-cpp-python wheel predates GGML_RPC (make venv)"
    from mkimage import cache
    from bench import llamaserver
    from mkimage.pins import pins
    p = pins()["llama_cpp_python"]
    key = cache.key(llamaserver.STEP, p["version"], p["sdist_sha256"],
                    llamaserver.configure_args(llamaserver.host_arch()), llamaserver.host_arch())
    if not (cache.entry(llamaserver.STEP, f"{llamaserver.host_arch()}-{key}") / llamaserver.RPC).exists():
        return "rpc-server is not built yet (make serve builds it; so do the QEMU tests)"
    return None


# worded so that no template or English rule reads it (tests/planner/test_trained_adapter.py's
# OWN): last_source "model" then says the worker's model planned it. ("show me what is in the
# folder log", used before, is read by the rules too, and corpus-v6 finds their "ls log"
# about as likely as its own answer, so the rules' plan stands: planner._prefers_rules.)
OWN_READING = "could you pull up what's inside the music folder"


def test_a_real_worker_holds_the_layers_and_its_loss_leaves_a_working_planner(tmp_path):
    why = _rpc_ready()
    if why:
        pytest.skip(why)
    from bench.llamaserver import RpcWorker, free_port
    from llmos_init.planner.models import find_model
    from llmos_init.planner.planner import Planner
    model = find_model()
    if not model:
        pytest.skip("no GGUF model found")
    port = free_port()
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "rpc").write_text(f"127.0.0.1:{port}\n")
    with RpcWorker(port, tmp_path / "rpc-server.log") as w:
        before = w.rss_kib()
        p = Planner(model_path=model)
        p.data_dir = str(tmp_path)
        assert p.load() == "ready", p.status
        assert p.rpc_note == f"the model runs on the RPC worker 127.0.0.1:{port}", p.rpc_note
        assert type(p.runtime).__name__ == "HostedRuntime" and "RPC0" in p.runtime.devices
        # the weights (92 MiB) and the KV cache live in the worker now
        assert w.rss_kib() - before > 60_000, (before, w.rss_kib())
        # a request the model itself plans (no rule reads it): its plan came from the worker
        plan = p.plan(OWN_READING, "/data")
        assert p.last_source == "model" and plan[0]["tool"] == "list_dir", (p.last_source, plan)
        w.stop()                                 # the worker goes away
        t0 = time.monotonic()
        plan = p.plan("show me what is in the folder log", "/data")
        assert time.monotonic() - t0 < 30
        assert plan and plan[0]["tool"] in ("list_dir", "clarify"), plan
        assert p.rpc_note.startswith("the model's RPC worker failed (it ended: Remote RPC "
                                     "server crashed or returned malformed response)"), p.rpc_note
        assert p.wait_ready(120) and type(p.runtime).__name__ == "ModelRuntime", p.status
        plan = p.plan(OWN_READING, "/data")
        assert p.last_source == "model" and plan[0]["tool"] == "list_dir", plan


def test_a_real_worker_that_stops_answering_is_given_up_at_the_deadline(tmp_path, monkeypatch):
    """A worker that vanishes without a reset (SIGSTOP: its socket stays open, nothing
    answers): ggml's socket would wait forever; the planner kills the model's process at
    the call's deadline and plans without it."""
    import os
    import signal
    why = _rpc_ready()
    if why:
        pytest.skip(why)
    from bench.llamaserver import RpcWorker, free_port
    from llmos_init.planner import modelhost
    from llmos_init.planner.models import find_model
    from llmos_init.planner.planner import Planner
    model = find_model()
    if not model:
        pytest.skip("no GGUF model found")
    monkeypatch.setattr(modelhost, "CALL_TIMEOUT_S", 3.0)
    port = free_port()
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "rpc").write_text(f"127.0.0.1:{port}\n")
    with RpcWorker(port, tmp_path / "rpc-server.log") as w:
        p = Planner(model_path=model)
        p.data_dir = str(tmp_path)
        assert p.load() == "ready" and type(p.runtime).__name__ == "HostedRuntime", p.rpc_note
        os.kill(w.proc.pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            plan = p.plan("show me what is in the folder log", "/data")
            took = time.monotonic() - t0
        finally:
            os.kill(w.proc.pid, signal.SIGCONT)
        assert 2.5 < took < 15, took
        assert plan and plan[0]["tool"] in ("list_dir", "clarify"), plan
        assert "no answer within 3 s (translate)" in p.rpc_note, p.rpc_note
        assert p.wait_ready(120) and type(p.runtime).__name__ == "ModelRuntime", p.status
