"""The documentation-register forms of the corpus (mkimage/train/docstyle.py): they parse as
hassil sentences, their English verb forms are real words, the corpus draws DOC_SHARE of its
steps from them (none at 0) and holds some of them out of training by template."""
from __future__ import annotations

import pytest
from hassil.parse_expression import parse_sentence

from llmos_init.planner import templates
from mkimage.train import corpus, docstyle


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_form_parses_and_names_a_tool(lang):
    forms = docstyle.sentences(lang)
    assert set(forms) <= set(templates.TOOLS)
    for tool, rows in forms.items():
        for texts, fixed in rows:
            assert texts
            for t in texts:
                parse_sentence(t)
    for text in docstyle.RULES[lang].values():
        parse_sentence(text)


@pytest.mark.parametrize("verb, want", [
    ("print", ["print", "prints", "printing", "to print"]),
    ("copy", ["copy", "copies", "copying", "to copy"]),
    ("remove", ["remove", "removes", "removing", "to remove"]),
    ("bring up", ["bring up", "brings up", "bringing up", "to bring up"]),
    ("output", ["output", "outputs", "outputting", "to output"]),
    ("set", ["set", "sets", "setting", "to set"]),
    ("rm", ["rm"]),
])
def test_english_verb_forms(verb, want):
    assert docstyle.forms(verb) == want


def test_the_corpus_draws_its_share_of_documentation_forms(monkeypatch):
    rows = corpus.build(corpus.SEED, 1500, 200)
    doc = [r for r in rows["train"] if "/doc/" in r["template"]]
    assert 0.15 < len(doc) / len(rows["train"]) < 0.5
    assert {r["lang"] for r in doc} == {"en", "zh"}
    assert any("/doc/" in r["template"] for r in rows["val"])      # some held out by template
    monkeypatch.setattr(corpus, "DOC_SHARE", 0)
    none = corpus.build(corpus.SEED, 300, 20)
    assert not any("/doc/" in r["template"] for r in none["train"] + none["val"])
