"""Measure the model path: load time, tool-choice accuracy and per-request latency.

    .venv/bin/python tests/eval/bench_model.py [--style names|summaries|examples|full] [--threads N]
        [--set FILE ...] [--every K] [--state-dir DIR] [--planner]

Tool choice: for every single-step case whose expected tool the model may pick, the
model's best tool (all tools allowed, destructive included) against the expected one.
--planner instead times whole plans through the model path (parser bypassed) and reports
latency p50/p95 and how many plans match. --state-dir builds the prefix state there first
(build_prefix_state) and loads it, timing both.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from score import load_cases, percentile, plan_matches  # noqa: E402

from llmos_init.planner.modelplan import NEVER_BY_MODEL  # noqa: E402
from llmos_init.planner.models import find_model  # noqa: E402
from llmos_init.planner.runtime import ModelRuntime, build_prefix_state  # noqa: E402
from llmos_init.tools.registry import TOOLS  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEV_SETS = [os.path.join(HERE, f) for f in ("heldout.jsonl", "heldout_dev.jsonl")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--style", default="names")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--model")
    ap.add_argument("--set", action="append")
    ap.add_argument("--every", type=int, default=1, help="use every K-th case")
    ap.add_argument("--state-dir")
    ap.add_argument("--planner", action="store_true")
    ap.add_argument("--n-ctx", type=int, default=0)
    a = ap.parse_args(argv)
    model = find_model(a.model)
    cases = [c for s in (a.set or DEV_SETS) for c in load_cases(s)][::a.every]
    if a.state_dir:
        os.makedirs(a.state_dir, exist_ok=True)
        link = os.path.join(a.state_dir, os.path.basename(model))
        if not os.path.exists(link):
            os.symlink(os.path.abspath(model), link)
        t0 = time.perf_counter()
        files = build_prefix_state(model, a.state_dir)
        print(f"build_prefix_state: {time.perf_counter() - t0:.2f} s, "
              + ", ".join(f"{os.path.basename(f)} {os.path.getsize(f)} B" for f in files))
        model = link
    rt = ModelRuntime(model, threads=a.threads, style=a.style, **({'n_ctx': a.n_ctx} if a.n_ctx else {}))
    rt.load()
    print(f"style {a.style}: {rt.n_prefix} prefix tokens, threads {rt.threads}, prefix {rt.prefix_source}; "
          "load " + ", ".join(f"{k} {v:.2f} s" for k, v in rt.load_seconds.items()))
    if a.planner:
        from llmos_init.planner.planner import Planner
        p = Planner(use_model=False)
        p._runtime, p._status = rt, "ready"
        ms, ok = [], 0
        for c in cases:
            t0 = time.perf_counter()
            from llmos_init.planner.parser import Context
            got = p._model_step(c["request"], Context(cwd=c.get("cwd", "/")), forbid_destructive=False)
            ms.append((time.perf_counter() - t0) * 1000)
            ok += plan_matches(c["expect"], got)
        print(f"model-path plans: {ok}/{len(cases)} right; latency p50 {statistics.median(ms):.0f} ms "
              f"p95 {percentile(ms, .95):.0f} ms; decode calls {rt.evals}")
        return 0
    tools = [t for t in TOOLS if t not in NEVER_BY_MODEL]
    ms, ok, n = [], 0, 0
    ev0 = rt.evals
    for c in cases:
        if len(c["expect"]) != 1 or c["expect"][0]["tool"] not in tools:
            continue
        t0 = time.perf_counter()
        best, _ = rt.best_tool(c["request"], tools)
        ms.append((time.perf_counter() - t0) * 1000)
        n += 1
        ok += best == c["expect"][0]["tool"]
    print(f"tool choice {ok}/{n} = {100 * ok / max(1, n):.1f}%; best_tool p50 {statistics.median(ms):.0f} ms "
          f"p95 {percentile(ms, .95):.0f} ms; decode calls per request {(rt.evals - ev0) / max(1, n):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
