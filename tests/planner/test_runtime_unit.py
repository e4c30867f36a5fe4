"""Runtime pieces that need no model: threads, prefix text, state metadata checks."""
import json

import pytest

from llmos_init.planner import runtime
from llmos_init.tools.registry import TOOLS


def test_default_threads(monkeypatch):
    monkeypatch.setenv("LLMOS_THREADS", "3")
    assert runtime.default_threads() == 3
    monkeypatch.setenv("LLMOS_THREADS", "zero")
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: {0, 1})
    assert runtime.default_threads() == 1
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: set(range(8)))
    assert runtime.default_threads() == 4


def test_prefix_styles_name_every_tool():
    for style in ("names", "summaries", "full"):
        text = runtime.prefix_text(style)
        assert all((f"- {t}" in text) == TOOLS[t].by_model for t in TOOLS) and text.endswith("\nRequest:")
    with pytest.raises(ValueError):
        runtime.prefix_text("nonsense")


def test_state_mismatch_names_the_field(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "_llama_version", lambda: "9.9.9")
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(range(256)) * 100)
    meta = runtime.expected_meta(str(model))
    assert runtime.state_mismatch(str(model), meta) is None
    assert "prefix_sha256" in runtime.state_mismatch(str(model), meta | {"prefix_sha256": "x"})
    model.write_bytes(b"GGUF" + bytes(range(256)) * 101)  # another model file
    assert "model_bytes" in runtime.state_mismatch(str(model), meta)
    assert runtime.model_fingerprint(str(model)) != meta["model_fingerprint"]


def test_missing_or_bad_meta_falls_back(tmp_path, monkeypatch):
    """_load_state_file explains why it did not use a state file, without llama.cpp."""
    pytest.importorskip("llama_cpp")
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    rt = runtime.ModelRuntime(str(model))
    assert rt._load_state_file() == "no state file"
    (tmp_path / "m.gguf.prefix-state.json").write_text("{not json")
    assert rt._load_state_file().startswith("unreadable m.gguf.prefix-state.json")
    (tmp_path / "m.gguf.prefix-state.json").write_text(json.dumps({"format": 0}))
    assert rt._load_state_file().startswith("state file does not fit: format")
