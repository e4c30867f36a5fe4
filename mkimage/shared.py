"""Reads mkimage/shared.toml, the literals the Buildroot tree shares with the offline
build, and writes run-qemu.sh from its template.

Standard library only: buildroot/support/offline.py imports this module (as it imports
targets.py) with Buildroot's host-python3, which has nothing else.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

SHARED_FILE = Path(__file__).with_name("shared.toml")
RUN_QEMU_TEMPLATE = Path(__file__).with_name("templates") / "run-qemu.sh"


@lru_cache(maxsize=None)
def shared() -> dict:
    with open(SHARED_FILE, "rb") as f:
        return tomllib.load(f)


def qemu_table() -> dict[str, tuple[str, str, str]]:
    """arch -> (QEMU binary, machine, CPU under TCG)."""
    return {arch: (q["binary"], q["machine"], q["tcg_cpu"]) for arch, q in shared()["qemu"].items()}


def write_run_script(target, dest: Path) -> None:
    """run-qemu.sh for a Target (mkimage/targets.py): the template, filled in."""
    qemu, machine, tcg_cpu = qemu_table()[target.arch]
    text = RUN_QEMU_TEMPLATE.read_text()
    for k, v in {"@TARGET@": target.name, "@KERNEL@": target.kernel_image, "@QEMU@": qemu,
                 "@MACHINE@": machine, "@TCG_CPU@": tcg_cpu,
                 "@ARCH@": target.arch, "@CONSOLE@": target.console, "@DISK@": target.disk_prefix}.items():
        text = text.replace(k, v)
    dest.write_text(text)
    dest.chmod(0o755)
