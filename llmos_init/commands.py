"""llmos_init's sub-commands, by name: what `python -m llmos_init CMD ...` runs, and what
the supervisor runs in a forked service without a new interpreter.

Each is named by its module, imported only when it runs, so none pays for another's
imports and nothing below the entry points imports the layers above it.
"""
from __future__ import annotations

import sys

COMMANDS = {
    "pid1": "llmos_init.boot",            # the supervisor (what /sbin/init runs as PID 1)
    "console": "llmos_init.console.main",  # the natural-language console
    "plan": "llmos_init.planner.cli",      # the planner as a dry run
    "modelbench": "llmos_init.modelbench",  # the model's tokens/s through the planner's runtime
    "network": "llmos_init.net.service",   # ip= or DHCP on the Ethernet interface
    "modelhost": "llmos_init.planner.modelhost",  # the model with RPC workers (llmos.rpc=)
}
USAGE = "usage: python -m llmos_init {pid1|console|plan|modelbench|network|modelhost} [options]"


def run(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = argv.pop(0) if argv else ("pid1" if _is_pid1() else "")
    module = COMMANDS.get(cmd)
    if module is None:
        print(USAGE, file=sys.stderr)
        return 2
    # __import__, not importlib.import_module: the importlib package (and warnings) is
    # one more import before PID 1's prompt (~9 ms under QEMU TCG)
    return __import__(module, fromlist=["main"]).main(argv) or 0


def _is_pid1() -> bool:
    import os
    return os.getpid() == 1
