"""Model speed: prompt-processing (pp) and generation (tg) tokens/s of a GGUF model through
the planner's own runtime (ModelRuntime: llama-cpp-python with the planner's context,
batch and threads).

`python -m llmos_init modelbench [--model PATH] [--spec pp32,tg8,r2,t1] [--save FILE]`

In the image it runs as the one-shot `modelbench` service, started only when the kernel
command line holds `llmos.bench` (`llmos.bench=1` for the defaults, or a spec such as
`llmos.bench=pp64,tg16,r3,t2`): the figures then appear on the serial console at boot, as
one human line and one `llmos-bench: {json}` line, and are kept in
/data/log/modelbench.json. This is how a board's (or an emulator's) inference speed is
measured without a shell; `make bench` uses it for the guest's figures.

Method (the same as llama-bench's): pp evaluates n_prompt tokens in one batch from an
empty context; tg evaluates n_gen generated tokens one by one after a single token (greedy
sampling included, as the planner generates; llama-bench feeds random tokens instead). Each
figure is the median over `reps` repetitions after one dropped warm-up repetition.
Beside them, the copy bandwidth (numpy, 32 MiB arrays) and the share of the generation
limit it implies that tg reaches: each generated token reads every weight once, so the
limit is bandwidth / model bytes tokens/s.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, replace

CMDLINE_KEY = "llmos.bench"
RESULT_TAG = "llmos-bench:"
DEFAULT_SAVE = "/data/log/modelbench.json"
COPY_BYTES = 32 << 20      # small enough for a 128 MiB guest beside the console's model
MAX_TOKENS = 400           # pp + tg must fit the runtime's context (N_CTX 512)
_TEXT = ("The quick brown fox jumps over the lazy dog while the planner lists files, "
         "shows processes and reads the kernel log. ")


@dataclass(frozen=True)
class Settings:
    n_prompt: int = 32
    n_gen: int = 8
    reps: int = 2
    threads: int | None = None    # None: the planner's default_threads()


def parse_spec(text: str | None, base: Settings = Settings()) -> Settings:
    """`pp32,tg8,r2,t1` (any subset, any order) -> Settings; "", "1", "on", "yes" and
    "default" mean the defaults. Raises ValueError naming what is wrong."""
    text = (text or "").strip().lower()
    if text in ("", "1", "on", "yes", "true", "default"):
        return base
    fields = {"pp": "n_prompt", "tg": "n_gen", "r": "reps", "t": "threads"}
    out = base
    for part in (p.strip() for p in text.split(",")):
        key = part.rstrip("0123456789")
        num = part[len(key):]
        if key not in fields or not num:
            raise ValueError(f"bench spec: {part!r} is not one of ppN, tgN, rN, tN "
                             f"(e.g. pp32,tg8,r2,t1)")
        value = int(num)
        if value < 1:
            raise ValueError(f"bench spec: {part!r}: the number must be at least 1")
        out = replace(out, **{fields[key]: value})
    if out.n_prompt + out.n_gen + 1 > MAX_TOKENS:
        raise ValueError(f"bench spec: pp{out.n_prompt} + tg{out.n_gen} exceed the "
                         f"{MAX_TOKENS} tokens the runtime's context allows")
    return out


def cmdline_spec(path: str = "/proc/cmdline") -> str | None:
    """The value of llmos.bench on the kernel command line ("" when given bare), or None."""
    from .boot import parse_cmdline
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return parse_cmdline(f.read()).get(CMDLINE_KEY)
    except OSError:
        return None


def summary(xs: list[float]) -> dict:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs),
            "samples": xs}


def prompt_tokens(llm, n: int) -> list[int]:
    """n tokens of ordinary English after BOS."""
    toks = llm.tokenize(_TEXT.encode(), add_bos=False, special=False)
    return [llm.token_bos()] + (toks * (n // len(toks) + 1))[: n - 1]


def copy_bandwidth(threads: int = 1, nbytes: int = COPY_BYTES, reps: int = 5) -> float:
    """Bytes moved per second (read + write, as STREAM's "copy" counts them) by numpy
    copies of an `nbytes` array split over `threads` threads; the best of `reps`."""
    import numpy as np
    src = np.ones(nbytes // 8, dtype=np.float64)
    dst = np.ones_like(src)    # touched: page faults are not part of the copy
    step = -(-src.size // threads)
    bounds = [(lo, min(lo + step, src.size)) for lo in range(0, src.size, step)]

    def work(lo, hi):
        np.copyto(dst[lo:hi], src[lo:hi])  # numpy releases the GIL for plain copies

    best = 0.0
    for _ in range(reps):
        ts = [threading.Thread(target=work, args=b) for b in bounds]
        t = time.perf_counter()
        for th in ts:
            th.start()
        for th in ts:
            th.join()
        best = max(best, 2 * src.nbytes / (time.perf_counter() - t))
    return best


def measure(model_path: str, settings: Settings = Settings(), clock=time.perf_counter,
            workers: str | None = None) -> dict:
    """Load the model through ModelRuntime and time pp and tg (see the module docstring).
    `workers` (`HOST:PORT[,HOST:PORT]`, llmos.rpc=): every layer on those llama.cpp RPC
    workers, as the console's model has them (planner/rpc.py); those that do not answer
    the probe are left out. (A worker lost while it measures aborts this one-shot
    process, never the console's.)"""
    from .planner.runtime import ModelRuntime
    s = settings
    usable: list = []
    skipped: list[str] = []
    if workers:
        from .planner import rpc
        usable, skipped = rpc.usable(rpc.parse(workers))
        if not usable:
            raise ConnectionError(f"no RPC worker answers: {'; '.join(skipped)}")
    rt = ModelRuntime(model_path, threads=s.threads, workers=usable)
    t = clock()
    rt.load()
    load_s = clock() - t
    llm = rt.llm
    import llama_cpp
    prompt = prompt_tokens(llm, s.n_prompt)
    pp: list[float] = []
    tg: list[float] = []
    try:
        for _ in range(s.reps + 1):
            llm.reset()
            t = clock()
            llm.eval(prompt)
            # the compute may still run: on RPC workers llama_decode only queues it (Llama
            # reads no logits here); the CPU backend has finished already
            llama_cpp.llama_synchronize(llm._ctx.ctx)
            pp.append(s.n_prompt / (clock() - t))
            llm.reset()
            llm.eval(prompt[:1])
            # generate() samples a token, yields it, then evaluates it: when token k is
            # yielded, k - 1 tokens have been evaluated, so n_gen evaluations end at the
            # (n_gen + 1)-th token (the first comes from the prompt's logits)
            n = 0
            t = clock()
            for _tok in llm.generate([], temp=0.0, top_k=1, reset=False):
                n += 1
                if n > s.n_gen:
                    break
            tg.append(s.n_gen / (clock() - t))
    finally:
        rt.close()
    bandwidth = copy_bandwidth(rt.threads)
    tg_med = statistics.median(tg[1:])
    size = os.path.getsize(model_path)
    return {"model": os.path.basename(model_path), "model_bytes": size, "ggml": rt.ggml,
            "copy_bandwidth": bandwidth, "tg_bandwidth_share": size * tg_med / bandwidth,
            "threads": rt.threads, "n_prompt": s.n_prompt, "n_gen": s.n_gen, "reps": s.reps,
            "load_s": load_s, "load_detail_s": rt.load_seconds,
            "rpc_workers": [f"{h}:{p}" for h, p in usable], "rpc_skipped": skipped,
            "devices": rt.devices,
            "pp": summary(pp[1:]), "tg": summary(tg[1:]),
            "warmup": {"pp": pp[0], "tg": tg[0]}}


def human(res: dict) -> str:
    if "error" in res:
        return f"model benchmark: failed: {res['error']}"
    where = f", layers on RPC {','.join(res['rpc_workers'])}" if res.get("rpc_workers") else ""
    return (f"model benchmark: {res['model']}, ggml {res.get('ggml') or '?'}{where}, "
            f"{res['threads']} thread(s): "
            f"pp{res['n_prompt']} {res['pp']['median']:.2f} t/s, "
            f"tg{res['n_gen']} {res['tg']['median']:.2f} t/s "
            f"(median of {res['reps']}; load {res['load_s']:.1f} s; "
            f"{res['tg_bandwidth_share'] * 100:.0f} % of the "
            f"{res['copy_bandwidth'] / 1e9:.1f} GB/s copy bandwidth's limit)")


def save(res: dict, path: str) -> str | None:
    """Write the result atomically; returns an error message instead of raising."""
    try:
        d = os.path.dirname(path)
        if d and not os.path.isdir(d):
            return f"not saved: {d} does not exist"
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        return f"not saved: {e}"
    return None


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m llmos_init modelbench",
                                description="tokens/s of the model through the planner's runtime")
    p.add_argument("--model", metavar="PATH", help="GGUF file (default: the image's model)")
    p.add_argument("--spec", help="ppN,tgN,rN,tN (default pp32,tg8,r2 and the planner's threads)")
    p.add_argument("--from-cmdline", action="store_true",
                   help=f"take the spec from {CMDLINE_KEY}= on the kernel command line")
    p.add_argument("--save", metavar="FILE", help="also write the JSON result to FILE")
    p.add_argument("--workers", metavar="HOST:PORT[,HOST:PORT]",
                   help="llama.cpp RPC workers for every layer (with --from-cmdline: "
                        "llmos.rpc= or /data/etc/rpc, as the console's model)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    ns = parse_args(list(sys.argv[1:] if argv is None else argv))
    res: dict
    spec = ns.spec
    if ns.from_cmdline:
        spec = cmdline_spec()
        if spec is None:
            print(f"model benchmark: no {CMDLINE_KEY} on the kernel command line; nothing to do")
            return 0
    try:
        settings = parse_spec(spec)
        from .planner.models import find_model
        model = find_model(ns.model)
        if model is None:
            raise FileNotFoundError("no model found (looked for --model, $LLMOS_MODEL, /model/*.gguf)")
        from .planner.planner import memory_shortfall
        short = memory_shortfall(model)
        if short:
            raise MemoryError(short)
        print(f"model benchmark: {os.path.basename(model)}, pp{settings.n_prompt} "
              f"tg{settings.n_gen} x{settings.reps} (+1 warm-up) ...", flush=True)
        t = time.monotonic()
        workers = ns.workers
        if workers is None and ns.from_cmdline:
            from .planner.rpc import setting
            workers = setting()
        res = measure(model, settings, workers=workers)
        res["wall_s"] = time.monotonic() - t
    except Exception as exc:  # noqa: BLE001 - a benchmark reports, it never crashes the boot
        res = {"error": f"{type(exc).__name__}: {exc}"}
    if ns.save:
        problem = save(res, ns.save)
        if problem:
            res["save"] = problem
    print(human(res), flush=True)
    print(f"{RESULT_TAG} {json.dumps(res, separators=(',', ':'))}", flush=True)
    return 1 if "error" in res else 0


if __name__ == "__main__":
    sys.exit(main())
