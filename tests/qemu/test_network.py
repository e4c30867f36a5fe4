"""The network in the guest (QEMU user networking: 10.0.2.15, gateway 10.0.2.2, DNS 10.0.2.3):
the network service's DHCP lease shown by the console's tools, nothing listening, and the
remote planner: a real llama-server on the host's loopback (`make serve`'s build, the
image's model and adapter) that the guest reaches at 10.0.2.2, then stopped, then replaced
by a server that answers garbage. One guest for the whole module (booting costs)."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from qemu_harness import scaled


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """llama-server (bench/llamaserver.py) on 127.0.0.1:port, its log in a file."""

    def __init__(self, port: int, log_path):
        from bench import llamaserver
        from llmos_init.planner.adapter import find_adapter
        exe = llamaserver.build()[llamaserver.SERVER]       # cached after the first build
        model = llamaserver.image_model()
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            llamaserver.server_command(exe, model, "127.0.0.1", port, 1, find_adapter(str(model)),
                                       ctx=1024), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while "listening on" not in self.text():
            assert self.proc.poll() is None and time.monotonic() < deadline, self.text()[-2000:]
            time.sleep(0.2)

    def text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def tasks(self) -> int:
        """Completions it has served (one "processing task" line each)."""
        return self.text().count("processing task")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.log.close()


@pytest.fixture(scope="module")
def port() -> int:
    return _free_port()


@pytest.fixture(scope="module")
def server(port, tmp_path_factory):
    s = LlamaServer(port, tmp_path_factory.mktemp("llama") / "llama-server.log")
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


def test_the_server_stopped_the_local_planner_answers_and_says_so(guest, server, port):
    server.stop()
    t0 = time.monotonic()
    out = guest.ask("show me what is in the folder log", timeout=scaled(240))
    print(f"\nlocal plan after the server stopped: {time.monotonic() - t0:.2f} s at the serial line")
    assert re.search(rf"the server at http://10\.0\.2\.2:{port} gave no usable plan \(.*\); "
                     r"the local planner answered", out), out
    assert "list_dir /data/log" in out or "not sure" in out or "didn't understand" in out, out


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
