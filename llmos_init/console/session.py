"""The console's session loop: read a request, plan it, show the plan, confirm, run, show.

The session owns no policy of its own: the planner decides what a request means, the
executor decides what is refused, what needs a confirmation and what happens; the session
asks, shows and keeps the conversation (cwd and the planner's history). Only requests and
plans go into that history; nothing read from a file or produced by a tool is ever given
back to the planner.

Everything slow (planning, an answer from the model, a tool) runs in a worker thread
while this thread keeps reading the terminal, so Ctrl-C always gets through and a status
line shows that the console is working.
"""
from __future__ import annotations

import os
import threading
import time

from ..paths import UPDATE_NOTE
from ..record import factory, record
from . import render
from .lineedit import EndOfInput, InputClosed, Interrupted, LineEditor

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~0.1 s under QEMU TCG before the prompt
    from typing import Any, Callable

REPLY_TOOLS = ("answer", "clarify", "help")
HISTORY_LIMIT = 20
POLL_INTERVAL = 0.05
STATUS_DELAY = 0.1
TOOL_STATUS_DELAY = 1.0    # most tools finish well within it: no status line for them
CANCEL_GRACE = 2.0


@record
class Banner:
    hostname: str
    boot_seconds: float | None = None     # the boot sequence's total, when known
    uptime_seconds: float | None = None
    memory_total: int | None = None       # bytes
    memory_free: int | None = None
    sandbox: str | None = None
    extra: list[str] = factory(list)


class _Cancelled(Exception):
    pass


class Session:
    def __init__(self, term, editor: LineEditor, planner: Any, executor: Any, *,
                 cwd: str, hostname: Callable[[], str], sandbox: str | None = None,
                 banner: Banner | None = None, planner_error: str | None = None,
                 executor_error: str | None = None, context: Any = None,
                 status_delay: float = STATUS_DELAY, later: Any = None):
        self.term = term
        self.editor = editor
        self.planner = planner
        self.executor = executor
        self.context = context
        self._cwd = cwd
        self.hostname = hostname
        self.sandbox = sandbox
        self.banner = banner
        self.planner_error = planner_error
        self.executor_error = executor_error
        self.status_delay = status_delay
        self.history: list[dict] = []
        self.ended = False                 # set by a power request, or by exit on the host
        self._model_status = None
        self._rpc_note = None
        self._pending_plan: threading.Thread | None = None
        # planner and executor still being built (console/main.Later): .start(), .done,
        # .value (their attributes), .status (the model status to show meanwhile)
        self._later = later

    @property
    def cwd(self) -> str:
        """The current directory. Its one owner is the executor's context once there is one
        (the tools move it); before that, or without an executor, the session keeps it."""
        return self.context.cwd if self.context is not None else self._cwd

    @cwd.setter
    def cwd(self, value: str) -> None:
        if self.context is not None:
            self.context.cwd = value
        else:
            self._cwd = value

    # --- output helpers ------------------------------------------------------------------

    def say(self, text: str, style: str | None = None) -> None:
        """Write console text (already sanitized where it holds untrusted parts)."""
        if style:
            text = render.style(text, style, self.term.ansi)
        self.term.write(text + "\n")

    def _attach(self) -> None:
        """Take the planner and the executor once they are built (waiting for them, with a
        status line, when a request comes before they are ready)."""
        later = self._later
        if later is None:
            return
        later.start()
        if not later.done.is_set():
            status = _StatusLine(self, text="… starting the planner and the tools")
            started = time.monotonic()
            while not later.done.wait(POLL_INTERVAL):
                status.show(time.monotonic() - started)
            status.clear()
        self._later = None
        for name, value in later.value.items():
            setattr(self, name, value)

    def model_status(self) -> str:
        if self._later is not None:
            if not self._later.done.is_set():
                return self._later.status
            self._attach()
        if self.planner is None:
            return f"unavailable: {self.planner_error or 'no planner'}"
        try:
            return str(self.planner.status)
        except Exception as exc:  # noqa: BLE001 - a broken status is still a status
            return f"unavailable: {exc}"

    # --- the loop -----------------------------------------------------------------------

    def run(self) -> int:
        self.show_banner()
        while not self.ended:
            self._note_model_change()
            self._update_note()
            prompt = render.format_prompt(self.hostname(), self.cwd, self.term.columns())
            try:
                line = self.editor.read_line(prompt)
            except Interrupted:
                continue
            except EndOfInput:
                self.on_end_key()
                continue
            except InputClosed:
                break
            if self.editor.history is not None and line.strip():
                self.editor.history.add(line.strip())
            try:
                self.handle(line)
            except InputClosed:
                break
            except Exception as exc:  # noqa: BLE001 - one request never ends the console
                self.say(render.format_exception(exc), "red")
        return 0

    def _update_note(self) -> None:
        """What PID 1 said about an update (committed, rolled back), once, before a prompt."""
        try:
            with open(UPDATE_NOTE) as f:
                text = f.read()
            os.unlink(UPDATE_NOTE)
        except OSError:
            return
        for line in text.splitlines():
            self.say(render.terminal_safe(line), "yellow")

    def show_banner(self) -> None:
        b = self.banner
        if b is None:
            return
        first = f"llmos on {render.terminal_safe(b.hostname, keep_newlines=False)}"
        if b.boot_seconds is not None:
            first += f", booted in {render.human_duration(b.boot_seconds)}"
        if b.uptime_seconds is not None:
            first += f", up {render.human_duration(b.uptime_seconds)}"
        self.say(first, "bold")
        self._model_status = self.model_status()
        self.say(f"model: {render.terminal_safe(self._model_status)}")
        if b.memory_total:
            mem = f"memory: {render.human_size(b.memory_total)} total"
            if b.memory_free is not None:
                mem += f", {render.human_size(b.memory_free)} free"
            self.say(mem)
        if b.sandbox:
            self.say(f"host console: sandbox {render.terminal_safe(b.sandbox)} plays /")
        for line in b.extra:
            self.say(render.terminal_safe(line))
        exit_word = "exit" if self.sandbox else "power off"
        self.say(f'Type a request in plain words; "help" shows examples; Ctrl-D to {exit_word}.', "dim")

    def _note_model_change(self) -> None:
        status = self.model_status()
        if self._model_status is not None and status != self._model_status:
            self.say(f"model: {render.terminal_safe(status)}", "dim")
            note = self.adapter_note() if status == "ready" else None
            if note:
                self.say(note, "dim")
        self._model_status = status
        # where the model runs with RPC workers set (llmos.rpc=), and a worker's failure
        rpc = getattr(self.planner, "rpc_note", None) if self._later is None else None
        if isinstance(rpc, str) and rpc and rpc != self._rpc_note:
            self.say(render.terminal_safe(rpc, keep_newlines=False), "dim")
            self._rpc_note = rpc

    def adapter_note(self) -> str | None:
        """Which trained adapter plans, or why none does (planner.adapter_status)."""
        got = str(getattr(self.planner, "adapter_status", "none") or "none")
        if got == "none":
            return "planner: no trained adapter; exact commands and sentence templates only"
        if got.startswith("refused"):
            return f"planner: adapter {render.terminal_safe(got)}"
        return f"planner: trained adapter {render.terminal_safe(got)}"

    def on_end_key(self) -> None:
        """Ctrl-D on an empty line: ask, then exit (host) or power off (guest)."""
        question = "exit? [y/N] " if self.sandbox else "Power off? [y/N] "
        if not self.confirm(question):
            return
        self._attach()
        if self.sandbox:
            self.ended = True
            return
        if self.executor is not None:
            self.run_action({"tool": "poweroff", "args": {}}, confirmed=True)
        else:
            self.say(render.format_error(f"cannot power off: {self.executor_error}"), "red")

    # --- one request --------------------------------------------------------------------

    def handle(self, line: str) -> None:
        request = line.strip()
        if not request:
            return
        self._attach()
        if self.planner is None:
            self.say(render.format_error(f"the planner is unavailable: {self.planner_error}"), "red")
            return
        try:
            plan = self.plan(request)
        except _Cancelled:
            self.say("cancelled", "dim")
            return
        note = getattr(self.planner, "remote_note", None)   # with a planner server set
        if isinstance(note, str) and note:
            self.say(render.terminal_safe(note, keep_newlines=False), "dim")
        from ..tools.registry import PlanError, validate_plan
        try:
            plan = validate_plan(plan)
        except PlanError as exc:
            self.say(render.format_error(f"the planner gave an invalid plan: {exc}"), "red")
            return
        self.history.append({"request": request, "plan": plan})
        del self.history[:-HISTORY_LIMIT]
        for action in plan:
            if action["tool"] not in REPLY_TOOLS:
                self.say(render.format_action(action), "cyan")
        for i, action in enumerate(plan):
            if not self.run_action(action, request=request):
                left = len(plan) - i - 1
                if left:
                    self.say(f"stopped: {left} more action(s) not run", "dim")
                return
            if self.ended:
                return

    def plan(self, request: str) -> list:
        history = [dict(h) for h in self.history]
        return self._in_background(lambda: self.planner.plan(request, self.cwd, history))

    def run_action(self, action: dict, request: str = "", confirmed: bool = False) -> bool:
        """Run one action; False when it was refused, declined or failed."""
        tool = action["tool"]
        if tool == "answer":
            return self.answer(request, action)
        if tool == "clarify":
            question = action["args"].get("question") or "Could you say that more precisely?"
            self.say(render.terminal_safe(question))
            return True
        ex = self.executor
        if ex is None:
            self.say(render.format_error(f"the executor is unavailable: {self.executor_error}"), "red")
            return False
        # the grounding check too: a destructive action must act on something named in
        # this request or the ones before it (a planner's invented target is refused)
        said = tuple(h["request"] for h in self.history)
        reason = ex.check(action, request=request, history=said) if request else ex.check(action)
        if reason:
            self.say(render.format_refusal(action, reason), "red")
            self._warn(ex.record_refused(action, reason))
            return False
        if not confirmed and ex.needs_confirmation(action):
            shown = ex.preview(action)
            self.say(render.terminal_safe(shown), "yellow")
            if not self.confirm("Proceed? [y/N] "):
                self.say("declined: nothing changed")
                self._warn(ex.record_declined(action, shown))
                return False
        elif not confirmed:
            note = ex.announce(action)     # a change that does not ask is still shown first
            if note:
                self.say(render.terminal_safe(note), "yellow")
        result = self._run_tool(ex, action)
        text = getattr(result, "text", "") or ""
        ok = bool(getattr(result, "ok", False))
        if text:
            self.say(render.terminal_safe(text.rstrip("\n")), None if ok else "red")
        new_cwd = getattr(result, "changed_cwd", None)
        if new_cwd:
            self.cwd = new_cwd
        data = getattr(result, "data", None)
        if ok and isinstance(data, dict) and data.get("then") == "reboot":   # install_update
            self.say(render.terminal_safe(str(ex.ctx.request_power("reboot") or "")))
        return ok

    def _warn(self, warning: str) -> None:
        if warning:
            self.say(render.terminal_safe(warning), "red")

    def _run_tool(self, ex: Any, action: dict) -> Any:
        """ex.run(action) in a worker thread while this one watches for Ctrl-C. Ctrl-C
        asks the tool to stop (ex.cancel): a long one (copy, find_files) stops at its next
        safe point and says so; the console waits for it either way, so a tool is never
        abandoned half-way."""
        cancel = getattr(ex, "cancel", None)
        worker, box = _start_worker(lambda: ex.run(action), "tool")
        started = time.monotonic()
        status = _StatusLine(self, text=f"… {action['tool']} (Ctrl-C stops it)",
                             delay=max(self.status_delay, TOOL_STATUS_DELAY))
        asked = False
        shown_progress = None
        try:
            while True:
                worker.join(0.01)
                if not worker.is_alive():
                    break
                progress = getattr(ex, "progress", None)   # a long tool's own line (install_update)
                if progress and progress != shown_progress and not asked:
                    shown_progress = progress
                    status.clear()
                    status = _StatusLine(self, text=f"… {progress} (Ctrl-C stops it)", delay=0)
                if not asked and self.editor.poll_interrupt(POLL_INTERVAL):
                    asked = True
                    status.clear()
                    status = _StatusLine(self, text=f"… stopping {action['tool']}")
                    if cancel is not None:
                        cancel.set()
                status.show(time.monotonic() - started)
        finally:
            status.clear()
        return _outcome(box)

    def confirm(self, question: str) -> bool:
        """The one yes/no question of the console (Proceed?, exit?, Power off?): only "y"
        or "yes" typed by a person after the question counts; anything else is no.

        Nothing typed ahead or pasted answers it: see LineEditor.read_answer."""
        try:
            return self.editor.read_answer(question)
        except (Interrupted, EndOfInput, InputClosed):
            return False

    def answer(self, request: str, action: dict) -> bool:
        text = action["args"].get("text")
        if text:
            self.say(render.terminal_safe(text))
            return True
        stream = getattr(self.planner, "stream_answer", None)
        if stream is None:
            self.say(render.format_error("no answer available (the planner cannot answer)"), "red")
            return False
        import queue   # not before the prompt: ~40 ms under QEMU TCG
        cancel = threading.Event()
        tokens: queue.Queue = queue.Queue()
        done = object()

        def produce():
            try:
                for tok in stream(request, cancel=cancel):
                    tokens.put(tok)
                    if cancel.is_set():
                        break
            except BaseException as exc:  # noqa: BLE001 - shown by the main thread
                tokens.put(exc)
            tokens.put(done)

        worker = threading.Thread(target=produce, name="answer", daemon=True)
        worker.start()
        started = time.monotonic()
        status = _StatusLine(self)
        wrote = False
        ended_with_newline = True
        finished = False
        while not finished:
            while True:
                try:
                    item = tokens.get_nowait()
                except queue.Empty:
                    break
                if item is done:
                    finished = True
                    break
                status.clear()
                if isinstance(item, BaseException):
                    if wrote and not ended_with_newline:
                        self.term.write("\n")
                    self.say(render.format_exception(item), "red")
                    self._answer_note()
                    return False
                piece = render.terminal_safe(item)
                if not wrote:
                    piece = piece.lstrip()
                if piece:
                    self.term.write(piece)
                    wrote = True
                    ended_with_newline = piece.endswith("\n")
            if finished:
                break
            if self.editor.poll_interrupt(POLL_INTERVAL / 2):
                cancel.set()
                status.clear()
                self.term.write((" " if wrote and not ended_with_newline else "") + "^C\n")
                self.say("(answer cancelled)", "dim")
                worker.join(CANCEL_GRACE)
                return True
            if not wrote:
                status.show(time.monotonic() - started)
        status.clear()
        if wrote and not ended_with_newline:
            self.term.write("\n")
        self._answer_note()
        return True

    def _answer_note(self) -> None:
        """Who answered, with a planner server set (its answer, or why the local model's)."""
        note = getattr(self.planner, "answer_note", None)
        if isinstance(note, str) and note:
            self.say(render.terminal_safe(note, keep_newlines=False), "dim")

    def _in_background(self, work: Callable[[], Any]) -> Any:
        """Run `work` in a thread; show a status line after a moment; Ctrl-C abandons it."""
        if self._pending_plan is not None and self._pending_plan.is_alive():
            # A cancelled plan is still running: let it finish first (the planner is one
            # model; two requests at once would only compete for it).
            status = _StatusLine(self, text="… finishing the cancelled request")
            while self._pending_plan.is_alive():
                status.show(0)
                if self.editor.poll_interrupt(POLL_INTERVAL):
                    status.clear()
                    raise _Cancelled()
            status.clear()
        worker, box = _start_worker(work, "plan")
        started = time.monotonic()
        status = _StatusLine(self)
        try:
            while True:
                worker.join(0.01)
                if not worker.is_alive():
                    break
                if self.editor.poll_interrupt(POLL_INTERVAL):
                    self._pending_plan = worker
                    raise _Cancelled()
                status.show(time.monotonic() - started)
        finally:
            status.clear()
        return _outcome(box)


def _start_worker(work: Callable[[], Any], name: str) -> tuple[threading.Thread, dict]:
    """Run `work` in a daemon thread; the box gets its "value" or its "error"."""
    box: dict = {}

    def target():
        try:
            box["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - re-raised by _outcome in the caller
            box["error"] = exc

    worker = threading.Thread(target=target, name=name, daemon=True)
    worker.start()
    return worker, box


def _outcome(box: dict) -> Any:
    if "error" in box:
        raise box["error"]
    return box.get("value")


class _StatusLine:
    """`… thinking` on its own line while the console works, erased when it is done.

    On an ANSI terminal the line is rewritten in place (once a second at most) and erased;
    on a dumb terminal it is printed once as a plain line and left there."""

    def __init__(self, session: Session, text: str | None = None, delay: float | None = None):
        self.s = session
        self.text = text
        self.delay = session.status_delay if delay is None else delay
        self.shown: str | None = None

    def show(self, elapsed: float) -> None:
        if elapsed < self.delay:
            return
        text = self.text or render.status_text(elapsed, self.s.model_status())
        if text == self.shown:
            return
        term = self.s.term
        if term.ansi:
            term.write("\r" + render.style(text, "dim", True) + "\x1b[K")
        elif self.shown is None:
            term.write(text + "\n")
        self.shown = text

    def clear(self) -> None:
        if self.shown is not None and self.s.term.ansi:
            self.s.term.write("\r\x1b[K")
        self.shown = None
