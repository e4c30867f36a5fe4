"""Drop training pairs whose request IS a request of the frozen held-out set.

    python -m mkimage.train.exclude IN.jsonl OUT.jsonl

decontaminate.py drops pairs that contain a held-out source phrase of 8 characters or more;
a short phrase ("重启系统") can still be, word for word, a sentence the planner's own
templates generate.  This step drops every pair whose request, normalised as
corpus.norm (case, spaces, a final stop), equals a held-out request.  The held-out requests
are held as hashes and only counted: never shown, never used to generate anything.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from .corpus import norm
from .decontaminate import HELD_OUT


def _h(text: str) -> str:
    return hashlib.sha256(norm(text).encode()).hexdigest()


def held_out_hashes() -> set[str]:
    out = set()
    for f in HELD_OUT:
        for line in Path(f).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.add(_h(json.loads(line)["request"]))
    return out


def clean(src: Path, dst: Path) -> tuple[int, int]:
    held = held_out_hashes()
    kept, dropped, out = 0, 0, []
    for line in Path(src).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        if _h(json.loads(line)["request"]) in held:
            dropped += 1
            continue
        out.append(line + "\n")
        kept += 1
    Path(dst).write_text("".join(out), encoding="utf-8")
    return kept, dropped


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    kept, dropped = clean(Path(args[0]), Path(args[1]))
    print(f"exclude: kept {kept}, dropped {dropped} pairs whose request is a held-out request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
