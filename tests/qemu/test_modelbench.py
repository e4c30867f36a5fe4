"""The modelbench service in the guest: `llmos.bench=...` on the kernel command line makes
the image measure its model's pp/tg tokens/s through the planner's runtime at boot, print
the result on the serial console and keep it on /data (what `make bench` reads for the
guest's inference figures, and what a user gets on a board). That the service stays off
without the parameter is checked on test_boot's guest."""
from __future__ import annotations

import json
import re

from llmos_init.modelbench import RESULT_TAG
from tests.qemu.harness import scaled

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
    log = g.log_text()
    assert "service modelbench: started" in log and "model benchmark: " in log
    g.expect(r"service modelbench: pid \d+ ended \(exit code 0\)", scaled(60))
    saved = g.ask("show /data/log/modelbench.json", timeout=scaled(120))
    assert '"n_prompt": 2' in saved and '"tg"' in saved
    # the console is still there and answers
    assert "/data:" in g.ask("ls", timeout=scaled(120))

