"""Where a corpus or a run came from: the commit, and whether the files it depends on were
as committed.

The corpus is a function of the generator (mkimage/train), the sentence templates and the
planner that checks every pair against them (llmos_init/planner), the frozen held-out set it
is filtered against (tests/eval/manpages) and the seed.  corpus-v3's log recorded only the
corpus sha256, and neither commit around it regenerates those bytes: a corpus made from an
uncommitted tree cannot be made again.  So `make corpus` writes this into summary.json and
lora.py into the run's log; `git checkout COMMIT && make corpus` then gives the same bytes
when `dirty` is empty.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

# what the corpus bytes depend on (paths from the repository root)
INPUTS = ("mkimage/train", "llmos_init/planner", "llmos_init/tools", "tests/eval/manpages", "Makefile")
# what make corpus and make train write there themselves (the corpus, its summary, run logs)
OUTPUTS = ("mkimage/train/data/", "mkimage/train/log/")


def _git(repo: Path, *args: str) -> str | None:
    try:
        r = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout if r.returncode == 0 else None


def describe(repo: Path, inputs: tuple[str, ...] = INPUTS, ignore: tuple[str, ...] = OUTPUTS) -> dict:
    """{"commit": sha or None, "dirty": [paths under inputs that differ from the commit or are
    untracked]}; ignore: paths (prefixes) that are outputs, not inputs (the corpus itself)."""
    commit = _git(repo, "rev-parse", "HEAD")
    status = _git(repo, "status", "--porcelain", "--untracked-files=all", "--", *inputs)
    if commit is None or status is None:
        return {"commit": None, "dirty": None, "note": "not a git checkout: provenance unknown"}
    dirty = sorted({line[3:].split(" -> ")[-1] for line in status.splitlines() if line.strip()})
    dirty = [p for p in dirty if not p.startswith(ignore)]
    return {"commit": commit.strip(), "dirty": dirty}
