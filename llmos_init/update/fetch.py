"""An update bundle from an http:// URL: its head for the question, the whole file after the yes.

head(): one GET of which only the first tar blocks are read (the manifest and its
signature, at most MANIFEST_MAX and four blocks), checked as a file's are
(bundle.check_head); then the connection is closed. The question shows a signed manifest
and nothing has been written.
download(): a second GET, streamed into a new file in DOWNLOADS (O_EXCL, removed on any
failure or Ctrl-C), never longer than the manifest's files and the tar's own blocks can
be (bound()). The caller opens that file as a bundle (open_bundle), checks that its
manifest is the very one the question showed (Bundle.digest), verifies and installs it,
and removes it.

A hostile or broken server is a BundleError that says what happened: a status other than
200 (redirects are not followed), a Content-Length over the bound, a body cut short or
longer than the bound, no byte for TIMEOUT_S, a head that takes longer than HEAD_S to
trickle in, a first member that is not a small manifest. Plain http:// only: the image carries no TLS certificates, and what vouches for a
bundle is its signature, checked against the image's key whatever the transport.
Standard library only (http.client, urllib.parse, tarfile's header parser) besides bundle.py.
"""
from __future__ import annotations

import os
import urllib.parse

from .bundle import CHUNK, MANIFEST, MANIFEST_MAX, PARTS, SIGNATURE, Bundle, BundleError, check_head

DOWNLOADS = "/data/updates"
PREFIX = ".download-"          # a download in progress (or cut by a power loss): removed next time
TIMEOUT_S = 30.0               # the longest wait for a byte (connect, headers, body)
HEAD_S = 60.0                  # the longest the question waits for the bundle's head
BLOCK = 512
RECORD = 20 * BLOCK            # tarfile pads the archive to this
KEEP_FREE = 8 << 20            # what a download leaves free on /data (the logs, the audit log)


def is_url(value: str) -> bool:
    return "://" in value and value.split("://", 1)[0].isalpha()


def parse(url: str) -> tuple[str, int, str]:
    """(host, port, path and query) of an http:// URL; BundleError otherwise."""
    u = urllib.parse.urlsplit(url.strip())
    if u.scheme == "https":
        raise BundleError("https:// is not supported (the image has no TLS certificates); "
                          "give the http:// URL: the bundle's signature is what vouches for it")
    if u.scheme != "http" or not u.hostname:
        raise BundleError(f"{url!r} is not an http://HOST[:PORT]/PATH URL")
    if u.username or u.password:
        raise BundleError("no user name or password in the URL")
    try:
        port = u.port or 80
    except ValueError:
        raise BundleError(f"{url!r}: bad port") from None
    path = (u.path or "/") + (f"?{u.query}" if u.query else "")
    return u.hostname, port, path


def _padded(n: int) -> int:
    return -(-n // BLOCK) * BLOCK


def bound(manifest_bytes: int, files: list[dict]) -> int:
    """The most bytes a bundle with this manifest can have (mkimage/bundle.py's layout:
    a header and padded data per member, two zero blocks, padding to a record)."""
    members = [manifest_bytes, 64] + [e["bytes"] for e in files]
    return sum(BLOCK + _padded(n) for n in members) + 2 * BLOCK + RECORD


class _Get:
    """One GET, its status checked; read(n) gives at most n bytes, b"" at the end."""

    def __init__(self, url: str, timeout: float):
        import http.client
        host, port, path = parse(url)
        self._errors = (OSError, http.client.HTTPException)
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            self.conn.request("GET", path, headers={"Accept": "application/octet-stream",
                                                     "User-Agent": "llmos-update"})
            self.resp = self.conn.getresponse()
        except self._errors as e:
            self.close()
            raise BundleError(f"cannot fetch {url}: {_why(e, timeout)}") from None
        if self.resp.status != 200:
            where = self.resp.getheader("Location")
            self.close()
            raise BundleError(f"the server answered {self.resp.status} {self.resp.reason}"
                              + (f" (a redirect to {where!r} is not followed)" if where else ""))
        try:
            self.length = int(self.resp.getheader("Content-Length", ""))
        except ValueError:
            self.length = None

    def read(self, n: int) -> bytes:
        """What one read of the socket gives (at most n bytes): a server that drips its
        bytes is seen after each, by a deadline or a Ctrl-C."""
        try:
            return self.resp.read1(n)
        except self._errors as e:
            raise BundleError(f"the download broke off: {_why(e, self.timeout)}") from None

    def exactly(self, n: int, what: str, deadline: float) -> bytes:
        import time
        out = b""
        while len(out) < n:
            if time.monotonic() > deadline:
                raise BundleError(f"the server took more than {HEAD_S:.0f} s for the bundle's head")
            got = self.read(n - len(out))
            if not got:
                raise BundleError(f"the server's file ends inside {what}: not an llmos update bundle")
            out += got
        return out

    def close(self) -> None:
        self.conn.close()


def _why(e: Exception, timeout: float) -> str:
    import socket
    if isinstance(e, socket.timeout):
        return f"no answer for {timeout:g} s"
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


def _member(get: _Get, name: str, most: int, deadline: float) -> bytes:
    """The next tar member's data, after its header says it is `name` of at most `most` bytes."""
    import tarfile
    try:
        info = tarfile.TarInfo.frombuf(get.exactly(BLOCK, "a tar header", deadline), "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        raise BundleError("not an llmos update bundle (no tar header first)") from None
    if info.name != name or not info.isfile():
        raise BundleError("not an llmos update bundle (no manifest first)")
    if info.size > most:
        raise BundleError("bad manifest or signature size")
    return get.exactly(_padded(info.size), name, deadline)[: info.size]


def head(url: str, target: str, public_key: bytes, parts: tuple[str, ...] = PARTS,
         timeout: float = TIMEOUT_S) -> Bundle:
    """The signed manifest at the start of the URL's bundle, checked for this target and
    slot; Bundle.path is the URL, Bundle.size the most the whole file may be."""
    import hashlib
    import time
    deadline = time.monotonic() + HEAD_S
    get = _Get(url, timeout)
    try:
        raw = _member(get, MANIFEST, MANIFEST_MAX, deadline)
        sig = _member(get, SIGNATURE, 64, deadline)
    finally:
        get.close()
    if len(sig) != 64:
        raise BundleError("bad manifest or signature size")
    manifest = check_head(raw, sig, target, public_key, parts)
    most = bound(len(raw), manifest["files"])
    if get.length is not None and get.length > most:
        raise BundleError(f"the server's file is {get.length} bytes, more than this manifest's "
                          f"files can make ({most})")
    return Bundle(url, manifest, [(e, -1) for e in manifest["files"]], most,
                  hashlib.sha256(raw).hexdigest())


def room(directory: str) -> int:
    """Bytes a download may use in `directory` (its filesystem's free space less KEEP_FREE)."""
    st = os.statvfs(directory)
    return st.f_bavail * st.f_frsize - KEEP_FREE


def _clear_stale(directory: str) -> None:
    for name in os.listdir(directory):
        if name.startswith(PREFIX):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


def download(url: str, most: int, directory: str = DOWNLOADS, progress=None,
             timeout: float = TIMEOUT_S) -> str:
    """The URL's file, at most `most` bytes, in a new file of `directory`; its path.
    progress(done, total) after each chunk (it may raise to stop: the file is removed)."""
    os.makedirs(directory, exist_ok=True)
    _clear_stale(directory)
    free = room(directory)
    if most > free:
        raise BundleError(f"not enough free space on {directory} for the download: needs "
                          f"{most >> 20} MiB, has {max(free, 0) >> 20} MiB")
    get = _Get(url, timeout)
    path = ""
    try:
        if get.length is not None and get.length > most:
            raise BundleError(f"the server's file is {get.length} bytes, more than the manifest's "
                              f"files can make ({most})")
        total = get.length or most
        name = os.path.join(directory, f"{PREFIX}{os.getpid()}.bundle")
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        path = name      # ours from here: removed on any failure
        done = 0
        with os.fdopen(fd, "wb") as f:
            while True:
                chunk = get.read(CHUNK)
                if not chunk:
                    break
                done += len(chunk)
                if done > most:
                    raise BundleError(f"the server sent more than the manifest's files can make "
                                      f"({most} bytes)")
                f.write(chunk)
                if progress is not None:
                    progress(done, total)
        if get.length is not None and done != get.length:
            raise BundleError(f"the download broke off at {done} of {get.length} bytes")
        return path
    except BaseException:
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass
        raise
    finally:
        get.close()
