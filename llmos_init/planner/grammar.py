"""GBNF grammars generated from the tool registry, one per tool.

A tool's grammar admits exactly the JSON object of that tool's arguments, with every value
restricted to what the request offers (grounding): paths to the request's resolved paths,
integers to its numbers, names to its words, signals and device kinds to their enums.
llama.cpp's sampler can then only produce a grounded, schema-valid argument object.
"""
from __future__ import annotations

import json

from ..tools.registry import DEVICE_KINDS, SIGNALS, TOOLS, Tool


def _lit(s: str) -> str:
    """A GBNF string literal producing the JSON encoding of `s` (quotes included)."""
    return json.dumps(json.dumps(s))


def _alt(options: list[str]) -> str:
    return "(" + " | ".join(options) + ")" if options else ""


def value_rule(arg_type: str, cands: dict[str, list]) -> str | None:
    """The right-hand side for one argument type, or None when the request offers nothing."""
    if arg_type == "signal":
        return _alt([_lit(s) for s in SIGNALS])
    if arg_type == "kind":
        return _alt([_lit(k) for k in DEVICE_KINDS])
    if arg_type in ("int",):
        nums = cands.get("int") or []
        return _alt([json.dumps(str(n)) for n in nums]) or None
    if arg_type == "pid_or_name":
        nums = cands.get("int") or []
        return _alt([json.dumps(str(n)) for n in nums]) or None
    if arg_type == "list":
        words = cands.get("string") or []
        if not words:
            return None
        return '"[" ( ' + _alt([_lit(w) for w in words]) + ' ( ", " ' + _alt([_lit(w) for w in words]) + ' )* )? "]"'
    key = {"path": "path", "string": "string", "text": "text", "time": "time"}.get(arg_type, "string")
    opts = cands.get(key) or []
    return _alt([_lit(o) for o in opts]) or None


def tool_grammar(tool: Tool | str, cands: dict[str, list]) -> str | None:
    """GBNF for the argument object of `tool`; None when a required argument has no candidate.

    Optional arguments the request offers nothing for are left out of the grammar.
    """
    t = TOOLS[tool] if isinstance(tool, str) else tool
    parts: list[tuple[str, str, bool]] = []
    for a in t.args:
        rule = value_rule(a.type, cands)
        if rule is None:
            if a.required:
                return None
            continue
        parts.append((a.name, rule, a.required))
    lines = [f"v-{name.replace('_', '-')} ::= {rule}" for name, rule, _ in parts]
    if not parts:
        return 'root ::= "{}"'
    # Arguments in registry order, ", "-separated; every subset that keeps the required ones.
    seqs = []
    n = len(parts)
    for mask in range(1 << n):
        chosen = [i for i in range(n) if mask >> i & 1]
        if any(parts[i][2] and i not in chosen for i in range(n)):
            continue
        seqs.append(' ", " '.join(body_i(parts[i][0]) for i in chosen) if chosen else "")
    alts = " | ".join(f'"{{" {q} "}}"' if q else '"{}"' for q in seqs)
    return "\n".join([f"root ::= {alts}"] + lines)


def body_i(name: str) -> str:
    return f'"\\"{name}\\": " v-{name.replace("_", "-")}'


def tool_choice_grammar(tools: list[str]) -> str:
    """GBNF admitting exactly one of `tools` (used when generating the tool name freely)."""
    return "root ::= " + _alt([json.dumps(t) for t in tools])
