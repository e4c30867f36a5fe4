"""A remote planner: llama.cpp's server (`llama-server`, `make serve` on a bigger machine)
asked for the same canonical commands the local model writes.

The setting: `llmos.llm=http://HOST:PORT` on the kernel command line, or the first line of
/data/etc/llm (which wins; `off` there turns a command-line server off). It is read at
every request, so writing the file from the console takes effect at once.

One request per plan: POST /completion with the exact prompt the local adapter was trained
on (canonical.prompt; its turn markers follow the server's chat template, from GET /props
once), translation.grammar() as its `grammar`, greedy, 64 tokens at most. The server
only writes text: its answer is read back and checked here exactly as the local model's
is (translation.read_answer: every argument grounded in the request, the action plausible),
then the planner's guard and the registry's validation, and the console still asks before
anything destructive. The server never executes anything.

Everything it sends is untrusted: a reply over MAX_REPLY bytes, slower than the timeout in
total, not JSON, not an object with a string `content`, holding control bytes, or naming
commands the request does not ask for is a RemoteError (or an unusable translation), and
the planner falls back to the local model and says so.
"""
from __future__ import annotations

import http.client
import json
import time
import urllib.parse

from . import canonical

SETTING_FILE = "/data/etc/llm"
CMDLINE_KEY = "llmos.llm"
TIMEOUT_S = 4.0
MAX_REPLY = 64 * 1024
MAX_TOKENS = 64


class RemoteError(Exception):
    """The server gave no usable answer (the message says why, for the console)."""


def parse_url(value: str) -> tuple[str, int, str]:
    """(host, port, base path) of an http:// URL; ValueError otherwise."""
    u = urllib.parse.urlsplit(value.strip())
    if u.scheme != "http" or not u.hostname:
        raise ValueError(f"{value!r}: the planner's server is an http://HOST:PORT URL")
    if u.query or u.fragment or u.username or u.password:
        raise ValueError(f"{value!r}: no query, fragment or credentials in the server's URL")
    return u.hostname, u.port or 80, u.path.rstrip("/")


def setting(cmdline: str = "/proc/cmdline", data_file: str = SETTING_FILE) -> str | None:
    """The configured server URL, or None: /data/etc/llm first, then llmos.llm=."""
    try:
        with open(data_file, encoding="utf-8", errors="replace") as f:
            first = f.read(512).strip().splitlines()
        if first:
            v = first[0].strip()
            return None if v.lower() in ("off", "none", "") else v
    except OSError:
        pass
    try:
        with open(cmdline, encoding="utf-8", errors="replace") as f:
            words = f.read(4096).split()
    except OSError:
        return None
    for w in words:
        key, _, value = w.partition("=")
        if key == CMDLINE_KEY and value:
            return value
    return None


class Remote:
    def __init__(self, url: str, timeout: float | None = None, max_reply: int = MAX_REPLY):
        self.url = url
        self.host, self.port, self.base = parse_url(url)
        self.timeout = TIMEOUT_S if timeout is None else timeout
        self.max_reply = max_reply
        self.fmt: canonical.Format | None = None

    def _request(self, method: str, path: str, body: dict | None, deadline: float) -> object:
        """The JSON of one request; RemoteError for a failure of any kind."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise RemoteError(f"no answer within {self.timeout:g} s")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=left)
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, self.base + path, body=data,
                         headers={"Content-Type": "application/json"} if data else {})
            resp = conn.getresponse()
            chunks, size = [], 0
            while True:
                if time.monotonic() > deadline:
                    raise RemoteError(f"no answer within {self.timeout:g} s")
                if conn.sock is not None:   # (None once a "Connection: close" reply is read)
                    conn.sock.settimeout(max(0.05, deadline - time.monotonic()))
                piece = resp.read1(16384)
                if not piece:
                    break
                size += len(piece)
                if size > self.max_reply:
                    raise RemoteError(f"its reply is over {self.max_reply // 1024} KiB")
                chunks.append(piece)
            if resp.status != 200:
                raise RemoteError(f"it answered HTTP {resp.status}")
            try:
                return json.loads(b"".join(chunks).decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise RemoteError("its reply is not JSON") from None
        except RemoteError:
            raise
        except TimeoutError:
            raise RemoteError(f"no answer within {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as e:
            raise RemoteError(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__) from None
        finally:
            conn.close()

    def _format(self, deadline: float) -> canonical.Format:
        """The prompt's turn markers for the server's model (its chat template), once."""
        if self.fmt is None:
            props = self._request("GET", "/props", None, deadline)
            tpl = props.get("chat_template") if isinstance(props, dict) else None
            self.fmt = canonical.GEMMA if isinstance(tpl, str) and "<start_of_turn>" in tpl \
                else canonical.CHATML
        return self.fmt

    def translate(self, request: str, cwd: str, grammar_text: str) -> str:
        """The server's answer to `request`: canonical commands, one per line (unchecked)."""
        deadline = time.monotonic() + self.timeout
        fmt = self._format(deadline)
        got = self._request("POST", "/completion", {
            "prompt": canonical.prompt(request, cwd, fmt), "grammar": grammar_text,
            "n_predict": MAX_TOKENS, "temperature": 0, "top_k": 1, "stream": False,
            "stop": [fmt.answer_end], "cache_prompt": True}, deadline)
        content = got.get("content") if isinstance(got, dict) else None
        if not isinstance(content, str):
            raise RemoteError("its reply has no text (no string 'content')")
        if any(ord(c) < 32 and c not in "\n\t" for c in content) or len(content) > 2048:
            raise RemoteError("its reply is not a few lines of text")
        return content
