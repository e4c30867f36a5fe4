"""Safety rails the executor enforces whatever the planner says.

- Paths are resolved (".." and symlinks) before they are compared, so neither
  "/data/../proc" nor a symlink in /data pointing at /sys reaches a protected place.
- On a host console every path must resolve inside the sandbox.
- Protected paths (/, /proc, /sys, /dev) and the read-only root (everything outside /data,
  /tmp and /run on the guest) are never changed; the audit log and the trash on /data are
  the console's own and are not changed on request either.
- Destructive tools (from the registry) need an explicit confirmation.
- An optional grounding check: a destructive action must name something the user said.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .context import ActionContext
from .fsio import under
from .registry import SIGNALS, TOOLS
from .text import printable


class SafetyError(ValueError):
    """An action refused by the rails; str(e) is the reason shown to the user."""


@dataclass(frozen=True)
class Resolved:
    console: str   # console path after resolution (what the user sees)
    real: str      # host path to act on

    @property
    def shown(self) -> str:
        """The console path as it may be printed: control characters escaped, so a name
        holding a newline cannot start a line of its own."""
        return printable(self.console)


def resolve_path(ctx: ActionContext, path: str, follow: bool = True) -> Resolved:
    """Resolve a console path: ".." and symlinks (all of them, or all but the last
    component when follow=False, for actions on a link itself); refuse a sandbox escape."""
    try:
        shown = ctx.normalize(path)
    except ValueError as e:
        raise SafetyError(str(e)) from None
    real = ctx.real(shown)
    if follow or shown == "/":
        r = os.path.realpath(real)
    else:
        r = os.path.join(os.path.realpath(os.path.dirname(real)), os.path.basename(real))
    if ctx.sandbox is not None and not under(r, ctx.sandbox):
        raise SafetyError(f"{printable(shown)} leads outside the sandbox ({printable(ctx.sandbox)}); refused")
    return Resolved(ctx.display(r), r)


def protected_reason(ctx: ActionContext, console_path: str) -> str | None:
    """Why a resolved console path may not be changed, or None."""
    p = console_path
    shown = printable(p)
    if p == "/":
        return "/ (the root directory) is protected"
    for q in ctx.protected:
        if q != "/" and under(p, q):
            return f"{shown} is under {q}, a protected system path"
    data = os.path.normpath(ctx.data_dir)
    for sub in ("log", "trash"):
        if under(p, os.path.join(data, sub)):
            return f"{shown} belongs to the console's {'audit log' if sub == 'log' else 'trash'}; refused"
    if ctx.sandbox is None:
        writable = tuple(ctx.writable) + (data,)
        if not any(under(p, w) for w in writable):
            return (f"{shown} is on the read-only root filesystem "
                    f"(only {', '.join(sorted(set(writable)))} can be changed)")
    return None


def not_on_host(ctx: ActionContext, what: str) -> None:
    """Refuse a change to the system itself (mounts, clock, hostname) from a host console."""
    if ctx.host:
        raise SafetyError(f"{what} would change the host system; not done from a host console")


def checked(ctx: ActionContext, path: str, follow: bool = True, change: bool = False) -> Resolved:
    """resolve_path(), then (for a change) refuse protected paths; raises SafetyError."""
    r = resolve_path(ctx, path, follow)
    if change:
        refuse_protected(ctx, r)
    return r


def refuse_protected(ctx: ActionContext, r: Resolved) -> Resolved:
    """A resolved path that is to be changed, or SafetyError when it is protected."""
    why = protected_reason(ctx, r.console)
    if why:
        raise SafetyError(why)
    return r


def resolved_paths(ex, a: dict, paths: dict[str, Resolved]) -> dict[str, Resolved]:
    """The prepare step of a tool whose plan is its path arguments as the rails resolved
    them (executor.PREPARES: list_dir, read_file, copy, ...)."""
    return paths


# arguments of each tool that name something the tool changes, and whether the last
# path component is followed when it is a symlink (remove/move act on the link itself)
CHANGES: dict[str, tuple[tuple[str, bool], ...]] = {
    "write_file": (("path", True),),
    "append_file": (("path", True),),
    "make_dir": (("path", True),),
    "remove": (("path", False),),
    "move": (("src", False), ("dst", True)),
    "copy": (("dst", True),),
}


# path arguments that name a symlink itself rather than what it points to
NOFOLLOW = frozenset({("remove", "path"), ("move", "src"), ("file_info", "path")})


def path_args(tool: str) -> tuple[str, ...]:
    t = TOOLS[tool]
    return tuple(a.name for a in t.args if a.type == "path")


def needs_confirmation(action: dict) -> bool:
    """Every destructive tool, and every other that asks (per the registry), needs an
    explicit yes; undo decides per entry (the executor asks the trash's undo list)."""
    t = TOOLS.get(action.get("tool")) if isinstance(action, dict) else None
    return True if t is None else t.confirms


def signal_name(sig) -> str:
    """Normalise "term", "SIGTERM", 15 -> "TERM"; SafetyError for anything else."""
    if sig is None:
        return "TERM"
    if isinstance(sig, int) or (isinstance(sig, str) and sig.strip().isdigit()):
        import signal as _s
        try:
            name = _s.Signals(int(sig)).name[3:]
        except ValueError:
            raise SafetyError(f"unknown signal {sig}") from None
    elif isinstance(sig, str):
        name = sig.strip().upper()
        name = name[3:] if name.startswith("SIG") else name
    else:
        raise SafetyError(f"bad signal {sig!r}")
    if name not in SIGNALS:
        raise SafetyError(f"bad signal name {sig!r}; use one of {', '.join(SIGNALS)}")
    return name


_WORD = re.compile(r"[\w.\-]+", re.UNICODE)


def grounding_reason(action: dict, request: str, history: tuple[str, ...] = ()) -> str | None:
    """Optional check for destructive actions: each path/name they act on must be named in
    the request or the recent history (its last component, compared case-insensitively).
    Returns a reason when something is acted on that nobody mentioned."""
    tool = TOOLS.get(action.get("tool"))
    if tool is None or not tool.destructive:
        return None
    said = " ".join((request,) + tuple(history)).lower()
    words = set(_WORD.findall(said))
    args = action.get("args", {})
    for a in tool.args:
        v = args.get(a.name)
        if v is None or a.type not in ("path", "pid_or_name", "string", "url") or a.name == "signal":
            continue
        v = str(v)
        last = os.path.basename(v.rstrip("/")) or v
        if last.lower() not in said and last.lower() not in words:
            return f"{tool.name}: {v} was not mentioned in the request; refused"
    return None
