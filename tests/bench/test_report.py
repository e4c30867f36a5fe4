import pytest

from bench import report
from bench.__main__ import parse_args


def test_formatters():
    assert report.fmt_seconds(None) == "—"
    assert report.fmt_seconds(0.0423) == "42 ms"
    assert report.fmt_seconds(7.7071) == "7.71 s"
    assert report.fmt_seconds(612.4) == "612 s"
    assert report.fmt_bytes(2855936) == "2.7 MiB"
    assert report.fmt_bytes(3 << 30) == "3.00 GiB"
    assert report.fmt_ratio(2.345) == "2.35×"
    assert report.fmt_share(0.42) == "42 %"
    assert report.fmt_rate(812.4) == "812 t/s" and report.fmt_rate(61.04) == "61.0 t/s"


def test_table_shape_and_escaping():
    t = report.table(["a", "b"], [["x|y", "1"]])
    assert t.splitlines() == ["| a | b |", "| :--- | ---: |", "| x\\|y | 1 |"]
    with pytest.raises(ValueError):
        report.table(["a", "b"], [["only one"]])


def test_markdown_of_partial_results():
    results = {
        "machine": {"cpu": "AMD EPYC", "cores": 2, "usable_cores": 2, "load_start": [1, 2, 3],
                    "load_end": [2, 2, 2], "elapsed_s": 600, "command": "python -m bench"},
        "boot": {"mem_mb": 512,
                 "llmos": {"to_prompt": {"n": 3, "median": 20.0}, "to_model_ready": {"n": 1, "median": 600.0}},
                 "baseline": {"to_prompt": {"n": 3, "median": 8.0}},
                 "ratio": {"to_prompt": 2.5}},
        "errors": ["inference: RuntimeError: boom"],
    }
    md = report.markdown(results)
    assert "| **QEMU start → console prompt** | 20.00 s | 8.00 s | 2.50× |" in md
    assert "| **QEMU start → model ready** | 600 s | no model | — |" in md
    assert "AMD EPYC" in md and "inference: RuntimeError: boom" in md
    assert "## Inference" not in md  # a section that did not run is left out


def test_args_quick_defaults_and_validation():
    ns = parse_args(["--quick"])
    assert ns.boots == 1 and ns.n_prompt == 32 and ns.mem_candidates == [64, 512]
    assert ns.model_mem_candidates == [128, 512]
    assert parse_args([]).mem_candidates[0] == 32
    assert ns.threads[0] == 1
    ns = parse_args(["--only", "boot,footprint", "--mem-candidates", "256,128"])
    assert ns.only == ["boot", "footprint"] and ns.mem_candidates == [128, 256] and ns.boots == 3
    with pytest.raises(SystemExit):
        parse_args(["--only", "speed"])
    with pytest.raises(SystemExit):
        parse_args(["--boots", "0"])


def test_inference_table_per_thread_count():
    row = {"ours": {"n_prompt": 128, "n_gen": 32, "pp": {"median": 45.0}, "tg": {"median": 26.0}},
           "llama_bench": {"pp": {"median": 50.0}, "tg": {"median": 20.0}},
           "compare": {"pp_ratio": 0.9, "tg_ratio": 1.3, "ours_bandwidth_share": 0.21,
                       "llama_bench_bandwidth_share": 0.16}}
    inf = {"host": {"model_file": "m.gguf", "model_bytes": 100 << 20, "errors": [],
                    "bandwidth": {"1": 10e9, "best": 10e9}, "by_threads": {"1": row}},
           "guest": {"skipped": "no shell"}}
    md = report.inference_section(inf)
    assert "| pp128 | 1 | 45.0 t/s | 50.0 t/s | 0.90× | — | — |" in md
    assert "| tg32 | 1 | 26.0 t/s | 20.0 t/s | 1.30× | 21 % | 16 % |" in md
    assert "In the guest: not measured (no shell)" in md


def test_boot_table_when_the_model_never_got_ready():
    b = {"mem_mb": 512, "llmos": {"to_prompt": {"n": 1, "median": 20.0}, "to_model_ready": {"n": 0}},
         "baseline": {"to_prompt": {"n": 1, "median": 8.0}}, "ratio": {},
         "ready_boots": 1, "ready_timeouts": 1, "ready_timeout_s": 900}
    md = report.boot_section(b)
    assert "| console prompt → model ready | not within 900 s of the prompt | no model | — |" in md


def test_merge_replaces_only_the_rerun_sections():
    from bench.__main__ import merge
    old = {"machine": {"date": "d1"}, "boot": {"x": 1}, "inference": {"old": True},
           "errors": ["inference/llama-bench (2 threads): boom", "guest: slow"]}
    new = {"machine": {"date": "d2", "command": "python -m bench --only inference"},
           "inference": {"new": True}, "errors": []}
    m = merge(old, new, ["inference"])
    assert m["boot"] == {"x": 1} and m["inference"] == {"new": True}
    assert m["machine"]["date"] == "d1" and m["merged"][0]["machine"]["date"] == "d2"
    assert m["errors"] == ["guest: slow"]
    assert "Sections measured in a later run" in report.markdown(m)


def test_merge_keeps_inference_of_other_thread_counts():
    from bench.__main__ import merge
    old = {"inference": {"host": {"by_threads": {"1": "old1", "2": "old2"}}}}
    new = {"inference": {"host": {"by_threads": {"1": "new1"}}}}
    m = merge(old, new, ["inference"])
    assert m["inference"]["host"]["by_threads"] == {"1": "new1", "2": "old2"}


def test_smallest_memory_at_the_bottom_of_the_range_is_an_upper_bound():
    fp = {"sizes": {}, "min_mem": {"smallest_mb": 128, "tried": {"128": True, "512": True},
                                   "criterion": "c"}}
    assert "≤ 128 MiB (the smallest tried)" in report.footprint_section(fp)
    fp["min_mem"] = {"smallest_mb": 256, "tried": {"128": False, "256": True}, "criterion": "c"}
    assert "| 256 MiB |" in report.footprint_section(fp)
    fp["min_mem_model"] = {"smallest_mb": 128, "tried": {"96": False, "128": True}, "criterion": "m"}
    md = report.footprint_section(fp)
    assert "| smallest guest -m that gets the model ready (m) | 128 MiB |" in md
    assert '-m tried (MiB) for "gets the model ready": 96: fails, 128: ok.' in md


def test_guest_inference_table():
    guest = {"settings": {"n_prompt": 16, "n_gen": 4, "reps": 2, "threads": 1, "mem_mb": 512},
             "ours": {"pp": {"median": 0.19}, "tg": {"median": 0.185}},
             "llama_bench": {"pp": {"median": 0.175}, "tg": {"median": 0.135}},
             "host_same_settings": {"pp": {"median": 120.0}, "tg": {"median": 86.0}},
             "compare": {"pp_ratio": 0.19 / 0.175, "tg_ratio": 0.185 / 0.135,
                         "guest_over_host_pp_ratio": 0.19 / 120, "guest_over_host_tg_ratio": 0.185 / 86},
             "errors": []}
    md = report.guest_inference_section(guest)
    assert "`llmos.bench=pp16,tg4,r2,t1`" in md
    assert "| pp16 | 1 | 0.19 t/s | 0.175 t/s | 1.09× | 120 t/s | 1/632 |" in md
    assert "| tg4 | 1 | 0.185 t/s | 0.135 t/s | 1.37× | 86.0 t/s | 1/465 |" in md
    assert "copy bandwidth" not in md
    guest["ours"]["raw"] = {"copy_bandwidth": 2 << 30, "tg_bandwidth_share": 0.009}
    assert "copy bandwidth (numpy, 32 MiB) 2.00 GiB/s: generation reaches 1 % of the limit" in \
        report.guest_inference_section(guest)
    guest["ours_default_cpu"] = {"pp": {"median": 0.9}, "tg": {"median": 0.7},
                                 "raw": {"ggml": "portable (this CPU lacks avx2)"}}
    guest["compare"].update({"default_cpu_over_avx2_pp_ratio": 0.9 / 0.19,
                             "default_cpu_over_avx2_tg_ratio": 0.7 / 0.185})
    assert ("SSE-only ggml backend (portable (this CPU lacks avx2)): pp16 0.9 t/s, tg4 0.7 t/s, "
            "4.74× and 3.78× the AVX2 figures above.") in report.guest_inference_section(guest)
    guest["errors"] = ["llama-bench: no result"]
    assert "In the guest, not measured: llama-bench: no result" in report.guest_inference_section(guest)
    assert report.guest_inference_section({}) == "In the guest: not measured."


def test_guest_serial_output_parsing():
    from bench import guest_inference as gi
    from bench.llamabench import parse_json
    serial = ("baseline# /usr/bin/llama-bench -m /model/m.gguf -o json 2>/dev/null; "
              "echo llama-bench-exit=$?\r\n[\r\n  {\"n_threads\": 1, \"n_prompt\": 8, \"n_gen\": 0,"
              " \"avg_ts\": 0.17, \"stddev_ts\": 0, \"samples_ts\": [0.17], \"model_size\": 9}\r\n]\r\n")
    rows = parse_json(gi._json_part(serial))
    assert [r.test for r in rows] == ["pp8"] and rows[0].avg_ts == 0.17
    m = gi.RESULT_RE.search('noise\r\nllmos-bench: {"pp": {"median": 1}}\r\r\nllmos:/data> ')
    assert m and m.group(1) == '{"pp": {"median": 1}}'
    assert gi.spec(16, 4, 2, 1) == "pp16,tg4,r2,t1"
