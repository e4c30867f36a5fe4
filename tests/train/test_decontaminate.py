"""decontaminate.py: no training pair may contain a phrase of the frozen held-out set."""
from __future__ import annotations

import json

from mkimage.train import decontaminate as D


def test_pairs_with_a_held_out_phrase_are_dropped(tmp_path, monkeypatch):
    held = tmp_path / "held.jsonl"
    held.write_text(json.dumps({"request": "x", "source": {"phrase": "Report Disk Space Usage", "text": "short"}}) + "\n")
    monkeypatch.setattr(D, "HELD_OUT", [held])
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    rows = [{"request": "please report disk space usage of /data", "command": "df /data"},
            {"request": "how full is the disk", "command": "df"},
            {"request": "short", "command": "?"}]            # under MIN_LEN: not a phrase
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert D.clean(src, dst) == (2, 1)
    kept = [json.loads(line)["request"] for line in dst.read_text().splitlines()]
    assert kept == ["how full is the disk", "short"]


def test_the_real_held_out_set_gives_phrases():
    phrases = D.held_out_phrases()
    assert len(phrases) > 50 and all(len(p) >= D.MIN_LEN for p in phrases)
