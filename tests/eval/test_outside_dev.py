"""Integrity of the outside dev sets (tests/eval/outside, tests/eval/helptext): built from
outside wording, kept apart from the frozen man-page set. No accuracy is asserted here."""
from __future__ import annotations

import difflib
import importlib.util
import json
import os
import re

import pytest

from llmos_init.tools.registry import validate_plan

EVAL = os.path.dirname(os.path.abspath(__file__))
LANGS = ("en", "zh")
# set directory -> (tag, the least cases per language)
SETS = {"outside": ("outside", {"en": 150, "zh": 60}), "helptext": ("helptext", {"en": 60, "zh": 45})}


def load(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _cases(name: str) -> dict[str, list[dict]]:
    return {lang: load(os.path.join(EVAL, name, f"dev_{lang}.jsonl")) for lang in LANGS}


def _norm(text: str) -> str:
    return re.sub(r"\s*[.。]+$", "", text.strip()).lower()


@pytest.fixture(scope="module")
def frozen() -> list[dict]:
    return load(os.path.join(EVAL, "manpages", "phrases.jsonl"))


@pytest.mark.parametrize("name", SETS)
def test_sizes_and_languages(name):
    sets, (_, least) = _cases(name), SETS[name]
    assert all(len(sets[lang]) >= least[lang] for lang in LANGS)
    cjk = re.compile(r"[\u3400-\u9fff]")
    assert all(cjk.search(c["source"]["text"]) for c in sets["zh"])
    assert not any(cjk.search(c["source"]["text"]) for c in sets["en"])


@pytest.mark.parametrize("name", SETS)
def test_cases_validate(name):
    for lang, cases in _cases(name).items():
        for c in cases:
            assert c["tag"] == SETS[name][0] and c["cwd"] in ("/", "/data")
            validate_plan(c["expect"])


@pytest.mark.parametrize("name", SETS)
def test_no_phrase_or_request_of_the_frozen_set(name, frozen):
    """The dev sets may be tuned on; the man-page set may not, so they share no wording."""
    frozen_text = {(p["lang"], _norm(p["text"])) for p in frozen}
    frozen_requests = {c["request"] for lang in LANGS
                       for c in load(os.path.join(EVAL, "manpages", f"heldout_{lang}.jsonl"))}
    for lang, cases in _cases(name).items():
        for c in cases:
            assert (lang, c["source"]["phrase"].lower()) not in frozen_text, c["request"]
            assert c["request"] not in frozen_requests, c["request"]


def test_helptext_phrases_are_not_the_frozen_ones_reworded(frozen):
    """BusyBox's and the catalogues' wording is often the man pages' own ("List directory
    contents"): a phrase within build.SIMILAR of a frozen one is left out of the set."""
    spec = importlib.util.spec_from_file_location("helptext_build", os.path.join(EVAL, "helptext", "build.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    by_lang: dict[str, set[str]] = {}
    for p in frozen:
        by_lang.setdefault(p["lang"], set()).add(_norm(p["text"]))
    for lang, cases in _cases("helptext").items():
        for phrase in {c["source"]["phrase"] for c in cases}:
            near = max(by_lang[lang], key=lambda f: difflib.SequenceMatcher(None, _norm(phrase), f).ratio())
            ratio = difflib.SequenceMatcher(None, _norm(phrase), near).ratio()
            assert ratio < mod.SIMILAR, (phrase, near, ratio)


@pytest.mark.parametrize("name", SETS)
def test_every_case_comes_from_a_recorded_phrase(name):
    phrases = {(p["lang"], p["command"], p["key"]): p for p in load(os.path.join(EVAL, name, "phrases.jsonl"))}
    for lang, cases in _cases(name).items():
        for c in cases:
            s = c["source"]
            assert phrases[(lang, s["command"], s["key"])]["text"] == s["text"]


@pytest.mark.parametrize("name", SETS)
def test_build_reproduces_the_committed_files(name):
    here = os.path.join(EVAL, name)
    spec = importlib.util.spec_from_file_location(f"{name}_build", os.path.join(here, "build.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    built = mod.build(load(os.path.join(here, "phrases.jsonl")), mod.RULES, mod.SEED, tag=SETS[name][0])
    for lang in LANGS:
        with open(os.path.join(here, f"dev_{lang}.jsonl"), encoding="utf-8") as f:
            assert "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in built[lang]) == f.read(), lang
