"""Tests that need the real model; skipped with a reason when it or llama_cpp is missing."""
import json
import os

import pytest

from llmos_init.planner.models import find_model

llama_cpp = pytest.importorskip("llama_cpp", reason="llama_cpp is not installed")
MODEL = find_model()
pytestmark = pytest.mark.skipif(not MODEL, reason="no GGUF model found ($LLMOS_MODEL, /model, ~/.cache/llmos/model)")


@pytest.fixture(scope="module")
def planner():
    """The model alone: tool choice by likelihood (the path when no adapter is usable)."""
    from llmos_init.planner import Planner
    p = Planner(model_path=MODEL)
    before = os.environ.get("LLMOS_ADAPTER")
    os.environ["LLMOS_ADAPTER"] = "none"
    try:
        status = p.load()
    finally:
        if before is None:
            del os.environ["LLMOS_ADAPTER"]
        else:
            os.environ["LLMOS_ADAPTER"] = before
    if status != "ready":
        pytest.skip(f"model not usable: {status}")
    return p


def test_prefix_cached_and_best_first_equals_full_walk(planner):
    rt = planner.runtime
    assert rt.n_prefix > 100
    tools = ["list_processes", "list_dir", "list_devices", "read_file", "reboot", "remove"]
    for req in ("show me the running programs", "blorp the frobnicator"):
        s = rt.score_tools(req, tools)
        assert set(s) == set(tools) and all(v <= 0 for v in s.values())
        assert rt.llm.n_tokens > rt.n_prefix  # the request was evaluated after the cached prefix
        best, score = rt.best_tool(req, tools)
        assert best == max(s, key=s.get) and score == pytest.approx(s[best], abs=1e-4)


def test_model_path_is_safe_and_valid(planner):
    from llmos_init.tools.registry import DESTRUCTIVE, validate_plan
    for req in ["peek at the hosts file in /etc", "which programs are running?", "blorp the frobnicator"]:
        plan = validate_plan(planner.plan(req, "/"))
        assert not {a["tool"] for a in plan} & DESTRUCTIVE


def test_stream_answer_then_planning_still_works(planner):
    rt = planner.runtime
    before = rt.best_tool("show me the running programs", list(rt.tool_tokens))
    text = "".join(planner.stream_answer("say hello"))
    assert text.strip()
    assert planner.plan("ls /tmp", "/") == [{"tool": "list_dir", "args": {"path": "/tmp"}}]
    after = rt.best_tool("show me the running programs", list(rt.tool_tokens))
    assert after[0] == before[0] and after[1] == pytest.approx(before[1], abs=1e-3)  # prefix restored


def test_prefix_state_file_round_trip_and_mismatch(planner, tmp_path):
    from llmos_init.planner.runtime import ModelRuntime, build_prefix_state, state_paths
    model = tmp_path / os.path.basename(MODEL)
    model.symlink_to(os.path.abspath(MODEL))
    files = build_prefix_state(str(model), str(tmp_path))
    state, meta = state_paths(str(model))
    assert sorted(files) == sorted([state, meta])
    m = json.load(open(meta))
    assert m["llama_cpp_python"] == llama_cpp.__version__ and len(m["model_sha256"]) == 64
    assert m["n_prefix"] == planner.runtime.n_prefix

    req, tools = "how much memory is free", list(planner.runtime.tool_tokens)
    want = planner.runtime.best_tool(req, tools)
    rt = ModelRuntime(str(model))
    rt.load()
    try:
        assert rt.prefix_source == "state file" and rt.n_prefix == m["n_prefix"]
        got = rt.best_tool(req, tools)
        assert got[0] == want[0] and got[1] == pytest.approx(want[1], abs=0.05)
    finally:
        rt.close()

    m["llama_cpp_python"] = "0.0.0"  # a state from another build is not used
    json.dump(m, open(meta, "w"))
    rt = ModelRuntime(str(model))
    rt.load()
    try:
        assert rt.prefix_source.startswith("computed (state file does not fit: llama_cpp_python")
        assert rt.best_tool(req, tools)[0] == want[0]
    finally:
        rt.close()

    json.dump(json.load(open(meta)) | {"llama_cpp_python": llama_cpp.__version__}, open(meta, "w"))
    with open(state, "r+b") as f:  # a damaged state file is refused by llama.cpp
        f.truncate(1000)
    rt = ModelRuntime(str(model))
    rt.load()
    try:
        assert rt.prefix_source.startswith("computed (")
        assert rt.best_tool(req, tools)[0] == want[0]
    finally:
        rt.close()
