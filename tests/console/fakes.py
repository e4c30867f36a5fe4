"""Test doubles for the console: a scripted terminal, a tiny planner and an executor that
acts on a temporary directory. They follow the collaborators' documented interfaces."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass


class Typeahead(bytes):
    """A chunk that arrives while the console is busy: reads with a timeout get it, after
    `delay` seconds. Plain chunks only come to a blocking read (the user types at a prompt)."""
    delay = 0.0


def later(delay: float, data: bytes) -> Typeahead:
    t = Typeahead(data)
    t.delay = delay
    return t


def babble(n: int, gap: float, data: bytes = b"y\r") -> list:
    """`n` chunks, each `gap` seconds after the read that first waits for it: a line that
    keeps sending (it never goes quiet while there are chunks left)."""
    return [later(gap, data) for _ in range(n)]


class FakeTerm:
    """Input from a list of byte chunks; output collected.

    A blocking read gets the next chunk; a read with a timeout gets only a Typeahead chunk.
    None in the list is a read that times out (skipped by blocking reads). An empty list is
    the end of input."""

    def __init__(self, chunks=(), ansi=True, columns=80):
        self.chunks = list(chunks)
        self.ansi = ansi
        self.dumb = not ansi
        self.cols = columns
        self.out: list[str] = []
        self.reads = 0

    def feed(self, *chunks):
        self.chunks.extend(chunks)

    def read(self, timeout=None):
        self.reads += 1
        if not self.chunks:
            if timeout is not None:
                return None
            return b""
        if timeout is not None and self.chunks[0] is not None and not isinstance(self.chunks[0], Typeahead):
            return None
        c = self.chunks[0]
        if isinstance(c, Typeahead) and c.delay:
            due = getattr(c, "due", None)
            if due is None:
                due = c.due = time.monotonic() + c.delay
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait if timeout is None else min(wait, timeout))
                if time.monotonic() < due:
                    return None
        self.chunks.pop(0)
        if c is None:
            if timeout is None:
                return self.read(None)
            return None
        return bytes(c)

    def write(self, text):
        self.out.append(text)

    def columns(self):
        return self.cols

    @property
    def output(self):
        return "".join(self.out)


@dataclass
class Result:
    ok: bool
    text: str
    data: object = None
    changed_cwd: str | None = None


class FakePlanner:
    """"ls P", "rm P", "cd P", "cat P", "say", "boom", "slow", "two" (rm + ls)."""

    status = "none"

    def __init__(self, delay=0.0):
        self.calls = []
        self.delay = delay
        self.answer_tokens = ["Hello", " there", "!"]
        self.answer_delay = 0.0
        self.cancelled = threading.Event()

    def _abs(self, p, cwd):
        return p if p.startswith("/") else os.path.normpath(os.path.join(cwd, p))

    def plan(self, request, cwd, history):
        self.calls.append((request, cwd, [dict(h) for h in history]))
        if self.delay:
            time.sleep(self.delay)
        word, _, rest = request.partition(" ")
        if word == "ls":
            return [{"tool": "list_dir", "args": {"path": self._abs(rest or ".", cwd)}}]
        if word == "rm":
            return [{"tool": "remove", "args": {"path": self._abs(rest, cwd)}}]
        if word == "two":
            return [{"tool": "remove", "args": {"path": self._abs(rest, cwd)}},
                    {"tool": "list_dir", "args": {"path": cwd}}]
        if word == "cd":
            return [{"tool": "change_dir", "args": {"path": self._abs(rest, cwd)}}]
        if word == "cat":
            return [{"tool": "read_file", "args": {"path": self._abs(rest, cwd)}}]
        if word == "off":
            return [{"tool": "poweroff", "args": {}}]
        if word == "boom":
            raise RuntimeError("planner exploded")
        if word == "bad":
            return [{"tool": "no_such_tool", "args": {}}]
        if word == "what":
            return [{"tool": "clarify", "args": {"question": "What do you mean?"}}]
        return [{"tool": "answer", "args": {}}]

    def stream_answer(self, text, cancel=None):
        self.cancel_event = cancel
        for tok in self.answer_tokens:
            if cancel is not None and cancel.is_set():
                self.cancelled.set()
                return
            if self.answer_delay:
                time.sleep(self.answer_delay)
            yield tok


class FakeExecutor:
    """Acts on `root` (console "/" = root). Paths under /protected are refused."""

    def __init__(self, root, power=None):
        self.root = root
        self.ran = []
        self.power = power
        self.checked = []    # (action, request, history) of every check
        self.logged = []     # ("refused" | "declined", action, reason or preview)

    def real(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    def check(self, action, request=None, history=()):
        self.checked.append((action, request, tuple(history)))
        for v in action["args"].values():
            if isinstance(v, str) and v.startswith("/protected"):
                return f"{v} is protected"
        return None

    def needs_confirmation(self, action):
        return action["tool"] in ("remove", "poweroff")

    def announce(self, action):
        return f"will go to {action['args']['path']}" if action["tool"] == "change_dir" else None

    def record_refused(self, action, reason):
        self.logged.append(("refused", action, reason))
        return ""

    def record_declined(self, action, preview):
        self.logged.append(("declined", action, preview))
        return ""

    def preview(self, action):
        if action["tool"] == "poweroff":
            return "will power off the machine"
        return f"will remove {action['args']['path']}"

    def run(self, action):
        self.ran.append(action)
        tool, args = action["tool"], action["args"]
        if tool == "list_dir":
            names = sorted(os.listdir(self.real(args["path"])))
            return Result(True, "\n".join(names) or "(empty)")
        if tool == "remove":
            try:
                os.remove(self.real(args["path"]))
            except OSError as exc:
                return Result(False, f"cannot remove {args['path']}: {exc.strerror}")
            return Result(True, f"removed {args['path']}")
        if tool == "change_dir":
            return Result(True, "", changed_cwd=args["path"])
        if tool == "read_file":
            with open(self.real(args["path"]), encoding="utf-8", errors="replace") as f:
                return Result(True, f.read())
        if tool == "poweroff":
            return Result(True, self.power("poweroff") if self.power else "powering off")
        raise AssertionError(f"unexpected {tool}")
