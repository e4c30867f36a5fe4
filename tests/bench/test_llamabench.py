import json

import pytest

from bench import llamabench
from mkimage.wheel import cmake_args

OUT = json.dumps([
    {"build_commit": "abc", "n_threads": 2, "n_prompt": 512, "n_gen": 0, "model_size": 94000000,
     "avg_ts": 812.5, "stddev_ts": 10.25, "samples_ts": [800.0, 825.0]},
    {"build_commit": "abc", "n_threads": 2, "n_prompt": 0, "n_gen": 128, "model_size": 94000000,
     "avg_ts": 61.0, "stddev_ts": 1.0, "samples_ts": [60.0, 62.0]},
])


def test_parse_json_rows():
    rows = llamabench.parse_json("build: warming up\n" + OUT)
    assert [r.test for r in rows] == ["pp512", "tg128"]
    assert rows[0].avg_ts == 812.5 and rows[0].samples_ts == [800.0, 825.0]
    assert rows[1].threads == 2 and rows[1].model_size == 94000000


def test_parse_json_without_output_is_an_error():
    with pytest.raises(ValueError):
        llamabench.parse_json("error: failed to load model")


def test_command_matches_the_runtime_settings(tmp_path):
    cmd = llamabench.command(tmp_path / "llama-bench", tmp_path / "m.gguf", 2, 512, 128, 5)
    s = " ".join(cmd)
    assert "-t 2" in s and "-p 512" in s and "-n 128" in s and "-r 5" in s
    assert "-b 512" in s and "-ub 512" in s and "-fa off" in s and cmd[-2:] == ["-o", "json"]


def test_configure_keeps_the_wheels_portable_flags():
    args = llamabench.configure_args("x86_64")
    wheel = cmake_args("x86_64")
    assert args[:len(wheel)] == wheel
    assert "-DGGML_NATIVE=OFF" in args and "-DLLAMA_BUILD_TOOLS=ON" in args
    # a later -D wins in CMake: tools are switched on after the wheel's OFF
    assert args.index("-DLLAMA_BUILD_TOOLS=ON") > args.index("-DLLAMA_BUILD_TOOLS=OFF")
    assert llamabench.build_key("x86_64") == llamabench.build_key("x86_64")
    assert llamabench.build_key("x86_64") != llamabench.build_key("aarch64")


def test_find_binary_skips_the_directory_of_the_same_name(tmp_path):
    (tmp_path / "tools" / "llama-bench").mkdir(parents=True)
    assert llamabench.find_binary(tmp_path) is None
    exe = tmp_path / "bin" / "llama-bench"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    assert llamabench.find_binary(tmp_path) is None  # not executable
    exe.chmod(0o755)
    assert llamabench.find_binary(tmp_path) == exe
