"""The signal functions, without the signal module's enums.

`signal.py` is a thin wrapper over the C module `_signal` that builds the Signals, Handlers
and Sigmasks IntEnums when it is imported: `enum` (with its own imports) costs ~25 ms
before the prompt under QEMU TCG, and PID 1 needs none of it. This module is `_signal`
(the same functions and constants, as plain ints) plus the names the enums gave.
"""
from __future__ import annotations

import _signal
from _signal import *  # noqa: F401,F403 - the signal module's functions and constants


def _table() -> tuple[dict[str, int], dict[int, str]]:
    """name -> number for every SIG* constant, and number -> the name signal.Signals
    gives it (of aliases such as SIGIOT/SIGABRT, the first by name, as enum's _convert_
    orders them)."""
    numbers = {k: v for k, v in vars(_signal).items()
               if k.isupper() and k.startswith("SIG") and not k.startswith("SIG_")}
    names: dict[int, str] = {}
    for k, v in sorted(numbers.items(), key=lambda kv: (kv[1], kv[0])):
        names.setdefault(v, k)
    return numbers, names


NUMBERS, NAMES = _table()


def name(signum: int) -> str:
    """signal.Signals(signum).name; ValueError for a number that is no signal's."""
    try:
        return NAMES[signum]
    except KeyError:
        raise ValueError(f"{signum} is not a valid signal") from None
