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
from .decontaminate import HELD_OUT, cli, filter_pairs


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
    return filter_pairs(src, dst, lambda req: _h(req) in held)


def main(argv: list[str] | None = None) -> int:
    return cli(argv, clean, __doc__, "whose request is a held-out request", "exclude")


if __name__ == "__main__":
    sys.exit(main())
