"""bench/rpc.py's report section and its place among the sections, without a guest."""
from __future__ import annotations

from bench import report
from bench.__main__ import SECTION_KEYS, parse_args


def test_rpc_is_a_section_of_its_own():
    assert parse_args(["--only", "rpc"]).only == ["rpc"]
    assert SECTION_KEYS["rpc"] == ("rpc",)


def test_the_rpc_section_shows_both_runs_and_the_ratio():
    res = {"settings": {"n_prompt": 16, "n_gen": 4, "reps": 2, "threads": 1, "mem_mb": 512,
                        "worker_threads": 1},
           "worker_command": ["ggml-rpc-server", "-H", "127.0.0.1", "-p", "5", "-t", "1"],
           "local": {"pp": {"median": 4.0}, "tg": {"median": 1.0}, "load_s": 12.0},
           "rpc": {"pp": {"median": 20.0}, "tg": {"median": 8.0}, "load_s": 9.0},
           "worker": {"rss_kib_before": 5000, "rss_kib_peak": 120000, "cpu_s": 1.5, "clients": 2},
           "compare": {"pp_rpc_over_local": 5.0, "tg_rpc_over_local": 8.0}}
    text = report.markdown({"rpc": res})
    assert "## llama.cpp RPC" in text and "ggml-rpc-server -H 127.0.0.1" in text
    assert "| RPC / local |" in text and "8.0" in text
    assert "112.3 MiB" in text     # the worker's memory growth
