"""Entry point: `python -m llmos_init [pid1|console|plan] ...`.

pid1     the supervisor (what /sbin/init runs as PID 1)
console  the natural-language console (on a serial tty in the image; on a host terminal
         against a sandbox directory elsewhere)
plan     the planner as a dry run: prints the plan for a request as one JSON line
modelbench  the model's tokens/s through the planner's runtime (the `modelbench` service)
Sub-commands import their modules lazily, so none pays for another's imports.
"""
from __future__ import annotations

import sys

USAGE = "usage: python -m llmos_init {pid1|console|plan|modelbench} [options]"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = argv.pop(0) if argv else ("pid1" if _is_pid1() else "")
    if cmd == "pid1":
        from .boot import main as run
    elif cmd == "console":
        from .console.main import main as run
    elif cmd == "plan":
        from .planner.cli import main as run
    elif cmd == "modelbench":
        from .modelbench import main as run
    else:
        print(USAGE, file=sys.stderr)
        return 2
    return run(argv) or 0


def _is_pid1() -> bool:
    import os
    return os.getpid() == 1


if __name__ == "__main__":
    sys.exit(main())
