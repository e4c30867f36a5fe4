"""The network in the guest (QEMU user networking: 10.0.2.15, gateway 10.0.2.2, DNS 10.0.2.3):
the network service's DHCP lease shown by the console's tools, nothing listening, and the
remote planner: a real llama-server on the host's loopback (`make serve`'s build, the
image's model and adapter) that the guest reaches at 10.0.2.2 (a plan, a streamed
answer), then stopped, then replaced by a server that answers garbage. One guest for the whole module (booting costs)."""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from qemu_harness import scaled


@pytest.fixture(scope="module")
def port() -> int:
    from bench.llamaserver import free_port
    return free_port()


@pytest.fixture(scope="module")
def server(port, tmp_path_factory):
    from bench.llamaserver import Running
    s = Running(port, tmp_path_factory.mktemp("llama") / "llama-server.log")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def guest(image, tmp_path_factory, server, port):
    from mkimage.image import make_data_image
    from qemu_harness import Guest
    wd = tmp_path_factory.mktemp("netguest")
    make_data_image(wd / "data.ext4", 64)
    g = Guest(wd, wd / "data.ext4", append=f"llmos.llm=http://10.0.2.2:{port}")
    g.boot()
    yield g
    g.kill()


def test_dhcp_gives_the_guest_its_address(guest):
    out = guest.ask("list network devices", timeout=scaled(240))
    assert re.search(r"eth0\s+up\s+up\s+\S+\s+10\.0\.2\.15/24", out), out
    assert "configured: eth0 10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3 (DHCP)" in out
    info = guest.ask("system info", timeout=scaled(120))
    assert re.search(r"network\s+eth0 10\.0\.2\.15/24 via 10\.0\.2\.2, DNS 10\.0\.2\.3 \(DHCP\)", info), info
    resolv = guest.ask("cat /etc/resolv.conf", timeout=scaled(120))
    assert "nameserver 10.0.2.3" in resolv, resolv
    log = guest.ask("cat /data/log/network.log", timeout=scaled(120))
    m = re.search(r"eth0: 10\.0\.2\.15/24 via 10\.0\.2\.2 from 10\.0\.2\.2 for \d+ s \((\d+\.\d+) s\)", log)
    assert m, log
    print(f"\nDHCP lease {m.group(1)} s after the network service started")


def _sockets(text: str) -> list[str]:
    """The socket lines of a /proc/net/{tcp,udp}{,6} listing (its header left out)."""
    return [ln for ln in text.splitlines() if re.match(r"\s*\d+: [0-9A-F]+:[0-9A-F]{4} ", ln)]


@pytest.mark.parametrize("table", ["tcp", "tcp6", "udp", "udp6"])
def test_nothing_listens(guest, table):
    """llmos opens no listening socket, and the DHCP client's socket is closed after use."""
    out = guest.ask(f"cat /proc/net/{table}", timeout=scaled(120))
    assert "local_address" in out, out
    socks = _sockets(out)
    if table.startswith("tcp"):
        assert not [s for s in socks if s.split()[3] == "0A"], out     # 0A: LISTEN
    else:
        assert socks == [], out                                        # no bound UDP socket


def test_a_request_is_planned_by_the_llama_server_on_the_host(guest, server, port):
    before = server.tasks()
    t0 = time.monotonic()
    out = guest.ask("show me what is in the folder log", timeout=scaled(240))
    took = time.monotonic() - t0
    m = re.search(rf"planned by the server at http://10\.0\.2\.2:{port} \((\d+\.\d+) s\)", out)
    assert m, out
    assert "list_dir /data/log" in out and "pid1.log" in out, out
    assert server.tasks() > before, server.text()[-2000:]        # its log shows the request
    print(f"\nremote plan: {m.group(1)} s in the guest, {took:.2f} s at the serial line")


def test_a_free_form_answer_streams_from_the_llama_server(guest, server, port):
    """A request no command fits: planned there ("?"), then answered there, streamed."""
    before = server.tasks()
    out = guest.ask("hello, how are you today", timeout=scaled(240))
    assert re.search(rf"planned by the server at http://10\.0\.2\.2:{port} ", out), out
    m = re.search(rf"answered by the server at http://10\.0\.2\.2:{port} \((\d+\.\d+) s\)", out)
    assert m, out
    assert server.tasks() >= before + 2, server.text()[-2000:]     # the plan, the answer
    print(f"\nremote answer: {m.group(1)} s in the guest")


def test_the_servers_model_weighs_readings_as_the_local_one_does(server, port):
    """The arbitration of a server's plan (planner._rules_stand) compares the log P the server
    reports (n_probs: raw logits, whatever the grammar) with the same margin as the local
    model's: both count the same thing, so the server's figures are the local model's."""
    from llmos_init.planner import translation
    from llmos_init.planner.parser import Context
    from llmos_init.planner.planner import Planner
    from llmos_init.planner.remote import Remote
    request, ctx = "show me what is in the folder log", Context(cwd="/data")
    remote = Remote(f"http://127.0.0.1:{port}", timeout=30)
    answer = remote.translate(request, "/data", translation.answer_grammar(request, ctx))
    p = Planner()
    p.load()
    assert p.wait_ready(120) and p.translator is not None, p.status
    rt = p.translator
    local = rt.translate(request, "/data", grammar_text=translation.answer_grammar(request, ctx))
    assert answer.strip() == local.strip()
    assert abs(remote.last_logprob - rt.last_logprob) < 0.5, (remote.last_logprob, rt.last_logprob)
    for reading in ("ls log", "ls /data/log", "cat log"):
        theirs = remote.answer_logprob(request, "/data", reading)
        ours, _ = rt.answer_logprob(request, "/data", reading)
        assert abs(theirs - ours) < 0.5, (reading, theirs, ours)


def test_the_server_stopped_the_local_planner_answers_and_says_so(guest, server, port):
    server.stop()
    t0 = time.monotonic()
    out = guest.ask("show me what is in the folder log", timeout=scaled(240))
    print(f"\nlocal plan after the server stopped: {time.monotonic() - t0:.2f} s at the serial line")
    assert re.search(rf"the server at http://10\.0\.2\.2:{port} gave no usable plan \(.*\); "
                     r"the local planner answered", out), out
    assert "list_dir /data/log" in out or "not sure" in out or "didn't understand" in out, out
    out = guest.ask("hello, how are you today", timeout=scaled(240))    # chat: answered here
    assert re.search(rf"the server at http://10\.0\.2\.2:{port} gave no answer \(.*\)", out), out


class Garbage(BaseHTTPRequestHandler):
    """A server that answers every completion with a destruction nobody asked for, then
    bytes that are not JSON."""
    replies = [json.dumps({"content": "rm -r /data"}).encode(), b"\x00\xff garbage \x1b[2J"]
    served: list[str] = []

    def log_message(self, *a):
        pass

    def do_GET(self):
        self._send(b"{}")

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._send(self.replies[len(self.served) % len(self.replies)])
        self.served.append(self.path)

    def _send(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_a_server_answering_garbage_is_a_clear_error_and_nothing_runs(guest, port):
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Garbage)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        out = guest.ask("what is in the folder log", timeout=scaled(240))
        assert "gave no usable plan (path /data is not in the request)" in out or \
            "gave no usable plan (nothing in the request asks for remove)" in out, out
        assert "Proceed?" not in out and "remove" not in out.split("local planner answered", 1)[1]
        out = guest.ask("what is in the folder log", timeout=scaled(240))
        assert "gave no usable plan (its reply is not JSON)" in out, out
        assert Garbage.served == ["/completion", "/completion"]
    finally:
        httpd.shutdown()
        httpd.server_close()
    out = guest.ask("ls /data/log", timeout=scaled(120))
    assert "pid1.log" in out and "planned by" not in out      # exact syntax: local
