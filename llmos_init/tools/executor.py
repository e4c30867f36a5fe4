"""The executor: checks, previews and runs actions of the registry's vocabulary.

The console's flow for each action of a plan:

    reason = ex.check(action)            # refusal reason or None (rails, missing files, ...)
    if ex.needs_confirmation(action):    # every destructive tool, per the registry
        show(ex.preview(action)); ask y/N
    result = ex.run(action)              # checks again, acts, appends to the audit log (audit.py)

Check, preview and run share one step, prepare(): the action is validated, its paths
resolved by the rails, and the tool's own prepare step (PREPARES: e.g. remove's "exists,
not a mount point, holds no mount") gives the plan its preview shows and its run acts on.
check() prepares the action once before the question (needs_confirmation() and preview()
of that same action use what it prepared) and run() prepares it once more after the
answer, as the files may have changed meanwhile.

run() never raises for a bad action or a failing system call: it returns
Result(ok=False, text=<reason>). Nothing it returns holds raw bytes from a file.
"""
from __future__ import annotations

import os
import threading
import traceback
from dataclasses import dataclass
from typing import Any

from . import devices, files, processes, safety, system, update
from . import preview as question
from .audit import MESSAGE_MAX, AuditLog
from .context import ActionContext
from .preview import pin_key
from .registry import TOOLS, PlanError, validate_action
from .result import Cancelled, Result, ToolError
from .safety import SafetyError
from .text import printable
from .trash import Trash

_MODULES = (files, processes, devices, system, update)
EXECUTORS = {name: fn for m in _MODULES for name, fn in m.EXECUTORS.items()}
# each tool's prepare step: prepare(ex, args, paths) -> plan, with paths the path arguments
# the rails resolved (name -> Resolved); its preview and its executor then take
# (ex, args, plan).  Every tool with a path argument or a preview has one (kill_process:
# the signal and the processes; set_priority: the pid and its process; undo: the step it
# reverts; reboot, poweroff: the power action); any other has its arguments for a plan
PREPARES = {name: fn for m in _MODULES for name, fn in getattr(m, "PREPARES", {}).items()}

__all__ = ["Executor", "Prepared", "Result", "ActionContext", "EXECUTORS"]


@dataclass
class Prepared:
    """An action made ready once: validated, its paths resolved by the rails, and its
    tool's prepare step done (plan); or why it is refused (reason)."""
    action: Any                 # the normalised action (as given when it is invalid)
    reason: str | None = None   # why it is refused; None: it may run
    invalid: bool = False       # refused by the registry (not an action of the vocabulary)
    plan: Any = None            # what the tool's prepare step gave (PREPARES), else its args

    @property
    def tool(self) -> str:
        return self.action["tool"]


class Executor:
    PREPARES = PREPARES

    def __init__(self, ctx: ActionContext, trash: Trash | None = None,
                 audit: AuditLog | None = None):
        self.ctx = ctx
        self.trash = trash if trash is not None else Trash(ctx.real_data_dir)
        self.audit = audit if audit is not None else AuditLog(ctx.real_data_dir)
        # set by the console on Ctrl-C while run() works in its worker thread; long tools
        # (copy, find_files) look at it between steps through check_cancel()
        self.cancel = threading.Event()
        self.pins: dict[str, Any] = {}   # what the last preview of an action showed (PINS)
        # a long tool's progress line (install_update), shown by the console while it runs
        self.progress: str | None = None
        self._ready: tuple[str, Prepared] | None = None   # what check() prepared, for its question

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("cancelled (Ctrl-C)")

    # ---- before running ---------------------------------------------------------------
    def prepare(self, action) -> Prepared:
        """Validate the action, resolve its paths through the rails and run its tool's
        prepare step: once, for check, preview and run alike."""
        try:
            a = validate_action(action)
        except PlanError as e:
            return Prepared(action, str(e), invalid=True)
        tool, args = a["tool"], a["args"]
        try:
            paths = {}
            for name in safety.path_args(tool):
                v = args.get(name)
                if v is None:
                    continue
                if not isinstance(v, str):
                    raise SafetyError(f"{tool}: {name} must be a path, not {v!r}")
                paths[name] = safety.resolve_path(self.ctx, v, follow=(tool, name) not in safety.NOFOLLOW)
            for name, _follow in safety.CHANGES.get(tool, ()):
                safety.refuse_protected(self.ctx, paths[name])
            plan = PREPARES[tool](self, args, paths) if tool in PREPARES else args
        except (SafetyError, ToolError) as e:
            return Prepared(a, str(e))
        except OSError as e:
            return Prepared(a, self.os_error(e))
        return Prepared(a, plan=plan)

    def check(self, action, request: str | None = None, history: tuple[str, ...] = ()) -> str | None:
        """Why this action is refused, or None. With `request`, the optional grounding
        check applies too (a destructive action must act on something the user named).
        What it prepared serves the question that follows (needs_confirmation, preview)."""
        p = self.prepare(action)
        self._ready = None
        if p.reason is None and request is not None:
            why = safety.grounding_reason(p.action, request, history)
            if why:
                return why
        if p.reason is None:
            self._ready = (pin_key(p.action), p)
        return p.reason

    def checked(self, action, take: bool = False) -> Prepared | None:
        """What check() prepared for this very action (taken once when `take`), or None."""
        ready = self._ready
        if take:
            self._ready = None
        if ready is not None and isinstance(action, dict) and ready[0] == pin_key(action):
            return ready[1]
        return None

    def action_of(self, action, take: bool = False) -> dict:
        """The normalised action: the one check() prepared when it is this one, else
        validate_action()'s (PlanError when it is not an action)."""
        ready = self.checked(action, take)
        return ready.action if ready is not None else validate_action(action)

    # the confirmation question: preview.py's
    def needs_confirmation(self, action) -> bool:
        return question.needs_confirmation(self, action)

    def announce(self, action) -> str | None:
        return question.announce(self, action)

    def preview(self, action) -> str:
        return question.preview(self, action)

    def pinned(self, action) -> Any:
        return question.pinned(self, action)

    # ---- what did not run ---------------------------------------------------------------
    def record_refused(self, action, reason: str) -> str:
        """Log an action refused before it ran; "" or a warning when the log failed."""
        return self._record(action, {"ok": False, "message": str(reason), "refused": True})

    def record_declined(self, action, preview: str) -> str:
        """Log an action the user declined at its confirmation, with what was shown."""
        self.pins.clear()
        self._ready = None
        return self._record(action, {"ok": False, "message": "declined at the confirmation",
                                     "declined": True, "preview": str(preview)[:MESSAGE_MAX]})

    def _record(self, action, outcome: dict) -> str:
        if self.audit.record(action, outcome):
            return ""
        return f"(warning: not written to the audit log: {self.audit.last_error})"

    # ---- running ----------------------------------------------------------------------
    def run(self, action) -> Result:
        self.cancel.clear()
        self._ready = None
        p = self.prepare(action)     # once more: the files may have changed since the question
        if p.reason is not None:
            res, refused = Result(False, p.reason), True
        else:
            res, refused = self._dispatch(p), False
        outcome = {"ok": res.ok, "message": res.text}
        if refused:
            outcome["refused"] = True
        if res.changed_cwd:
            outcome["cwd"] = res.changed_cwd
        warning = self._record(p.action, outcome)
        if warning:
            res.text += "\n" + warning
        return res

    def _dispatch(self, p: Prepared) -> Result:
        tool, args = p.tool, p.action["args"]
        fn = EXECUTORS[tool]
        try:
            res = fn(self, args, p.plan) if tool in PREPARES else fn(self, args)
        except (SafetyError, ToolError) as e:
            return Result(False, str(e))
        except OSError as e:
            return Result(False, self.os_error(e))
        except Exception as e:  # a bug must not take the console down; say what happened
            tb = traceback.extract_tb(e.__traceback__)[-1]
            return Result(False, f"{tool} failed: {type(e).__name__}: {printable(str(e))} "
                                 f"({os.path.basename(tb.filename)}:{tb.lineno})")
        return res   # a tool that changes the directory has set ctx.cwd, its one owner

    def os_error(self, e: OSError) -> str:
        what = e.strerror or str(e)
        if e.filename:
            what = f"{printable(self.ctx.display(os.fsdecode(e.filename)))}: {what}"
        return what


def missing_executors() -> list[str]:
    """Registry tools without an executor (must be empty)."""
    return [t for t in TOOLS if t not in EXECUTORS]
