"""Integrity of the outside dev set (tests/eval/outside): built from outside wording, kept apart
from the frozen man-page set. No accuracy is asserted here."""
from __future__ import annotations

import importlib.util
import json
import os
import re

import pytest

from llmos_init.tools.registry import validate_plan

EVAL = os.path.dirname(os.path.abspath(__file__))
HERE = os.path.join(EVAL, "outside")
LANGS = ("en", "zh")


def load(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def sets() -> dict[str, list[dict]]:
    return {lang: load(os.path.join(HERE, f"dev_{lang}.jsonl")) for lang in LANGS}


def test_sizes_and_languages(sets):
    assert len(sets["en"]) >= 150 and len(sets["zh"]) >= 60
    cjk = re.compile(r"[\u3400-\u9fff]")
    assert all(cjk.search(c["source"]["text"]) for c in sets["zh"])
    assert not any(cjk.search(c["source"]["text"]) for c in sets["en"])


@pytest.mark.parametrize("lang", LANGS)
def test_cases_validate(sets, lang):
    for c in sets[lang]:
        assert c["tag"] == "outside" and c["cwd"] in ("/", "/data")
        validate_plan(c["expect"])


def test_no_phrase_or_request_of_the_frozen_set(sets):
    """The dev set may be tuned on; the man-page set may not, so they share no wording."""
    frozen = load(os.path.join(EVAL, "manpages", "phrases.jsonl"))
    frozen_text = {(p["lang"], p["text"].rstrip(".。").lower()) for p in frozen}
    frozen_requests = {c["request"] for lang in LANGS
                       for c in load(os.path.join(EVAL, "manpages", f"heldout_{lang}.jsonl"))}
    for lang in LANGS:
        for c in sets[lang]:
            assert (lang, c["source"]["phrase"].lower()) not in frozen_text, c["request"]
            assert c["request"] not in frozen_requests, c["request"]


def test_every_case_comes_from_a_recorded_phrase(sets):
    phrases = {(p["lang"], p["command"], p["key"]): p for p in load(os.path.join(HERE, "phrases.jsonl"))}
    for lang in LANGS:
        for c in sets[lang]:
            s = c["source"]
            assert phrases[(lang, s["command"], s["key"])]["text"] == s["text"]


def test_build_reproduces_the_committed_files():
    spec = importlib.util.spec_from_file_location("outside_build", os.path.join(HERE, "build.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    built = mod.build(load(os.path.join(HERE, "phrases.jsonl")), mod.RULES, mod.SEED, tag="outside")
    for lang in LANGS:
        with open(os.path.join(HERE, f"dev_{lang}.jsonl"), encoding="utf-8") as f:
            assert "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in built[lang]) == f.read(), lang
