"""llama.cpp RPC in the guest: `llmos.rpc=10.0.2.2:PORT` loads the image's model with every
layer on a real rpc-server on the host's loopback (`make serve`'s build, `make rpc-worker`),
which the guest reaches through QEMU's user networking. The worker holds the weights (its
resident memory grows by them) and computes the guest's requests (its CPU time grows while
one is planned or a reply streams); then it is killed: the request that finds it gone is
planned by the rules, the console says what happened, stays the same process and loads
the model locally. One guest for the module (booting costs)."""
from __future__ import annotations

import re
import time

import pytest

from qemu_harness import scaled

READY = r"model: ready"


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    from bench.llamaserver import RpcWorker, free_port
    w = RpcWorker(free_port(), tmp_path_factory.mktemp("rpc") / "rpc-server.log")
    w.rss_before = w.rss_kib()
    yield w
    w.stop()


@pytest.fixture(scope="module")
def guest(image, tmp_path_factory, worker):
    from mkimage.image import make_data_image
    from qemu_harness import Guest
    wd = tmp_path_factory.mktemp("rpcguest")
    make_data_image(wd / "data.ext4", 64)
    g = Guest(wd, wd / "data.ext4", append=f"llmos.rpc=10.0.2.2:{worker.port}")
    g.boot()
    yield g
    g.kill()


def _until(guest, pattern: str, timeout: float) -> str:
    """Enter now and then until the serial log (since this call) matches `pattern`: the
    console prints what changed about the model before its next prompt."""
    start = len(guest.log_text())
    deadline = time.monotonic() + scaled(timeout)
    while True:
        text = guest.log_text()[start:]
        if re.search(pattern, text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"no {pattern!r} within {scaled(timeout):.0f} s:\n"
                                 f"{guest.log_tail()}")
        guest.ask("", timeout=scaled(60))
        time.sleep(3)


def test_the_model_loads_onto_the_worker_and_plans_with_it(guest, worker):
    t0 = time.monotonic()
    text = _until(guest, rf"the model runs on the RPC worker 10\.0\.2\.2:{worker.port}", 600)
    if not re.search(READY, text + guest.log_text()[-4000:]):
        _until(guest, READY, 300)
    print(f"\nmodel ready on the worker {time.monotonic() - t0:.1f} s after the prompt")
    grown = worker.rss_kib() - worker.rss_before
    assert grown > 60_000, (worker.rss_before, worker.rss_kib())   # the 92 MiB of weights
    assert worker.clients() >= 2, worker.text()          # the probe, then llama.cpp's
    cpu = worker.cpu_s()
    t0 = time.monotonic()
    out = guest.ask("show me what is in the folder log", timeout=scaled(240))
    took = time.monotonic() - t0
    assert "list_dir /data/log" in out and "pid1.log" in out, out
    used = worker.cpu_s() - cpu
    assert used > 0.02, (cpu, worker.cpu_s())            # the worker computed the plan
    print(f"plan with the worker: {took:.2f} s at the serial line; the worker's CPU "
          f"{used:.2f} s; its memory +{grown // 1024} MiB")
    cpu = worker.cpu_s()
    out = guest.ask("hello, how are you today", timeout=scaled(240))   # a reply, streamed
    assert re.search(r"[A-Za-z]{2,}.*[A-Za-z]{2,}", out.split("today", 1)[1]), out
    assert "failed" not in out and "error" not in out.lower(), out
    assert worker.cpu_s() - cpu > 0.02, (cpu, worker.cpu_s())     # computed there too


def test_a_worker_that_goes_away_leaves_a_working_console(guest, worker):
    before = guest.log_text()
    worker.stop()
    t0 = time.monotonic()
    out = guest.ask("show me what is in the folder log", timeout=scaled(240))
    took = time.monotonic() - t0
    assert "the model's RPC worker failed (it ended: Remote RPC server crashed or " \
           "returned malformed response); the model now loads locally" in out, out
    assert "list_dir /data/log" in out or "not sure" in out or "still loading" in out, out
    print(f"\nthe request that found the worker gone: {took:.2f} s at the serial line")
    _until(guest, READY, 600)
    out = guest.ask("show me what is in the folder log", timeout=scaled(240))
    assert "list_dir /data/log" in out and "pid1.log" in out, out
    assert "service console: pid" not in guest.log_text()[len(before):]   # never restarted
    out = guest.ask("ls /data/log", timeout=scaled(120))
    assert "pid1.log" in out
