"""The stand-in corpus: tests/eval plans written as canonical commands.

Until the corpus generator writes the real training set, `make train` uses this: every
case of tests/eval/cases.jsonl whose plan has a canonical form (canonical.commands) as the
training set and tests/eval/heldout_dev.jsonl as the validation set.  It is small (387
train / 67 val) and trains on the very cases the planner is scored on: good enough to
prove the pipeline end to end, not to ship an adapter.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from llmos_init.planner.canonical import commands
from mkimage import cache

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {"train": ROOT / "tests/eval/cases.jsonl", "val": ROOT / "tests/eval/heldout_dev.jsonl"}


def rows(src: Path) -> list[dict]:
    out = []
    for line in src.read_text().splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        cmd = commands(case["expect"], case["cwd"])
        if cmd is not None:
            out.append({"request": case["request"], "cwd": case["cwd"], "command": cmd})
    return out


def write(outdir: Path | None = None) -> dict[str, Path]:
    outdir = Path(outdir) if outdir else cache.entry("train", "standin")
    outdir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, src in SOURCES.items():
        r = rows(src)
        p = outdir / f"{split}.jsonl"
        p.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in r))
        print(f"stand-in {split}: {len(r)} examples from {src.relative_to(ROOT)} -> {p}", file=sys.stderr)
        paths[split] = p
    return paths


if __name__ == "__main__":
    ps = write(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(ps["train"], ps["val"])
