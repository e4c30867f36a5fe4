"""The executor: checks, previews and runs actions of the registry's vocabulary.

The console's flow for each action of a plan:

    reason = ex.check(action)            # refusal reason or None (rails, missing files, ...)
    if ex.needs_confirmation(action):    # every destructive tool, per the registry
        show(ex.preview(action)); ask y/N
    result = ex.run(action)              # checks again, acts, appends to the audit log

run() never raises for a bad action or a failing system call: it returns
Result(ok=False, text=<reason>). Nothing it returns holds raw bytes from a file.
"""
from __future__ import annotations

import json
import os
import threading
import traceback
from typing import Any

from . import devices, files, processes, safety, system
from .context import Context
from .journal import MESSAGE_MAX, Journal
from .registry import TOOLS, PlanError, validate_action
from .result import Cancelled, Result, ToolError
from .safety import SafetyError
from .text import clean

_MODULES = (files, processes, devices, system)
EXECUTORS = {name: fn for m in _MODULES for name, fn in m.EXECUTORS.items()}
PREVIEWS = {name: fn for m in _MODULES for name, fn in m.PREVIEWS.items()}
CHECKS = {name: fn for m in _MODULES for name, fn in getattr(m, "CHECKS", {}).items()}
# tools whose confirmation depends on the state (undo: on what it would revert)
ASKS = {name: fn for m in _MODULES for name, fn in getattr(m, "ASKS", {}).items()}
# tools whose preview names targets that can change before the answer (kill by name):
# what the preview showed is kept, and the run acts on that only
PINS = {name: fn for m in _MODULES for name, fn in getattr(m, "PINS", {}).items()}

__all__ = ["Executor", "Result", "Context", "EXECUTORS"]


class Executor:
    def __init__(self, ctx: Context, journal: Journal | None = None):
        self.ctx = ctx
        self.journal = journal if journal is not None else Journal(ctx.real_data_dir)
        # set by the console on Ctrl-C while run() works in its worker thread; long tools
        # (copy, find_files) look at it between steps through check_cancel()
        self.cancel = threading.Event()
        self._pins: dict[str, Any] = {}   # what the last preview of an action showed (PINS)

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("cancelled (Ctrl-C)")

    # ---- before running ---------------------------------------------------------------
    def check(self, action, request: str | None = None, history: tuple[str, ...] = ()) -> str | None:
        """Why this action is refused, or None. With `request`, the optional grounding
        check applies too (a destructive action must act on something the user named)."""
        try:
            a = validate_action(action)
        except PlanError as e:
            return str(e)
        tool, args = a["tool"], a["args"]
        try:
            for name in safety.path_args(tool):
                v = args.get(name)
                if v is None:
                    continue
                if not isinstance(v, str):
                    raise SafetyError(f"{tool}: {name} must be a path, not {v!r}")
                safety.resolve(self.ctx, v, follow=(tool, name) not in safety.NOFOLLOW)
            for name, follow in safety.CHANGES.get(tool, ()):
                safety.checked(self.ctx, args[name], follow=follow, change=True)
            if tool == "kill_process":
                safety.signal_name(args.get("signal"))
            if tool in PREVIEWS:
                PREVIEWS[tool](self, args)
            if tool in CHECKS:
                CHECKS[tool](self, args)
            if request is not None:
                why = safety.grounding_reason(a, request, history)
                if why:
                    return why
        except (SafetyError, ToolError) as e:
            return str(e)
        except OSError as e:
            return self._os_error(e)
        return None

    def needs_confirmation(self, action) -> bool:
        try:
            a = validate_action(action)
        except PlanError:
            return safety.needs_confirmation(action)  # the registry's word (unknown: yes)
        fn = ASKS.get(a["tool"])
        if fn is None:
            return safety.needs_confirmation(a)
        try:
            return bool(fn(self, a["args"]))
        except Exception:  # noqa: BLE001 - when in doubt, ask
            return True

    def announce(self, action) -> str | None:
        """For an action that changes something without asking (undo of a remove,
        set_priority, a link brought up, a mount...): the preview the console shows before
        it runs. None when the action asks (its preview comes with the question) or has
        no preview (it only reads, or its plan line says it all)."""
        try:
            a = validate_action(action)
        except PlanError:
            return None
        if a["tool"] not in PREVIEWS or self.needs_confirmation(a):
            return None
        return self.preview(a)

    # ---- what did not run ---------------------------------------------------------------
    def record_refused(self, action, reason: str) -> str:
        """Log an action refused before it ran; "" or a warning when the log failed."""
        return self._record(action, {"ok": False, "message": str(reason), "refused": True})

    def record_declined(self, action, preview: str) -> str:
        """Log an action the user declined at its confirmation, with what was shown."""
        self._pins.clear()
        return self._record(action, {"ok": False, "message": "declined at the confirmation",
                                     "declined": True, "preview": str(preview)[:MESSAGE_MAX]})

    def _record(self, action, outcome: dict) -> str:
        if self.journal.record(action, outcome):
            return ""
        return f"(warning: not written to the audit log: {self.journal.last_error})"

    def preview(self, action) -> str:
        """The exact action and target, e.g. 'remove /data/a.txt (file, 12 B) → moved to
        the trash, undoable'."""
        try:
            a = validate_action(action)
        except PlanError as e:
            return f"invalid action: {e}"
        tool, args = a["tool"], a["args"]
        self._pins.clear()
        try:
            if tool in PINS:
                self._pins[_pin_key(a)] = PINS[tool](self, args)
            if tool in PREVIEWS:
                return PREVIEWS[tool](self, args)
        except (SafetyError, ToolError) as e:
            return f"{tool}: {e}"
        except OSError as e:
            return f"{tool}: {self._os_error(e)}"
        shown = ", ".join(f"{k}={clean(str(v))}" for k, v in args.items())
        return f"{tool} {shown}".strip()

    def pinned(self, action) -> Any:
        """What the preview of this very action showed (PINS), or None when it was not
        previewed; taken once."""
        return self._pins.pop(_pin_key(action), None)

    # ---- running ----------------------------------------------------------------------
    def run(self, action) -> Result:
        self.cancel.clear()
        try:
            a = validate_action(action)
        except PlanError as e:
            res, refused = Result(False, str(e)), True
            a = action
        else:
            reason = self.check(a)
            if reason:
                res, refused = Result(False, reason), True
            else:
                res, refused = self._dispatch(a), False
        outcome = {"ok": res.ok, "message": res.text}
        if refused:
            outcome["refused"] = True
        if res.changed_cwd:
            outcome["cwd"] = res.changed_cwd
        warning = self._record(a, outcome)
        if warning:
            res.text += "\n" + warning
        return res

    def _dispatch(self, a: dict) -> Result:
        fn = EXECUTORS[a["tool"]]
        try:
            res = fn(self, a["args"])
        except (SafetyError, ToolError) as e:
            return Result(False, str(e))
        except OSError as e:
            return Result(False, self._os_error(e))
        except Exception as e:  # a bug must not take the console down; say what happened
            tb = traceback.extract_tb(e.__traceback__)[-1]
            return Result(False, f"{a['tool']} failed: {type(e).__name__}: {clean(str(e))} "
                                 f"({os.path.basename(tb.filename)}:{tb.lineno})")
        return res   # a tool that changes the directory has set ctx.cwd, its one owner

    def _os_error(self, e: OSError) -> str:
        what = e.strerror or str(e)
        if e.filename:
            what = f"{clean(self.ctx.display(os.fsdecode(e.filename)))}: {what}"
        return what


def _pin_key(action: dict) -> str:
    return json.dumps([action.get("tool"), action.get("args")], sort_keys=True, default=str)


def missing_executors() -> list[str]:
    """Registry tools without an executor (must be empty)."""
    return [t for t in TOOLS if t not in EXECUTORS]
