"""Put a trained run's adapter where the planner finds it (the last step of `make train`).

    python -m mkimage.train.ship [--run NAME]

Copies <cache>/train/runs/<run>/adapter.gguf to llmos_init/planner/adapters/<NAME>.lora.gguf
and writes the JSON beside it that the planner checks before loading it (adapter.py): the
adapter's sha256, the fingerprint of the model it was trained on (the pinned GGUF its
recipe's [base] names), and where
it came from (run, recipe, corpus sha256, training log). The image carries the package, so
the next `make image` ships it; `git diff` shows whether a retrained adapter differs.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from .. import cache, model
from ..targets import REPO

SHIPPED = REPO / "llmos_init/planner/adapters"
NAMES = {"smollm2": "smollm2-135m-planner", "gemma3": "gemma3-270m-planner"}   # per base model
NAME = NAMES["smollm2"]


def ship(run: str, name: str | None = None) -> Path:
    from llmos_init.planner.adapter import SUFFIX, check, write_meta
    src = cache.entry("train", f"runs/{run}") / "adapter.gguf"
    log = REPO / "mkimage/train/log" / f"{run}.json"
    if not src.is_file():
        raise SystemExit(f"ship: no adapter for run {run!r} ({src}); run make train first")
    summary = json.loads(log.read_text()) if log.is_file() else {}
    base_name = summary.get("recipe", {}).get("base", {}).get("model", "smollm2")
    name = name or NAMES.get(base_name, f"{base_name}-planner")
    SHIPPED.mkdir(parents=True, exist_ok=True)
    dest = SHIPPED / f"{name}{SUFFIX}"
    shutil.copyfile(src, dest)
    base = model.pinned(base_name)
    write_meta(str(dest), str(base), run=run, log=f"mkimage/train/log/{run}.json",
               recipe=summary.get("recipe", {}).get("name"),
               corpus_sha256=summary.get("corpus_sha256"), steps=summary.get("steps"))
    check(str(dest), str(base))
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default="corpus-v6")
    ap.add_argument("--name", default=None, help="file name (default: by the run's base model)")
    args = ap.parse_args(argv)
    dest = ship(args.run, args.name)
    print(f"ship: {dest.relative_to(REPO)} ({dest.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
