"""tests/eval/rule_sections.py switches one section of the English rules off in a copy."""
from __future__ import annotations

import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("rule_sections", os.path.join(HERE, "rule_sections.py"))
RS = importlib.util.module_from_spec(spec)
spec.loader.exec_module(RS)
PARSER = os.path.join(os.path.dirname(HERE), "..", "llmos_init", "planner", "parser.py")


def source() -> str:
    with open(PARSER) as f:
        return f.read()


def test_every_section_of_the_english_rules_is_found():
    names = [n for n, _, _ in RS.sections(source())]
    assert "remove" in names and "move / copy" in names and "show / read / list" in names
    for retired in ("priority", "programs", "network links", "hostname", "mount / unmount", "change directory"):
        assert retired not in names          # retired: templates carry it
    assert len(names) == len(set(names))


def _module(text: str):
    import sys
    import types
    name = "llmos_init.planner._parser_probe"
    mod = types.ModuleType(name)
    mod.__package__ = "llmos_init.planner"
    sys.modules[name] = mod           # dataclasses look their module up
    try:
        exec(compile(text, "parser_probe.py", "exec"), mod.__dict__)
    finally:
        del sys.modules[name]
    return mod


def test_a_section_switched_off_still_compiles_and_no_longer_answers():
    src = source()
    name, first, end = next(s for s in RS.sections(src) if s[0] == "file information")
    on, off = _module(src), _module(RS.without(src, first, end))
    request = "how big is notes.txt"
    assert on.parse_english(request, on.Context(cwd="/data")) == [{"tool": "file_info", "args": {"path": "/data/notes.txt"}}]
    got = off.parse_english(request, off.Context(cwd="/data"))
    assert not got or got[0]["tool"] != "file_info"
