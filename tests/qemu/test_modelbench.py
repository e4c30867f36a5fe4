"""The modelbench service in the guest: `llmos.bench=...` on the kernel command line makes
the image measure its model's pp/tg tokens/s through the planner's runtime at boot, print
the result on the serial console and keep it on /data (what `make bench` reads for the
guest's inference figures, and what a user gets on a board). That the service stays off
without the parameter is checked on test_boot's guest."""
from __future__ import annotations

import json
import re

import pytest

from llmos_init.modelbench import RESULT_TAG
from qemu_harness import TARGET, scaled

RESULT = re.compile(re.escape(RESULT_TAG) + r" (\{.*\})\r*\n")


def test_modelbench_runs_when_asked_and_keeps_its_result(guest_factory, data_disk):
    # the smallest measurement: under TCG a token costs seconds
    g = guest_factory(data_disk, append="llmos.bench=pp2,tg1,r1,t1")
    g.boot()
    if not RESULT.search(g.log_text()):
        g.expect(RESULT, scaled(600))
    res = json.loads(RESULT.search(g.log_text()).group(1))
    assert "error" not in res, res
    assert (res["n_prompt"], res["n_gen"], res["reps"], res["threads"]) == (2, 1, 1, 1)
    assert res["pp"]["median"] > 0 and res["tg"]["median"] > 0
    assert res["model"].endswith(".gguf")
    # x86_64's TCG CPU has no AVX (mkimage.image.QEMU): the portable backend
    assert res["ggml"].startswith("portable (this CPU lacks avx2, fma, f16c)") or TARGET != "x86_64", \
        res["ggml"]
    log = g.log_text()
    assert "service modelbench: started" in log and "model benchmark: " in log
    g.expect(r"service modelbench: pid \d+ ended \(exit code 0\)", scaled(60))
    saved = g.ask("show /data/log/modelbench.json", timeout=scaled(120))
    assert '"n_prompt": 2' in saved and '"tg"' in saved
    # the console is still there and answers
    assert "/data:" in g.ask("ls", timeout=scaled(120))


@pytest.mark.skipif(TARGET != "x86_64", reason="x86_64's AVX2 backend")
def test_an_avx2_cpu_runs_the_model_on_the_wheels_backend(guest_factory, data_disk):
    """-cpu max (AVX2 under TCG): the wheel's own AVX2 backend, nothing preloaded."""
    g = guest_factory(data_disk, append="llmos.bench=pp2,tg1,r1,t1", env={"CPU": "max"})
    g.boot()
    if not RESULT.search(g.log_text()):
        g.expect(RESULT, scaled(600))
    res = json.loads(RESULT.search(g.log_text()).group(1))
    assert "error" not in res, res
    assert res["ggml"] == "native (avx2, fma, f16c)", res["ggml"]
    assert res["pp"]["median"] > 0 and res["tg"]["median"] > 0
    print(f"\nAVX2 backend under TCG: pp2 {res['pp']['median']:.2f} t/s, "
          f"tg1 {res['tg']['median']:.2f} t/s")
