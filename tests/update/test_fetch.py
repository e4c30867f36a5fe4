"""An update bundle over http (llmos_init/update/fetch.py), against a real HTTP server on the
host's loopback: the head is checked as a file's is and nothing is written for it; the
download lands in its directory and nowhere else; every kind of hostile or broken reply is
a clear BundleError and leaves no file behind."""
from __future__ import annotations

import hashlib
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from nacl.signing import SigningKey

from llmos_init.update import fetch
from llmos_init.update.bundle import BundleError, open_bundle, verify
from mkimage import bundle as mkbundle


@pytest.fixture
def key():
    return SigningKey(bytes(range(32)))


@pytest.fixture
def good(tmp_path, key):
    k = tmp_path / "bzImage"
    k.write_bytes(os.urandom(3000))
    r = tmp_path / "rootfs.squashfs"
    r.write_bytes(os.urandom(300_000))
    files = [("kernel", "bzImage", k), ("root", "rootfs.squashfs", r)]
    return mkbundle.write_bundle(tmp_path / "good.bundle", mkbundle.manifest_for("x86_64", "1.3", files),
                                 [(n, p) for _, n, p in files], key).read_bytes()


class Server:
    """routes: path -> (status, headers, body bytes, pause_s before the body's second half)."""

    def __init__(self):
        self.routes: dict[str, tuple] = {}
        self.drip: dict[str, float] = {}     # path -> seconds between its 256-byte pieces
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits.append(self.path)
                status, headers, body, pause = server.routes.get(self.path, (404, {}, b"no such file\n", 0))
                self.send_response(status)
                headers = {"Content-Length": str(len(body)), **headers}
                for k, v in headers.items():
                    if v is not None:
                        self.send_header(k, v)
                self.end_headers()
                try:
                    if self.path in server.drip:
                        for i in range(0, len(body), 256):
                            self.wfile.write(body[i:i + 256])
                            self.wfile.flush()
                            time.sleep(server.drip[self.path])
                        return
                    half = len(body) // 2 if pause else len(body)
                    self.wfile.write(body[:half])
                    self.wfile.flush()
                    if pause:
                        time.sleep(pause)
                        self.wfile.write(body[half:])
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def pub(key) -> bytes:
    return key.verify_key.encode()


def test_the_head_is_the_signed_manifest_and_nothing_is_written(server, good, key, tmp_path):
    server.routes["/llmos-1.3.bundle"] = (200, {}, good, 0)
    before = sorted(os.listdir(tmp_path))
    b = fetch.head(server.url("/llmos-1.3.bundle"), "x86_64", pub(key))
    assert b.version == "1.3" and b.target == "x86_64" and b.payload_bytes == 303000
    assert len(good) <= b.size < len(good) + 2 * 10240      # the bound holds the file
    assert sorted(os.listdir(tmp_path)) == before


def test_the_download_is_the_servers_file_and_opens_as_the_same_bundle(server, good, key, tmp_path):
    server.routes["/u/llmos-1.3.bundle?x=1"] = (200, {}, good, 0)
    url = server.url("/u/llmos-1.3.bundle?x=1")
    shown = fetch.head(url, "x86_64", pub(key))
    seen = []
    path = fetch.download(url, shown.size, directory=str(tmp_path / "updates"),
                          progress=lambda done, total: seen.append((done, total)))
    assert os.path.dirname(path) == str(tmp_path / "updates")
    assert hashlib.sha256(open(path, "rb").read()).digest() == hashlib.sha256(good).digest()
    assert seen[-1] == (len(good), len(good))
    local = open_bundle(path, "x86_64", pub(key))
    assert local.digest == shown.digest
    verify(local)


def test_a_stale_download_is_cleared_first(server, good, key, tmp_path):
    d = tmp_path / "updates"
    d.mkdir()
    (d / f"{fetch.PREFIX}1.bundle").write_bytes(b"cut by a power loss")
    (d / "mine.bundle").write_bytes(b"a user's file")
    server.routes["/b"] = (200, {}, good, 0)
    path = fetch.download(server.url("/b"), len(good) + 20480, directory=str(d))
    assert sorted(os.listdir(d)) == sorted(["mine.bundle", os.path.basename(path)])


@pytest.mark.parametrize("url,why", [
    ("https://example.org/a.bundle", "https://"),
    ("ftp://example.org/a.bundle", "not an http"),
    ("http://user:pw@127.0.0.1/a.bundle", "password"),
    ("http:///a.bundle", "not an http"),
])
def test_urls_it_does_not_fetch(url, why, key):
    with pytest.raises(BundleError, match=why):
        fetch.head(url, "x86_64", pub(key))


def test_another_key_or_target_is_refused_from_the_head(server, good, key):
    server.routes["/b"] = (200, {}, good, 0)
    with pytest.raises(BundleError, match="signature"):
        fetch.head(server.url("/b"), "x86_64", pub(SigningKey.generate()))
    with pytest.raises(BundleError, match="target"):
        fetch.head(server.url("/b"), "aarch64-virt", pub(key))


@pytest.mark.parametrize("status,headers,why", [
    (404, {}, "404"),
    (500, {}, "500"),
    (302, {"Location": "http://elsewhere/evil.bundle"}, "redirect .*not followed"),
])
def test_an_answer_other_than_200_is_refused(server, key, status, headers, why):
    server.routes["/b"] = (status, headers, b"", 0)
    with pytest.raises(BundleError, match=why):
        fetch.head(server.url("/b"), "x86_64", pub(key))


@pytest.mark.parametrize("body,why", [
    (b"<html>not found</html>\n" * 40, "tar header"),
    (b"", "ends inside"),
    (os.urandom(4096), "tar header"),
])
def test_garbage_is_not_a_bundle(server, key, body, why):
    server.routes["/b"] = (200, {}, body, 0)
    with pytest.raises(BundleError, match=why):
        fetch.head(server.url("/b"), "x86_64", pub(key))


def test_a_huge_first_member_is_not_read(server, key):
    import tarfile
    info = tarfile.TarInfo("manifest.json")
    info.size = 1 << 30                          # a 1 GiB "manifest"
    server.routes["/b"] = (200, {"Content-Length": None}, info.tobuf(tarfile.USTAR_FORMAT) + b"x" * 4096, 0)
    with pytest.raises(BundleError, match="size"):
        fetch.head(server.url("/b"), "x86_64", pub(key))


def test_a_server_that_sends_more_than_the_manifest_allows_is_cut_off(server, good, key, tmp_path):
    d = tmp_path / "updates"
    url = server.url("/b")
    server.routes["/b"] = (200, {}, good, 0)
    shown = fetch.head(url, "x86_64", pub(key))
    # the same head, then far more than its files (no Content-Length: the stream decides)
    server.routes["/b"] = (200, {"Content-Length": None, "Connection": "close"}, good + os.urandom(200_000), 0)
    with pytest.raises(BundleError, match="more than"):
        fetch.download(url, shown.size, directory=str(d))
    assert os.listdir(d) == []
    # and a Content-Length over the bound is refused before a byte is written
    server.routes["/b"] = (200, {"Content-Length": str(shown.size + 1)}, good, 0)
    with pytest.raises(BundleError, match="more than"):
        fetch.download(url, shown.size, directory=str(d))
    assert os.listdir(d) == []


def test_a_download_cut_short_leaves_nothing(server, good, key, tmp_path):
    d = tmp_path / "updates"
    server.routes["/b"] = (200, {"Content-Length": str(len(good))}, good[: len(good) // 2], 0)
    with pytest.raises(BundleError, match="broke off"):
        fetch.download(server.url("/b"), len(good) + 20480, directory=str(d))
    assert os.listdir(d) == []


def test_a_server_that_stalls_is_given_up(server, good, key, tmp_path):
    d = tmp_path / "updates"
    server.routes["/b"] = (200, {}, good, 3.0)
    t = time.monotonic()
    with pytest.raises(BundleError, match="no answer for 0.5 s"):
        fetch.download(server.url("/b"), len(good) + 20480, directory=str(d), timeout=0.5)
    assert time.monotonic() - t < 3.0
    assert os.listdir(d) == []


def test_stopping_in_the_middle_removes_the_partial_file(server, good, key, tmp_path):
    d = tmp_path / "updates"
    server.routes["/b"] = (200, {}, good, 0)

    class Stop(Exception):
        pass

    def progress(done, total):
        raise Stop

    with pytest.raises(Stop):
        fetch.download(server.url("/b"), len(good) + 20480, directory=str(d), progress=progress)
    assert os.listdir(d) == []


def test_no_room_is_said_before_the_download(server, good, key, tmp_path, monkeypatch):
    server.routes["/b"] = (200, {}, good, 0)
    monkeypatch.setattr(fetch, "room", lambda d: 1 << 20)
    with pytest.raises(BundleError, match="not enough free space"):
        fetch.download(server.url("/b"), 5 << 20, directory=str(tmp_path / "updates"))
    assert server.hits == []


def test_nobody_listening(key):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(BundleError, match="cannot fetch"):
        fetch.head(f"http://127.0.0.1:{port}/b", "x86_64", pub(key))


def test_a_head_that_trickles_in_is_given_up(server, good, key, monkeypatch):
    """A byte now and then, each within the read timeout: the head's own deadline ends it."""
    monkeypatch.setattr(fetch, "HEAD_S", 1.0)
    server.routes["/b"] = (200, {}, good, 0)
    server.drip["/b"] = 0.2
    t = time.monotonic()
    with pytest.raises(BundleError, match="more than 1 s for the bundle's head"):
        fetch.head(server.url("/b"), "x86_64", pub(key), timeout=5)
    assert time.monotonic() - t < 3.0


def test_a_dripping_download_still_reports_progress_in_pieces(server, good, key, tmp_path):
    """Each read returns what arrived: the progress callback (the console's Ctrl-C check)
    runs between pieces, not after a whole chunk."""
    server.routes["/b"] = (200, {}, good[:4096], 0)
    server.drip["/b"] = 0.01
    seen = []
    fetch.download(server.url("/b"), 20480, directory=str(tmp_path / "u"),
                   progress=lambda done, total: seen.append(done))
    assert len(seen) > 4 and seen[-1] == 4096
