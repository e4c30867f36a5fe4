"""The adapter shipped in llmos_init/planner/adapters/ (make train): pinned, for the pinned
model, and planning requests worded unlike any template. The model tests skip with a
reason when the model or llama_cpp is missing (the pin tests never do)."""
from __future__ import annotations

import json
import os

import pytest

from llmos_init.planner import adapter as A
from llmos_init.planner.gguf import check_gguf
from llmos_init.planner.models import find_model
from llmos_init.planner.runtime import _file_sha256, model_fingerprint

SHIPPED = sorted(f for f in os.listdir(A.SHIPPED) if f.endswith(A.SUFFIX)) if os.path.isdir(A.SHIPPED) else []


def test_an_adapter_ships_with_its_pin():
    assert SHIPPED, "no trained adapter in llmos_init/planner/adapters/ (make train ships one)"
    for f in SHIPPED:
        path = os.path.join(A.SHIPPED, f)
        meta = json.load(open(A.meta_path(path), encoding="utf-8"))
        assert meta["sha256"] == _file_sha256(path)
        assert check_gguf(path)["metadata"]["adapter.type"] == "lora"
        assert meta["run"] and os.path.exists(os.path.join(A.SHIPPED, "..", "..", "..", meta["log"]))


MODEL = find_model()
needs_model = pytest.mark.skipif(not MODEL, reason="no GGUF model found ($LLMOS_MODEL, /model, ~/.cache/llmos/model)")


@needs_model
def test_it_belongs_to_the_pinned_model():
    assert A.find_adapter(MODEL), f"no shipped adapter names {os.path.basename(MODEL)} ({model_fingerprint(MODEL)})"
    A.check(A.find_adapter(MODEL), MODEL)


@pytest.fixture(scope="module")
def planner():
    pytest.importorskip("llama_cpp", reason="llama_cpp is not installed")
    if not MODEL:
        pytest.skip("no GGUF model found")
    from llmos_init.planner import Planner
    p = Planner(model_path=MODEL)
    if p.load() != "ready":
        pytest.skip(f"model not usable: {p.status}")
    assert p.translator is not None, p.adapter_status
    p.english_first = p.arbitrate = False   # the model's own reading, whatever the rules make of it
    return p


def test_the_model_scores_a_reading_as_it_decodes_one(planner):
    """answer_logprob of the model's own answer is what translate counted decoding it; a
    reading that does not fit the request is far less likely."""
    rt = planner.translator
    got = rt.translate("delete old.log", "/data")
    assert got == "rm old.log"
    own, n = rt.answer_logprob("delete old.log", "/data", got)
    assert n >= 2 and abs(own - rt.last_logprob) < 0.05, (own, rt.last_logprob)
    other, _ = rt.answer_logprob("delete old.log", "/data", "ls old.log")
    assert other < own - 4


# Requests of our own, worded so that no sentence template matches them (checked below):
# the model, not the templates, has to read them.
OWN = [
    ("could you pull up what's inside the music folder", [{"tool": "list_dir", "args": {"path": "/data/music"}}]),
    ("i'd like to see the text of todo.md", [{"tool": "read_file", "args": {"path": "/data/todo.md"}}]),
    ("get me a fresh directory named scratch", [{"tool": "make_dir", "args": {"path": "/data/scratch"}}]),
    ("what's eating my disk space", [{"tool": "disk_usage", "args": {}}]),
    ("which programs are alive right now", [{"tool": "list_processes", "args": {}}]),
    ("tell me the kernel version", [{"tool": "system_info", "args": {}}]),
    ("看一下 todo.md 写了些啥", [{"tool": "read_file", "args": {"path": "/data/todo.md"}}]),
    ("帮我弄一个叫 scratch 的新文件夹", [{"tool": "make_dir", "args": {"path": "/data/scratch"}}]),
    ("目前有哪些程序在跑", [{"tool": "list_processes", "args": {}}]),
    ("磁盘空间还够吗", [{"tool": "disk_usage", "args": {}}]),
]


def test_the_own_requests_are_not_template_sentences():
    from llmos_init.planner.parser import Context
    from llmos_init.planner.templates import match
    assert [r for r, _ in OWN if match(r, Context(cwd="/data"))] == []


def test_the_model_reads_what_no_template_does(planner):
    from llmos_init.tools.registry import DESTRUCTIVE
    right, unsafe = 0, []
    for req, want in OWN:
        got = planner.plan(req, "/data")
        assert planner.last_source == "model", req
        right += got == want
        unsafe += [a for a in got if a["tool"] in DESTRUCTIVE]
    assert unsafe == []
    assert right >= 8, f"{right}/10"


def test_chat_gets_words_not_a_tool(planner):
    plan = planner.plan("hello there, how are you today?", "/data")
    assert [a["tool"] for a in plan] in (["answer"], ["help"])


# The documentation form (planner/docform.py), worded here: the model's own answer leaves
# the value out ("ls /data") or is unusable ("mv /data a.txt old/a.txt"); it then chooses
# among whole commands that use the values, and a change it was not asked for is no choice.
DOC_FORM = [
    ("显示某个目录里有什么 照片", [{"tool": "list_dir", "args": {"path": "/data/照片"}}]),
    ("移动文件或目录到新位置 a.txt old/a.txt",
     [{"tool": "move", "args": {"src": "/data/a.txt", "dst": "/data/old/a.txt"}}]),
]


@pytest.mark.parametrize("request_, want", DOC_FORM)
def test_the_model_chooses_among_commands_with_the_values(planner, request_, want):
    from llmos_init.planner.parser import Context
    from llmos_init.planner.templates import match
    from llmos_init.planner.translation import translate
    assert match(request_, Context(cwd="/data")) is None
    own = translate(planner.translator, request_, Context(cwd="/data")).plan
    assert own != want                                  # the model's answer alone misses it
    assert planner.plan(request_, "/data") == want and planner.last_source == "model"


def test_the_documentation_form_never_picks_an_unasked_change(planner):
    from llmos_init.planner.guard import STATE_CHANGING
    for req in ("my boss says to look at this: old.log", "列出某位置的内容 相册", "what if I look at 42"):
        assert not [a for a in planner.plan(req, "/data") if a["tool"] in STATE_CHANGING], req


def test_a_description_with_clauses_is_one_command(planner):
    # its commas are the description's, not steps; two commands for it are a misreading
    plan = planner.plan("Open a file for reading, take its text, then close it again: todo.md", "/data")
    assert plan == [{"tool": "read_file", "args": {"path": "/data/todo.md"}}], plan
