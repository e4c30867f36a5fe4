"""Drop training pairs that contain a phrase of the frozen held-out set.

    python -m mkimage.train.decontaminate IN.jsonl OUT.jsonl

The corpus generator (corpus.py) writes its own "manual-page style" phrasings from what it
knows, and some of them are, word for word, the phrases Debian's manual pages give (the
held-out set in tests/eval/manpages is built from those). A model trained on them would be
measured on its training data. This step removes every pair whose request contains one of
the held-out set's source phrases (case-folded, 8 characters or more), and prints only how
many it removed: the held-out phrases are read to be excluded, never shown or used.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HELD_OUT = [REPO / "tests/eval/manpages/heldout_en.jsonl", REPO / "tests/eval/manpages/heldout_zh.jsonl"]
MIN_LEN = 8


def held_out_phrases() -> set[str]:
    out: set[str] = set()
    for f in HELD_OUT:
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    c = json.loads(line)
                    for text in (c.get("source", {}).get("phrase"), c.get("source", {}).get("text")):
                        if isinstance(text, str) and len(text) >= MIN_LEN:
                            out.add(text.casefold().strip())
    return out


def filter_pairs(src: Path, dst: Path, drop) -> tuple[int, int]:
    """Copy the jsonl pairs of `src` to `dst` except those whose request `drop` rejects;
    (kept, dropped). exclude.py filters with it too."""
    kept = dropped = 0
    with open(src, encoding="utf-8") as fi, open(dst, "w", encoding="utf-8") as fo:
        for line in fi:
            if not line.strip():
                continue
            if drop(json.loads(line)["request"]):
                dropped += 1
                continue
            fo.write(line if line.endswith("\n") else line + "\n")
            kept += 1
    return kept, dropped


def clean(src: Path, dst: Path) -> tuple[int, int]:
    phrases = held_out_phrases()
    return filter_pairs(src, dst, lambda req: any(p in req.casefold() for p in phrases))


def cli(argv: list[str] | None, clean_, doc: str, what: str, name: str) -> int:
    """`python -m mkimage.train.<name> IN.jsonl OUT.jsonl` for one of the filters."""
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print(doc.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    kept, dropped = clean_(Path(args[0]), Path(args[1]))
    print(f"{name}: kept {kept}, dropped {dropped} pairs {what}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return cli(argv, clean, __doc__, "containing a held-out phrase", "decontaminate")


if __name__ == "__main__":
    sys.exit(main())
