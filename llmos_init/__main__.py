"""Entry point: `python -m llmos_init [pid1|console|plan|modelbench|network] ...`.

pid1     the supervisor (what /sbin/init runs as PID 1)
console  the natural-language console (on a serial tty in the image; on a host terminal
         against a sandbox directory elsewhere)
plan     the planner as a dry run: prints the plan for a request as one JSON line
modelbench  the model's tokens/s through the planner's runtime (the `modelbench` service)
network  the network service: ip= or DHCP (llmos_init/net)
The table is llmos_init/commands.py; sub-commands import their modules lazily, so none
pays for another's imports.
"""
from __future__ import annotations

import sys

from .commands import run as main

if __name__ == "__main__":
    sys.exit(main())
