"""A remote planner: llama.cpp's server (`llama-server`, `make serve` on a bigger machine)
asked for the same canonical commands the local model writes.

The setting: `llmos.llm=http://HOST:PORT` on the kernel command line, or the first line of
/data/etc/llm (which wins; `off` there turns a command-line server off). It is read at
every request, so writing the file from the console takes effect at once.

One request per plan: POST /completion with the exact prompt the local adapter was trained
on (canonical.prompt; its turn markers follow the server's chat template, from GET /props
once), translation.answer_grammar(request, ctx) as its `grammar`, greedy, 64 tokens at most. The server
only writes text: its answer is read back and checked here exactly as the local model's
is (translation.read_answer: every argument grounded in the request, the action plausible),
then the planner's guard and the registry's validation, and the console still asks before
anything destructive. The server never executes anything.

Its plan is weighed against the English rules' reading as the local model's is
(planner.Planner._rules_stand): where the rules read the request otherwise, a second request
asks the server's model how likely it finds their reading (a grammar that admits that text
alone; n_probs gives the raw log probabilities of the tokens, whatever the grammar), and
theirs stands within ARBITRATION_MARGIN nats of the server's own answer. A server that
gives no probabilities, or scores some other text, cannot weigh them: the rules' reading
stands, and the console says so.

Everything it sends is untrusted: a reply over MAX_REPLY bytes, slower than the timeout in
total, not JSON, not an object with a string `content`, holding control bytes, or naming
commands the request does not ask for is a RemoteError (or an unusable translation), and
the planner falls back to the local model and says so.

Free-form answers (a request no command fits) stream from the server too (stream_reply):
POST /completion with "stream": true, a short chat prompt (the local model's system line,
the server's adapter off) and server-sent events read one by one. The same caps hold: the
first text within the timeout, then no pause longer than it, ANSWER_TIMEOUT_S in all, at
most MAX_REPLY bytes and MAX_ANSWER_CHARS of text, no control bytes. A failure before any
text is shown lets the local model answer; after some text, the answer stops there. The
console says which one answered.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator

from . import canonical, settings

SETTING_FILE = "/data/etc/llm"
CMDLINE_KEY = "llmos.llm"
TIMEOUT_S = 4.0
MAX_REPLY = 64 * 1024
MAX_TOKENS = 64
ANSWER_TIMEOUT_S = 30.0       # a streamed answer, all of it (each pause: the timeout)
ANSWER_TOKENS = 96            # as the local model's replies (runtime.stream_reply)
MAX_ANSWER_CHARS = 2048
MAX_EVENT = 16 * 1024         # one server-sent event's line


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
    return settings.read(CMDLINE_KEY, data_file, cmdline)


class Remote:
    def __init__(self, url: str, timeout: float | None = None, max_reply: int = MAX_REPLY):
        self.url = url
        self.host, self.port, self.base = parse_url(url)
        self.timeout = TIMEOUT_S if timeout is None else timeout
        self.max_reply = max_reply
        self.fmt: canonical.Format | None = None
        self.last_logprob: float | None = None

    def _timeout_error(self) -> RemoteError:
        return RemoteError(f"no answer within {self.timeout:g} s")

    @contextlib.contextmanager
    def _exchange(self, method: str, path: str, body: dict | None, deadline: float):
        """(connection, response) of one request; any failure of the connection, the HTTP
        layer or a timeout inside the block is a RemoteError; the connection is closed."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._timeout_error()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=left)
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, self.base + path, body=data,
                         headers={"Content-Type": "application/json"} if data else {})
            yield conn, conn.getresponse()
        except RemoteError:
            raise
        except TimeoutError:
            raise self._timeout_error() from None
        except (OSError, http.client.HTTPException) as e:
            raise RemoteError(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__) from None
        finally:
            conn.close()

    @staticmethod
    def _wait_until(conn: http.client.HTTPConnection, deadline: float) -> None:
        """The next read on `conn` waits until `deadline` at most."""
        if conn.sock is not None:   # (None once a "Connection: close" reply is read)
            conn.sock.settimeout(max(0.05, deadline - time.monotonic()))

    def _read_all(self, conn, resp, deadline: float) -> bytes:
        chunks, size = [], 0
        while True:
            if time.monotonic() > deadline:
                raise self._timeout_error()
            self._wait_until(conn, deadline)
            piece = resp.read1(16384)
            if not piece:
                return b"".join(chunks)
            size += len(piece)
            if size > self.max_reply:
                raise RemoteError(f"its reply is over {self.max_reply // 1024} KiB")
            chunks.append(piece)

    def _request(self, method: str, path: str, body: dict | None, deadline: float) -> object:
        """The JSON of one request; RemoteError for a failure of any kind."""
        with self._exchange(method, path, body, deadline) as (conn, resp):
            data = self._read_all(conn, resp, deadline)
            if resp.status != 200:
                raise RemoteError(f"it answered HTTP {resp.status}")
        return _json(data)

    def _format(self, deadline: float) -> canonical.Format:
        """The prompt's turn markers for the server's model (its chat template), once."""
        if self.fmt is None:
            props = self._request("GET", "/props", None, deadline)
            tpl = props.get("chat_template") if isinstance(props, dict) else None
            self.fmt = canonical.GEMMA if isinstance(tpl, str) and "<start_of_turn>" in tpl \
                else canonical.CHATML
        return self.fmt

    def _complete(self, request: str, cwd: str, grammar_text: str) -> tuple[str, float | None]:
        """The server's greedy answer to `request` under `grammar_text` (unchecked) and log P
        of its tokens under the server's model (None when the reply gives no usable
        probabilities)."""
        deadline = time.monotonic() + self.timeout
        fmt = self._format(deadline)
        got = self._request("POST", "/completion", {
            "prompt": canonical.prompt(request, cwd, fmt), "grammar": grammar_text,
            "n_predict": MAX_TOKENS, "temperature": 0, "top_k": 1, "stream": False,
            "n_probs": 1, "stop": [fmt.answer_end], "cache_prompt": True}, deadline)
        content = got.get("content") if isinstance(got, dict) else None
        if not isinstance(content, str):
            raise RemoteError("its reply has no text (no string 'content')")
        if any(ord(c) < 32 and c not in "\n\t" for c in content) or len(content) > 2048:
            raise RemoteError("its reply is not a few lines of text")
        return content, _logprob(got.get("completion_probabilities"))

    def translate(self, request: str, cwd: str, grammar_text: str) -> str:
        """The server's answer to `request`: canonical commands, one per line (unchecked);
        `last_logprob` is how likely its model found it (None: not said)."""
        content, self.last_logprob = self._complete(request, cwd, grammar_text)
        return content

    def answer_logprob(self, request: str, cwd: str, answer: str) -> float:
        """log P(`answer` | the prompt of `request`) under the server's model, as
        `last_logprob` counts its own answer: the server decodes under a grammar that admits
        `answer` alone (the raw logits' probabilities, n_probs, are reported whatever the
        grammar). RemoteError when it writes something else or gives no probabilities."""
        content, lp = self._complete(request, cwd, "root ::= " + json.dumps(answer))
        if content.strip() != answer.strip():
            raise RemoteError("it did not score the reading it was given")
        if lp is None:
            raise RemoteError("its reply gives no token probabilities")
        return lp

    def stream_reply(self, text: str, cancel: threading.Event | None = None) -> Iterator[str]:
        """The server's free-form answer to `text`, piece by piece as its server-sent events
        arrive; RemoteError for a failure of any kind (also after some pieces)."""
        from .runtime import REPLY_SYSTEM
        start = time.monotonic()
        end = start + ANSWER_TIMEOUT_S
        fmt = self._format(start + self.timeout)
        body = {"prompt": chat_prompt(REPLY_SYSTEM, text, fmt), "n_predict": ANSWER_TOKENS,
                "temperature": 0.2, "stream": True, "stop": [fmt.answer_end],
                "cache_prompt": True, "lora": [{"id": 0, "scale": 0.0}]}   # the adapter off
        with self._exchange("POST", "/completion", body, start + self.timeout) as (conn, resp):
            if resp.status != 200:
                self._read_all(conn, resp, min(end, time.monotonic() + self.timeout))
                raise RemoteError(f"it answered HTTP {resp.status}")
            kind = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if kind == "application/json":      # a server that does not stream: one piece
                got = _json(self._read_all(conn, resp, start + self.timeout))
                piece = got.get("content") if isinstance(got, dict) else None
                if not isinstance(piece, str):
                    raise RemoteError("its reply has no text (no string 'content')")
                if not _checked_text(piece, MAX_ANSWER_CHARS).strip():
                    raise RemoteError("its answer was empty")
                yield piece.strip()
                return
            if kind != "text/event-stream":
                raise RemoteError(f"its reply is {kind or 'untyped'}, not server-sent events")
            size = chars = 0
            shown = False
            while True:
                if cancel is not None and cancel.is_set():
                    return
                now = time.monotonic()
                if now > end:
                    raise RemoteError(f"its answer took over {ANSWER_TIMEOUT_S:g} s")
                if not shown and now > start + self.timeout:     # pings, empty pieces
                    raise self._timeout_error()
                self._wait_until(conn, min(end, now + self.timeout,
                                           end if shown else start + self.timeout))
                line = resp.readline(MAX_EVENT + 1)
                if not line:
                    raise RemoteError("its answer ended before it said it was done")
                size += len(line)
                if size > self.max_reply:
                    raise RemoteError(f"its reply is over {self.max_reply // 1024} KiB")
                if len(line) > MAX_EVENT:
                    raise RemoteError(f"one of its events is over {MAX_EVENT // 1024} KiB")
                line = line.rstrip(b"\r\n")
                if not line.startswith(b"data:"):
                    continue                    # the blank line between events, a comment
                data = line[5:].strip()
                if data == b"[DONE]":
                    break
                event = _json(data)
                if not isinstance(event, dict):
                    raise RemoteError("one of its events is not a JSON object")
                if "error" in event:
                    err = event["error"]
                    msg = err.get("message") if isinstance(err, dict) else err
                    raise RemoteError(f"it reported an error: {str(msg)[:80]}")
                piece = event.get("content", "")
                if not isinstance(piece, str):
                    raise RemoteError("one of its events has no text (no string 'content')")
                chars += len(piece)
                piece = _checked_text(piece, MAX_ANSWER_CHARS - (chars - len(piece)))
                if piece:
                    if not shown:
                        piece = piece.lstrip()
                    shown = shown or bool(piece)
                    if piece:
                        yield piece
                if event.get("stop") is True:
                    break
            if not shown:
                raise RemoteError("its answer was empty")


def chat_prompt(system: str, text: str, fmt: canonical.Format) -> str:
    """A one-turn chat in the server's turn markers: a ChatML system turn; Gemma has no
    system role, so its line opens the user's turn."""
    if fmt is canonical.CHATML:
        return (f"<|im_start|>system\n{system}{fmt.answer_end}\n"
                f"{fmt.user_start}{text.strip()}{fmt.answer_end}\n{fmt.assistant_start}")
    return f"{fmt.user_start}{system}\n\n{text.strip()}{fmt.answer_end}\n{fmt.assistant_start}"


def _json(data: bytes) -> object:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RemoteError("its reply is not JSON") from None


def _logprob(probs: object) -> float | None:
    """The sum of the sampled tokens' log probabilities in llama-server's
    `completion_probabilities` (n_probs, raw logits: [{"logprob": ...}, ...]); None when it
    is missing or not finite log probabilities, one per token."""
    if not isinstance(probs, list) or not probs or len(probs) > 4 * MAX_TOKENS:
        return None
    total = 0.0
    for p in probs:
        lp = p.get("logprob") if isinstance(p, dict) else None
        if isinstance(lp, bool) or not isinstance(lp, (int, float)) or not -1e4 < lp <= 0:
            return None
        total += lp
    return total


def _checked_text(piece: str, room: int) -> str:
    """A piece of the server's answer: no control bytes but newlines and tabs, within the
    characters left (`room`)."""
    if any(ord(c) < 32 and c not in "\n\t" for c in piece) or "\x7f" in piece:
        raise RemoteError("its answer holds control characters")
    if len(piece) > room:
        raise RemoteError(f"its answer is over {MAX_ANSWER_CHARS} characters")
    return piece
