"""The boot state: what the boot loader reads to choose a slot, and what llmos writes.

A U-Boot text environment ("key=value" lines, then NUL bytes) in the first STATE_BYTES of
the bootstate partition; the boot script (mkimage/templates/boot.cmd) imports and exports
exactly KEYS:
  slot=a|b       the committed slot
  try=a|b        a slot installed but not committed: booted while `tries` is left
  tries=N        boots left for `try` (the boot script counts it down before each boot)
  rolled_back=X  the boot script gave up on `try`=X and booted `slot`
  version_a/_b   what each slot holds (the bundles' manifest version)
Standard library only (PID 1 reads it before the prompt).
"""
from __future__ import annotations

import os

STATE_BYTES = 4096
KEYS = ("slot", "try", "tries", "rolled_back", "version_a", "version_b")
SLOTS = ("a", "b")


class StateError(ValueError):
    pass


def parse(raw: bytes) -> dict[str, str]:
    text = raw.split(b"\0", 1)[0].decode("ascii", "replace")
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in KEYS:
            out[key] = value
    return out


def format_state(state: dict[str, str]) -> bytes:
    """The bytes the bootstate partition starts with (U-Boot's `env export -t` layout)."""
    for k, v in state.items():
        if k not in KEYS:
            raise StateError(f"unknown boot state key {k!r}")
        if any(c in v for c in "\n\0=") or not v.isprintable():
            raise StateError(f"bad boot state value {k}={v!r}")
    text = "".join(f"{k}={state[k]}\n" for k in sorted(state) if state[k] != "").encode()
    if len(text) >= STATE_BYTES:
        raise StateError("boot state too long")
    return text + b"\0" * (STATE_BYTES - len(text))


def read(device: str) -> dict[str, str]:
    fd = os.open(device, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return parse(os.pread(fd, STATE_BYTES, 0))
    finally:
        os.close(fd)


def write(device: str, state: dict[str, str]) -> None:
    """Write the state and wait until it is on the disk (one block write, then fsync)."""
    data = format_state(state)
    fd = os.open(device, os.O_WRONLY | os.O_CLOEXEC)
    try:
        if os.pwrite(fd, data, 0) != len(data):
            raise OSError("short write of the boot state")
        os.fsync(fd)
    finally:
        os.close(fd)


def other(slot: str) -> str:
    return "b" if slot == "a" else "a"


def committed(state: dict[str, str]) -> str:
    s = state.get("slot", "a")
    return s if s in SLOTS else "a"
