"""Integrity of the frozen man-page held-out set (tests/eval/manpages). No accuracy is asserted here."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re

import pytest

from llmos_init.tools.registry import validate_plan

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "manpages")
LANGS = ("en", "zh")
PATH_ARGS = {"path", "src", "dst", "target", "device"}


def load(name: str) -> list[dict]:
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def sets() -> dict[str, list[dict]]:
    return {lang: load(f"heldout_{lang}.jsonl") for lang in LANGS}


def test_both_languages_present(sets):
    for lang in LANGS:
        assert len(sets[lang]) >= 100, lang
    cjk = re.compile(r"[\u3400-\u9fff]")
    assert sum(bool(cjk.search(c["request"])) for c in sets["zh"]) > 0.9 * len(sets["zh"])
    assert all(not cjk.search(c["source"]["text"]) for c in sets["en"])


@pytest.mark.parametrize("lang", LANGS)
def test_cases_validate_with_absolute_paths(sets, lang):
    for c in sets[lang]:
        assert c["tag"] == "manpage"
        assert c["cwd"] in ("/", "/data")
        plan = validate_plan(c["expect"])
        for action in plan:
            for k, v in action["args"].items():
                if k in PATH_ARGS:
                    assert isinstance(v, str) and v.startswith("/"), (c["request"], k, v)
                    assert os.path.normpath(v) == v and "~" not in v, (c["request"], v)


@pytest.mark.parametrize("lang", LANGS)
def test_no_duplicate_requests(sets, lang):
    requests = [c["request"] for c in sets[lang]]
    assert len(requests) == len(set(requests))


def test_every_case_comes_from_a_recorded_phrase(sets):
    phrases = {(p["lang"], p["command"], p["key"]): p for p in load("phrases.jsonl")}
    for lang in LANGS:
        for c in sets[lang]:
            s = c["source"]
            p = phrases[(lang, s["command"], s["key"])]
            assert p["text"] == s["text"] and p["package"] == s["package"] and p["version"] == s["version"]


def test_readme_sha256_matches_files():
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for lang in LANGS:
        name = f"heldout_{lang}.jsonl"
        with open(os.path.join(HERE, name), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        assert re.search(rf"\b{digest}\s+{re.escape(name)}\b", readme), f"README's sha256 for {name} is stale"


def test_build_reproduces_the_committed_files():
    """The cases are a function of phrases.jsonl and build.py's fixed table, forms and values."""
    spec = importlib.util.spec_from_file_location("manpage_build", os.path.join(HERE, "build.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    built = mod.build(load("phrases.jsonl"))
    for lang in LANGS:
        with open(os.path.join(HERE, f"heldout_{lang}.jsonl"), encoding="utf-8") as f:
            committed = f.read()
        assert "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in built[lang]) == committed, lang
