"""What an executor hands back to the console."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Result:
    ok: bool
    text: str                      # ready to print on a serial terminal (no raw bytes)
    data: Any = None               # the same facts, structured (for tests and renderers)
    changed_cwd: str | None = None  # the console's new current directory, when it changed


class ToolError(Exception):
    """An executor's clear refusal or failure; str(e) is shown to the user."""


class Cancelled(ToolError):
    """The user pressed Ctrl-C while a tool ran; raised at a point where stopping leaves
    nothing half-done (a partial copy is removed by the tool before it returns)."""
