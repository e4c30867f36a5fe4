"""Inference speed on the host: prompt processing (pp) and generation (tg) tokens/s of the
default model through our runtime (llmos_init.planner.runtime.ModelRuntime, i.e.
llama-cpp-python with the planner's settings), against llama.cpp's own llama-bench built
from the same vendored llama.cpp, with the same threads; and the share of the
memory-bandwidth limit (model bytes read per generated token x tokens/s, against a
measured copy bandwidth).
"""
from __future__ import annotations

from pathlib import Path

from .stats import ratio, summary

COPY_BYTES = 256 << 20


def copy_bandwidth(threads: int = 1, nbytes: int = COPY_BYTES, reps: int = 5) -> float:
    """Bytes per second of numpy copies (llmos_init.modelbench.copy_bandwidth, which the
    guest's modelbench runs too), here over a 256 MiB array."""
    from llmos_init.modelbench import copy_bandwidth as measure
    return measure(threads, nbytes, reps)


def bandwidth_share(model_bytes: int, tokens_per_s: float | None, bandwidth: float | None) -> float | None:
    """Fraction of the bandwidth limit reached: generating a token reads every weight once,
    so the limit is bandwidth / model_bytes tokens/s."""
    if tokens_per_s is None or not bandwidth:
        return None
    return model_bytes * tokens_per_s / bandwidth


def runtime_speed(model: Path, threads: int, n_prompt: int, n_gen: int, reps: int) -> dict:
    """pp and tg tokens/s through ModelRuntime's Llama (its n_ctx, batch, threads): the
    image's own `modelbench` measurement (llmos_init.modelbench), run on the host."""
    from llmos_init.modelbench import Settings, measure
    res = measure(str(model), Settings(n_prompt=n_prompt, n_gen=n_gen, reps=reps, threads=threads))
    return from_modelbench(res)


def from_modelbench(res: dict) -> dict:
    """A modelbench result (host, or the guest's `llmos-bench:` line) in this module's shape."""
    return {"load_s": res["load_s"], "pp": summary(res["pp"]["samples"]),
            "tg": summary(res["tg"]["samples"]), "n_prompt": res["n_prompt"],
            "n_gen": res["n_gen"], "threads": res["threads"]}


def llama_bench_speed(model: Path, threads: int, n_prompt: int, n_gen: int, reps: int) -> dict:
    from . import llamabench
    exe = llamabench.build()
    rows = llamabench.run(exe, model, threads, n_prompt, n_gen, reps)
    out = {"binary": str(exe), "threads": threads, "n_prompt": n_prompt, "n_gen": n_gen,
           "command": llamabench.command(exe, model, threads, n_prompt, n_gen, reps)}
    out.update(summarize_rows(rows))
    return out


def summarize_rows(rows) -> dict:
    """llama-bench rows (bench.llamabench.BenchRow) keyed "pp"/"tg": a summary of each
    row's samples with its mean and stddev, and the model size llama-bench counted."""
    out: dict = {}
    for r in rows:
        key = "pp" if r.n_gen == 0 else "tg" if r.n_prompt == 0 else r.test
        out[key] = summary(r.samples_ts or [r.avg_ts])
        out[key]["avg"] = r.avg_ts
        out[key]["stddev"] = r.stddev_ts
        out["model_size"] = r.model_size
    return out


def compare(ours: dict, ref: dict | None, model_bytes: int, bandwidth: float | None) -> dict:
    def med(d, k):
        return (d or {}).get(k, {}).get("median") if d else None

    return {"pp_ratio": ratio(med(ours, "pp"), med(ref, "pp")),
            "tg_ratio": ratio(med(ours, "tg"), med(ref, "tg")),
            "tg_limit_tps": (bandwidth / model_bytes) if bandwidth else None,
            "ours_bandwidth_share": bandwidth_share(model_bytes, med(ours, "tg"), bandwidth),
            "llama_bench_bandwidth_share": bandwidth_share(model_bytes, med(ref, "tg"), bandwidth)}

