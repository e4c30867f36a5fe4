"""The model with RPC workers, in a process of its own (`python -m llmos_init modelhost`).

ggml aborts the process whose model loses a worker, and its sockets wait forever for one
that vanished without a reset (rpc.py). So the planner never loads such a model itself:
HostedRuntime spawns this module as a child (through the console's reaper), which probes
the workers, loads the model with them (runtime.ModelRuntime, every layer on the
workers) and then answers the runtime calls the planner makes, one JSON object a line:

  parent -> child   {"id": N, "call": "translate", "args": [...]}   or   {"cancel": N}
  child -> parent   {"ready": {...}} or {"error": why} once, first;
                    {"id": N, "ok": result, "last_logprob": x} | {"id": N, "exc": [type, text]}
                    | {"id": N, "piece": text} ... {"id": N, "done": true}  (stream_reply)

Every answer has a deadline on the parent's side (LOAD_TIMEOUT_S, CALL_TIMEOUT_S). A child
that ends, writes something that is not the protocol or misses a deadline is killed and
HostedRuntime raises WorkerGone (with ggml's last words from the child's stderr, e.g.
"Remote RPC server crashed or returned malformed response"); it then stays gone, and the
planner loads the model locally (planner.py). The child's fd 1 is its stderr: whatever
llama.cpp prints cannot reach the protocol, which has a descriptor of its own.
"""
from __future__ import annotations

import collections
import json
import os
import queue
import re
import sys
import threading
import time

LOAD_TIMEOUT_S = 600.0     # spawn, import, probe, and the weights sent to the workers
CALL_TIMEOUT_S = 60.0      # one runtime call, or a streamed reply's next piece
CALLS = ("translate", "answer_logprob", "best_tool", "generate_args", "score_tools")
_EOF = object()
_ABORT = re.compile(r"\S+\.(?:c|cpp):\d+: (.+)")


class WorkerGone(RuntimeError):
    """The model's process ended, broke the protocol or missed a deadline (says why)."""


# ---- the parent's side ------------------------------------------------------------------

class HostedRuntime:
    """What the planner uses of a ModelRuntime, answered by the modelhost child.

    spawn: a Reaper's spawn (the console's: its reaper reaps the child); the child is a
    session of its own, so the console's Ctrl-C never reaches it."""

    def __init__(self, path: str, threads: int | None, adapter: str | None, workers: str,
                 spawn, load_timeout: float | None = None, call_timeout: float | None = None,
                 wait: float | None = None):
        self.path, self.threads, self.adapter, self.setting = path, threads, adapter, workers
        self.spawn = spawn
        self.load_timeout = LOAD_TIMEOUT_S if load_timeout is None else load_timeout
        self.call_timeout = CALL_TIMEOUT_S if call_timeout is None else call_timeout
        self.wait = wait               # None: the child's default (rpc.NETWORK_WAIT_S)
        self.last_logprob = 0.0
        self.prefix_source = ""
        self.load_seconds: dict[str, float] = {}
        self.ggml = ""
        self.workers: list[str] = []     # the workers the model loaded with
        self.skipped: list[str] = []     # those that did not answer the probe, with why
        self.devices: list[str] = []
        self.gone: str | None = None     # why the child is gone, once it is
        self.child = None
        self._w: int | None = None
        self._replies: queue.Queue = queue.Queue()
        self._stderr: collections.deque = collections.deque(maxlen=40)
        self._ids = 0
        self._lock = threading.Lock()

    # -- life

    def load(self) -> None:
        import llmos_init
        top = os.path.dirname(os.path.dirname(os.path.abspath(llmos_init.__file__)))
        argv = [sys.executable, "-m", "llmos_init", "modelhost", "--model", self.path,
                "--workers", self.setting]
        if self.threads:
            argv += ["--threads", str(self.threads)]
        if self.adapter:
            argv += ["--adapter", self.adapter]
        if self.wait is not None:
            argv += ["--wait", str(self.wait)]
        env = dict(os.environ)
        env["GGML_NO_BACKTRACE"] = "1"     # ggml's abort would run gdb on the child first
        env["PYTHONPATH"] = top + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        r_in, w_in = os.pipe()
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        try:
            self.child = self.spawn(argv, env=env, stdin=r_in, stdout=w_out, stderr=w_err,
                                    new_session=True)
        except BaseException:
            for fd in (w_in, r_out, r_err):
                os.close(fd)
            raise
        finally:
            for fd in (r_in, w_out, w_err):
                os.close(fd)
        self._w = w_in
        threading.Thread(target=self._read_replies, args=(r_out,), name="modelhost-out",
                         daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(r_err,), name="modelhost-err",
                         daemon=True).start()
        msg = self._next(time.monotonic() + self.load_timeout, "loading the model")
        if "ready" not in msg:
            why = msg.get("error") if isinstance(msg.get("error"), str) else "no ready message"
            self._fail(why)
        got = msg["ready"] if isinstance(msg["ready"], dict) else {}
        self.prefix_source = str(got.get("prefix_source", ""))
        self.load_seconds = got.get("load_seconds") or {}
        self.ggml = str(got.get("ggml", ""))
        self.workers = [str(w) for w in got.get("workers") or []]
        self.skipped = [str(w) for w in got.get("skipped") or []]
        self.devices = [str(d) for d in got.get("devices") or []]

    def close(self) -> None:
        if self._w is not None:
            try:
                os.close(self._w)          # the child's stdin ends: it exits
            except OSError:
                pass
            self._w = None
        child = self.child
        if child is not None and child.running:
            if child.wait(5) is None:
                child.kill()
        self.gone = self.gone or "closed"

    # -- the calls

    def translate(self, request: str, cwd: str, grammar_text: str | None = None,
                  max_tokens: int = 64) -> str:
        return self._call("translate", request, cwd, grammar_text, max_tokens)

    def answer_logprob(self, request: str, cwd: str, answer: str) -> tuple[float, int]:
        lp, n = self._call("answer_logprob", request, cwd, answer)
        return float(lp), int(n)

    def best_tool(self, request: str, tools: list[str]) -> tuple[str, float]:
        name, lp = self._call("best_tool", request, list(tools))
        return str(name), float(lp)

    def generate_args(self, request: str, tool: str, grammar_text: str, max_tokens: int = 64) -> str:
        return self._call("generate_args", request, tool, grammar_text, max_tokens)

    def score_tools(self, request: str, tools: list[str]) -> dict[str, float]:
        return self._call("score_tools", request, list(tools))

    def stream_reply(self, text: str, cancel: threading.Event | None = None,
                     max_tokens: int = 96):
        with self._lock:
            n = self._send("stream_reply", text, max_tokens)
            done = False
            try:
                while not (cancel is not None and cancel.is_set()):
                    msg = self._reply(n, "a reply")
                    if "piece" in msg:
                        if isinstance(msg["piece"], str) and msg["piece"]:
                            yield msg["piece"]
                    elif msg.get("done") is True:
                        done = True
                        return
                    else:
                        self._raise(msg)
            finally:
                if not done and self.gone is None:   # cancelled, or the reader gave up
                    try:
                        self._write({"cancel": n})
                    except WorkerGone:
                        pass

    def _call(self, name: str, *args):
        with self._lock:
            n = self._send(name, *args)
            msg = self._reply(n, name)
            if "ok" not in msg:
                self._raise(msg)
            lp = msg.get("last_logprob")
            if isinstance(lp, (int, float)):
                self.last_logprob = float(lp)
            return msg["ok"]

    # -- the protocol

    def _send(self, name: str, *args) -> int:
        if self.gone is not None:
            raise WorkerGone(self.gone)
        self._ids += 1
        self._write({"id": self._ids, "call": name, "args": list(args)})
        return self._ids

    def _write(self, msg: dict) -> None:
        data = (json.dumps(msg) + "\n").encode()
        try:
            while data:
                data = data[os.write(self._w, data):]
        except (OSError, TypeError):
            self._fail("its process has gone")

    def _reply(self, n: int, what: str) -> dict:
        """The next message about call n (those of a call given up are passed over)."""
        deadline = time.monotonic() + self.call_timeout
        while True:
            msg = self._next(deadline, what)
            if msg.get("id") == n:
                return msg

    def _next(self, deadline: float, what: str) -> dict:
        try:
            msg = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            t = self.load_timeout if what == "loading the model" else self.call_timeout
            self._fail(f"no answer within {t:g} s ({what})")
        if msg is _EOF:
            self._fail(self._last_words())
        if not isinstance(msg, dict):
            self._fail("it wrote something that is not the protocol")
        return msg

    def _raise(self, msg: dict) -> None:
        exc = msg.get("exc")
        if isinstance(exc, list) and len(exc) == 2:
            kind = {"ValueError": ValueError, "RuntimeError": RuntimeError}.get(exc[0], RuntimeError)
            raise kind(str(exc[1]))
        self._fail("it wrote something that is not the protocol")

    def _fail(self, why: str):
        """Kill the child (if it still runs) and raise WorkerGone(why) from now on."""
        self.gone = why
        if self.child is not None:
            self.child.kill()
        if self._w is not None:
            try:
                os.close(self._w)
            except OSError:
                pass
            self._w = None
        raise WorkerGone(why)

    def _last_words(self) -> str:
        """Why the child ended: ggml's abort message, else its last line, else its status."""
        time.sleep(0.2)                    # its stderr may still be on its way
        lines = [ln for ln in list(self._stderr) if ln.strip()]
        for ln in lines:
            m = _ABORT.match(ln)              # GGML_ABORT: "file.cpp:line: message"
            if m:
                return "it ended: " + m.group(1).strip()[:160]
        code = None
        if self.child is not None:
            code = self.child.wait(1)
        if lines:
            return "it ended: " + lines[-1].strip()[:160]
        return f"it ended (status {code})" if code is not None else "it ended"

    def _read_replies(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as f:
            for line in f:
                try:
                    self._replies.put(json.loads(line))
                except ValueError:
                    self._replies.put(None)
        self._replies.put(_EOF)

    def _read_stderr(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as f:
            for line in f:
                self._stderr.append(line.decode("utf-8", "replace").rstrip("\n")[:400])


# ---- the child's side -------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="llmos_init modelhost",
                                 description="the model with RPC workers, for the planner")
    ap.add_argument("--model", required=True)
    ap.add_argument("--workers", required=True, help="HOST:PORT[,HOST:PORT]")
    ap.add_argument("--adapter")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--wait", type=float,
                    help="seconds an unreachable worker is asked again (rpc.NETWORK_WAIT_S)")
    a = ap.parse_args(argv)
    # the protocol gets a descriptor of its own; fd 1 becomes stderr for anything printed
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    lock = threading.Lock()

    def send(msg: dict) -> None:
        with lock:
            out.write(json.dumps(msg) + "\n")
            out.flush()

    from .rpc import RpcError, endpoint, parse
    from .rpc import usable as answering
    try:
        workers = parse(a.workers)
    except ValueError as e:
        send({"error": str(e)})
        return 2
    usable, skipped = answering(workers, **({} if a.wait is None else {"wait": a.wait}))
    if not usable:
        send({"error": "; ".join(skipped) or "no worker"})
        return 3
    from .runtime import ModelRuntime
    rt = ModelRuntime(a.model, threads=a.threads, adapter=a.adapter or None, workers=usable)
    try:
        rt.load()
    except (RpcError, ValueError, RuntimeError, OSError) as e:
        send({"error": f"{type(e).__name__}: {e}"})
        return 3
    send({"ready": {"prefix_source": rt.prefix_source, "load_seconds": rt.load_seconds,
                    "ggml": rt.ggml, "devices": rt.devices, "skipped": skipped,
                    "workers": [endpoint(w) for w in usable]}})
    calls: queue.Queue = queue.Queue()
    cancels: dict[int, threading.Event] = {}

    def read() -> None:
        for line in sys.stdin.buffer:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if not isinstance(msg, dict):
                continue
            if "cancel" in msg:
                ev = cancels.get(msg["cancel"])
                if ev is not None:
                    ev.set()
                continue
            if msg.get("call") == "stream_reply":
                cancels[msg.get("id")] = threading.Event()
            calls.put(msg)
        calls.put(None)

    threading.Thread(target=read, name="modelhost-in", daemon=True).start()
    while True:
        msg = calls.get()
        if msg is None:
            break
        n, name, args = msg.get("id"), msg.get("call"), msg.get("args") or []
        try:
            if name == "stream_reply":
                ev = cancels.get(n) or threading.Event()
                for piece in rt.stream_reply(args[0], cancel=ev, max_tokens=int(args[1])):
                    send({"id": n, "piece": piece})
                send({"id": n, "done": True})
                cancels.pop(n, None)
            elif name in CALLS:
                got = getattr(rt, name)(*args)
                send({"id": n, "ok": got, "last_logprob": rt.last_logprob})
            else:
                send({"id": n, "exc": ["ValueError", f"no call {name!r}"]})
        except (ValueError, RuntimeError, TypeError, IndexError, KeyError) as e:
            send({"id": n, "exc": [type(e).__name__, str(e)]})
    rt.close()
    return 0
