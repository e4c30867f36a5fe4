"""Tests that need the real model; skipped with a reason when it or llama_cpp is missing."""
import pytest

from llmos_init.planner.models import find_model

llama_cpp = pytest.importorskip("llama_cpp", reason="llama_cpp is not installed")
MODEL = find_model()
pytestmark = pytest.mark.skipif(not MODEL, reason="no GGUF model found ($LLMOS_MODEL, /model, ~/.cache/llmos/model)")


@pytest.fixture(scope="module")
def planner():
    from llmos_init.planner import Planner
    p = Planner(model_path=MODEL)
    status = p.load()
    if status != "ready":
        pytest.skip(f"model not usable: {status}")
    return p


def test_prefix_cached_and_scores_all_tools(planner):
    rt = planner.runtime
    assert rt.n_prefix > 100
    s = rt.score_tools("show me the running programs", ["list_processes", "list_dir", "reboot"])
    assert set(s) == {"list_processes", "list_dir", "reboot"} and all(v <= 0 for v in s.values())
    assert rt.llm.n_tokens > rt.n_prefix  # the request was evaluated after the cached prefix


def test_model_path_is_safe_and_valid(planner):
    from llmos_init.tools.registry import DESTRUCTIVE, validate_plan
    for req in ["peek at the hosts file in /etc", "which programs are running?", "blorp the frobnicator"]:
        plan = validate_plan(planner.plan(req, "/"))
        assert not {a["tool"] for a in plan} & DESTRUCTIVE


def test_stream_answer_then_planning_still_works(planner):
    text = "".join(planner.stream_answer("say hello"))
    assert text.strip()
    assert planner.plan("ls /tmp", "/") == [{"tool": "list_dir", "args": {"path": "/tmp"}}]
