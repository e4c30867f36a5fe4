"""The confirmation preview: what the question before an action shows, for every tool.

The console asks before every destructive action (and announces a change that does not
ask): `needs_confirmation` says whether it asks, `preview` what the question shows,
`announce` what is shown before a change that runs without asking. Each tool's own
preview_* (in files.py, processes.py, devices.py, system.py) words it, from the plan its
prepare step made (executor.Executor.prepare, done once before the question); the tables
below say which tool has which.
"""
from __future__ import annotations

import json
from typing import Any

from . import devices, files, processes, safety, system, update
from .registry import PlanError
from .result import ToolError
from .safety import SafetyError
from .text import printable

_MODULES = (files, processes, devices, system, update)
PREVIEWS = {name: fn for m in _MODULES for name, fn in m.PREVIEWS.items()}
# tools whose confirmation depends on the state (undo: on what it would revert)
ASKS = {name: fn for m in _MODULES for name, fn in getattr(m, "ASKS", {}).items()}
# tools whose preview names targets that can change before the answer (kill by name):
# what the preview showed is kept, and the run acts on that only
PINS = {name: fn for m in _MODULES for name, fn in getattr(m, "PINS", {}).items()}


def pin_key(action: dict) -> str:
    return json.dumps([action.get("tool"), action.get("args")], sort_keys=True, default=str)


def needs_confirmation(ex, action) -> bool:
    ready = ex.checked(action)
    try:
        a = ex.action_of(action)
    except PlanError:
        return safety.needs_confirmation(action)  # the registry's word (unknown: yes)
    fn = ASKS.get(a["tool"])
    if fn is None:
        return safety.needs_confirmation(a)
    try:   # with what check() prepared, when it did
        return bool(fn(ex, a["args"], ready.plan) if ready is not None else fn(ex, a["args"]))
    except Exception:  # noqa: BLE001 - when in doubt, ask
        return True


def announce(ex, action) -> str | None:
    """For an action that changes something without asking (undo of a remove,
    set_priority, a link brought up, a mount...): the preview the console shows before
    it runs. None when the action asks (its preview comes with the question) or has
    no preview (it only reads, or its plan line says it all)."""
    try:
        a = ex.action_of(action)
    except PlanError:
        return None
    if a["tool"] not in PREVIEWS or needs_confirmation(ex, a):
        return None
    return preview(ex, a)


def preview(ex, action) -> str:
    """The exact action and target, e.g. 'remove /data/a.txt (file, 12 B) → moved to
    the trash, undoable'."""
    ex.pins.clear()
    if isinstance(action, dict) and action.get("tool") in ex.PREPARES:
        p = ex.checked(action, take=True) or ex.prepare(action)
        if p.invalid:
            return f"invalid action: {p.reason}"
        if p.reason is not None:
            return f"{p.tool}: {p.reason}"
        a, plan = p.action, p.plan
    else:   # no prepare step, so no preview of its own: the line below says it
        try:
            a = ex.action_of(action, take=True)
        except PlanError as e:
            return f"invalid action: {e}"
        plan = None
    tool, args = a["tool"], a["args"]
    try:
        if tool in PINS:
            ex.pins[pin_key(a)] = PINS[tool](ex, args, plan)
        if tool in ex.PREPARES:
            return PREVIEWS[tool](ex, args, plan)
    except (SafetyError, ToolError) as e:
        return f"{tool}: {e}"
    except OSError as e:
        return f"{tool}: {ex.os_error(e)}"
    shown = ", ".join(f"{k}={printable(str(v))}" for k, v in args.items())
    return f"{tool} {shown}".strip()


def pinned(ex, action) -> Any:
    """What the preview of this very action showed (PINS), or None when it was not
    previewed; taken once."""
    return ex.pins.pop(pin_key(action), None)
