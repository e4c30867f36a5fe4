"""llama.cpp RPC's effect on the guest's tokens/s: the image's modelbench service (pp and tg
through the planner's runtime, bench/guest_inference.run_ours) in two guests on run-qemu.sh's
default TCG CPU (the portable backend, what a guest runs): one local, one booted with
`llmos.rpc=10.0.2.2:PORT` and every layer on an rpc-server on this host's loopback
(`make rpc-worker`'s build, one thread), reached through QEMU's user networking. Beside
them: the worker's resident memory and CPU time (what it holds and computes), and the
model's load time each way (the weights cross the network once).
"""
from __future__ import annotations

from pathlib import Path

WORKER_THREADS = 1      # a 2-core host: one for the worker, one for QEMU's TCG


def measure(image_dir: Path, work: Path, n_prompt: int, n_gen: int, reps: int, threads: int = 1,
            mem: int = 512, timeout: float = 3600, log=print) -> dict:
    from . import guest_inference as gi
    from . import inference, llamaserver
    work.mkdir(parents=True, exist_ok=True)
    res: dict = {"settings": {"n_prompt": n_prompt, "n_gen": n_gen, "reps": reps,
                              "threads": threads, "mem_mb": mem, "cpu": "run-qemu.sh's default",
                              "worker_threads": WORKER_THREADS}, "errors": []}
    raw = gi.run_ours(image_dir, work / "local", n_prompt, n_gen, reps, threads, mem=mem,
                      timeout=timeout)
    res["local"] = {**inference.from_modelbench(raw), "load_s": raw.get("load_s"), "raw": raw}
    log(f"rpc: local (ggml {raw.get('ggml')}): pp{n_prompt} {res['local']['pp']['median']:.3f} "
        f"t/s, tg{n_gen} {res['local']['tg']['median']:.3f} t/s, load {raw.get('load_s', 0):.1f} s")
    port = llamaserver.free_port()
    with llamaserver.RpcWorker(port, work / "rpc-server.log", threads=WORKER_THREADS) as w:
        rss0, cpu0 = w.rss_kib(), w.cpu_s()
        res["worker_command"] = [Path(w.command[w.command.index("-H") - 1]).name,
                                 *w.command[w.command.index("-H"):]]
        raw = gi.run_ours(image_dir, work / "rpc", n_prompt, n_gen, reps, threads, mem=mem,
                          timeout=timeout, append_more=f"llmos.rpc=10.0.2.2:{port}")
        res["worker"] = {"rss_kib_before": rss0, "rss_kib_peak": w.peak_kib(),
                         "cpu_s": w.cpu_s() - cpu0, "clients": w.clients()}
    if not raw.get("rpc_workers"):
        raise RuntimeError(f"the guest did not use the worker: {raw.get('rpc_skipped')}")
    res["rpc"] = {**inference.from_modelbench(raw), "load_s": raw.get("load_s"), "raw": raw}
    log(f"rpc: every layer on the host's rpc-server: pp{n_prompt} {res['rpc']['pp']['median']:.3f} "
        f"t/s, tg{n_gen} {res['rpc']['tg']['median']:.3f} t/s, load {raw.get('load_s', 0):.1f} s")
    lp, rp = res["local"]["pp"]["median"], res["rpc"]["pp"]["median"]
    lt, rt = res["local"]["tg"]["median"], res["rpc"]["tg"]["median"]
    res["compare"] = {"pp_rpc_over_local": rp / lp if lp else None,
                      "tg_rpc_over_local": rt / lt if lt else None}
    return res
