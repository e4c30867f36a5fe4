"""llmos_init.modelbench: the spec on the kernel command line, the result lines, and a real
measurement when the model is at hand."""
from __future__ import annotations

import json

import pytest

from llmos_init import modelbench
from llmos_init.modelbench import Settings, parse_spec
from llmos_init.planner.models import find_model


@pytest.mark.parametrize("text", [None, "", "1", "on", "default"])
def test_defaults(text):
    assert parse_spec(text) == Settings()


def test_spec_fields_any_order():
    assert parse_spec("tg16,pp64,t2,r3") == Settings(n_prompt=64, n_gen=16, reps=3, threads=2)
    assert parse_spec("pp4") == Settings(n_prompt=4, n_gen=8, reps=2, threads=None)


@pytest.mark.parametrize("text,needle", [("pp", "is not one of"), ("x5", "is not one of"),
                                         ("pp0", "at least 1"), ("pp300,tg200", "exceed"),
                                         ("pp8;rm -rf /", "is not one of")])
def test_bad_spec_is_explained(text, needle):
    with pytest.raises(ValueError, match=needle):
        parse_spec(text)


def test_cmdline_spec(tmp_path):
    p = tmp_path / "cmdline"
    p.write_text("console=ttyS0 llmos.bench=pp8,tg2 quiet\n")
    assert modelbench.cmdline_spec(str(p)) == "pp8,tg2"
    p.write_text("console=ttyS0 llmos.bench\n")
    assert modelbench.cmdline_spec(str(p)) == ""
    p.write_text("console=ttyS0\n")
    assert modelbench.cmdline_spec(str(p)) is None
    assert modelbench.cmdline_spec(str(tmp_path / "missing")) is None


def test_error_is_reported_not_raised(tmp_path, capsys):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\xff" * 4096)
    out = tmp_path / "res.json"
    assert modelbench.main(["--model", str(bad), "--spec", "pp2,tg1,r1", "--save", str(out)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].startswith("model benchmark: failed: ")
    tag, _, payload = lines[-1].partition(" ")
    assert tag == modelbench.RESULT_TAG and "error" in json.loads(payload)
    assert "error" in json.loads(out.read_text())        # saved too


def test_bad_spec_exit_code(capsys):
    assert modelbench.main(["--spec", "pp-1"]) == 1
    assert "is not one of" in capsys.readouterr().out


def test_save_into_a_missing_directory_is_reported(tmp_path):
    assert "does not exist" in modelbench.save({"x": 1}, str(tmp_path / "no" / "r.json"))


MODEL = find_model()


@pytest.mark.skipif(not MODEL, reason="no GGUF model found")
def test_real_measurement(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert modelbench.main(["--model", MODEL, "--spec", "pp8,tg3,r2,t1", "--save", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["n_prompt"] == 8 and res["n_gen"] == 3 and res["threads"] == 1
    assert res["pp"]["n"] == 2 and len(res["pp"]["samples"]) == 2     # warm-up dropped
    assert all(x > 0 for x in res["pp"]["samples"] + res["tg"]["samples"])
    assert res["model_bytes"] > 1 << 20
    line = capsys.readouterr().out.splitlines()[-1]
    assert json.loads(line.partition(" ")[2])["tg"] == res["tg"]
