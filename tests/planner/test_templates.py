"""The sentence templates (llmos_init/planner/sentences) against their tests, kept as data
in tests/planner/sentences/<language>/<tool>.yaml, the way Home Assistant's intents keep
theirs: every sentence listed must plan exactly what its test says, or (plan: null) match
no template at all."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from llmos_init.planner import templates as T
from llmos_init.planner.parser import Context
from llmos_init.tools.registry import TOOLS

HERE = Path(__file__).with_name("sentences")
# tools no template plans: the parser's and the console's own replies
# clarify: templated only where a language has a question to ask as data (en: a clock
# set to nothing), never required
OPTIONAL = {"clarify"}


def _cases():
    for f in sorted(HERE.glob("*/*.yaml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        for t in doc["tests"]:
            for s in t["sentences"]:
                yield pytest.param(s, t.get("cwd", "/data"), t.get("after", []), t["plan"],
                                   id=f"{f.parent.name}/{f.stem}: {s}")


@pytest.mark.parametrize("sentence,cwd,after,plan", list(_cases()))
def test_sentence(sentence, cwd, after, plan):
    """`after`: the actions earlier in the conversation ("take it down" after a link_up)."""
    assert T.match(sentence, Context(cwd=cwd, actions=list(after))) == plan


@pytest.mark.parametrize("lang", T.languages())
def test_every_tool_has_sentences_and_tests(lang):
    files = {f.stem for f in (T.SENTENCES / lang).glob("*.yaml")} - {"_common"}
    assert files - OPTIONAL == (set(TOOLS) - OPTIONAL - {"read_file", "list_dir"}) | {"read_file", "list_dir", T.SHOW}
    tests = {f.stem for f in (HERE / lang).glob("*.yaml")}
    assert tests == files, "each sentence file has its test file"


@pytest.mark.parametrize("lang", T.languages())
def test_intents_are_tools_named_after_their_file(lang):
    for f in (T.SENTENCES / lang).glob("*.yaml"):
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        assert doc["language"] == lang
        if f.stem == "_common":
            assert "intents" not in doc
            continue
        assert list(doc["intents"]) == [f.stem]
        assert f.stem in TOOLS or f.stem == T.SHOW


def test_languages_are_english_and_chinese():
    assert {"en", "zh"} <= set(T.languages())
    assert T.language("删除 notes.txt") == "zh" and T.language("delete notes.txt") == "en"


@pytest.mark.parametrize("word", sorted(T.GENERIC))
def test_a_generic_word_is_never_a_name(word):
    lang = T.language(word)
    req = f"删除{word}" if lang == "zh" else f"delete {word}"
    got = T.match(req, Context(cwd="/data"))
    assert got is None or all(a["args"].get("path") != f"/data/{word}" for a in got)


def test_ambiguous_readings_of_two_tools_are_no_match(monkeypatch):
    class Intent:
        def __init__(self, name):
            self.name = name

    class Result:
        def __init__(self, tool, value):
            self.intent = Intent(tool)
            e = type("E", (), {"value": value, "text": value, "is_wildcard": True, "text_span": (7, 7 + len(value))})
            self.entities = {"path": e}
    import hassil
    monkeypatch.setattr(hassil, "recognize_all", lambda text, intents: [Result("remove", "a.txt"), Result("read_file", "a.txt")])
    assert T.match("delete a.txt", Context(cwd="/data")) is None


def test_slot_values_keep_the_requests_spelling():
    got = T.match("write 'Ünïcode; rm -rf / && $(x)' to Notes.TXT", Context(cwd="/data"))
    assert got == [{"tool": "write_file", "args": {"path": "/data/Notes.TXT", "text": "Ünïcode; rm -rf / && $(x)"}}]


def test_long_or_empty_requests_match_nothing():
    assert T.match("", Context(cwd="/data")) is None
    assert T.match("delete " + "a" * 1000 + ".txt", Context(cwd="/data")) is None


def test_templates_use_hassil_syntax_not_regex():
    """'(a|b)?' is a regex habit; hassil reads the '?' as a word. Optional is '[(a|b)]'."""
    import re
    for f in T.sentence_files():
        assert not re.search(r"\)\?", f.read_text(encoding="utf-8")), f
