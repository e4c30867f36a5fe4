"""One step planned by the model: tool by likelihood, arguments grounded (grammar if needed)."""
from __future__ import annotations

import json
import re

from ..tools.registry import DESTRUCTIVE, TOOLS
from .grammar import tool_grammar
from .grounding import extract, resolve
from .parser import Context, act, clarify

# Tools the model may never pick on its own: clarify/answer/help are chosen by the parser
# or as fallbacks; the model decides among the tools that act or inform.
NEVER_BY_MODEL = frozenset({"clarify", "undo"} | {n for n, t in TOOLS.items() if not t.by_model})


def candidates(step: str, ctx: Context) -> dict[str, list]:
    e = extract(step)
    paths = [resolve(p, ctx.cwd) for p in e.paths + [n for n in e.names if n not in e.paths]]
    if not paths and ctx.last_path() and re.search(r"\b(it|that|there)\b", step, re.I):
        paths = [ctx.last_path()]
    words = [w for w in re.findall(r"[\w.+-]+", step) if not w.isdigit()]
    return {"path": list(dict.fromkeys(paths)), "int": list(dict.fromkeys(e.ints)),
            "string": list(dict.fromkeys(e.interfaces + e.quoted + words)),
            "text": list(dict.fromkeys(e.quoted)), "time": e.times}


def fill_args(tool: str, c: dict[str, list]) -> dict | None:
    """Arguments when the request leaves no choice; None when a choice remains."""
    t = TOOLS[tool]
    args: dict = {}
    for a in t.args:
        key = {"pid_or_name": "int", "int": "int", "path": "path", "time": "time",
               "text": "text"}.get(a.type)
        if a.type in ("signal", "kind", "list"):
            continue
        opts = c.get(key or "string") or []
        if len(opts) == 1 and (a.type != "string" or tool in ("link_up", "link_down")):
            args[a.name] = opts[0]
        elif a.required and len(opts) != 1:
            return None
    return args


def model_step(rt, step: str, ctx: Context, allow) -> list[dict]:
    tools = [t for t in TOOLS if t not in NEVER_BY_MODEL and (t not in DESTRUCTIVE or allow(t))]
    best, _ = rt.best_tool(step, tools)
    t = TOOLS[best]
    if not t.args or best in ("answer",):
        return [act(best)]
    c = candidates(step, ctx)
    if best == "list_devices":
        return [act(best)]
    args = fill_args(best, c)
    if args is not None:
        return [act(best, **args)]
    g = tool_grammar(best, c)
    if g is None:
        missing = ", ".join(a.name for a in t.args if a.required)
        return [clarify(f"To {t.summary.split(' (')[0]} I need the {missing}; which?")]
    try:
        args = json.loads(rt.generate_args(step, best, g))
    except ValueError:
        return [clarify("I could not work out the details; please rephrase.")]
    return [act(best, **args)]
