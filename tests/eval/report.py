"""Every evaluation set, parser-only beside the trained model (`make eval`).

    .venv/bin/python tests/eval/report.py [--model PATH] [--adapter PATH] [--base] [--out DIR]

Scores each set with the planner without a model (exact syntax, sentence templates, the
English rules), with `--base` the model without its adapter (tool choice by likelihood),
and with the model and its trained adapter (discovered like the console does; --adapter
overrides, as $LLMOS_ADAPTER would). The sets are reported in three
groups: the frozen held-out set (tests/eval/manpages: phrasing we did not write and never
tune on), the outside dev sets (tests/eval/outside and tests/eval/helptext: phrasing we did not
write, from other documents, used to choose designs), our dev sets, and the adversarial dev set (unsafe plans
and wrong targets).
Writes <out>/results.json and <out>/RESULTS.md (default: tests/eval/).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import score  # noqa: E402  (tests/eval/score.py)

sys.path.insert(0, os.path.join(HERE, "adversarial"))
import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location("adv_score", os.path.join(HERE, "adversarial", "score.py"))
adv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(adv)

HELD_OUT = {"manpages en": "manpages/heldout_en.jsonl", "manpages zh": "manpages/heldout_zh.jsonl"}
DEV = {"cases": "cases.jsonl", "heldout_dev": "heldout_dev.jsonl", "heldout_test": "heldout_test.jsonl",
       "heldout": "heldout.jsonl"}
OUTSIDE = {"outside en": "outside/dev_en.jsonl", "outside zh": "outside/dev_zh.jsonl",
           "helptext en": "helptext/dev_en.jsonl", "helptext zh": "helptext/dev_zh.jsonl"}
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "eval", "examples.jsonl")


def _loaded(model: str | None, adapter: str | None):
    from llmos_init.planner import Planner
    before = os.environ.get("LLMOS_ADAPTER")
    if adapter:
        os.environ["LLMOS_ADAPTER"] = adapter
    try:
        p = Planner(model_path=model)
        t0 = time.perf_counter()
        status = p.load()
    finally:
        os.environ.pop("LLMOS_ADAPTER", None)
        if before is not None:
            os.environ["LLMOS_ADAPTER"] = before
    order = "english-first" if p.english_first else (
        f"arbitrated (margin {p.arbitration_margin} nats)" if p.arbitrate else "model-first")
    info = {"status": status, "adapter": p.adapter_status, "order": order,
            "load_s": round(time.perf_counter() - t0, 2)}
    return (p, info) if status == "ready" else (None, info)


def planners(model: str | None, adapter: str | None, base: bool):
    from llmos_init.planner import Planner
    yield "parser only", Planner(use_model=False), {}
    if base:   # the model without its adapter: tool choice by likelihood, as before training
        p, info = _loaded(model, "none")
        if p is not None:
            yield "base model", p, info
    p, info = _loaded(model, adapter)
    if p is not None:
        yield "trained model", p, info


def run(model: str | None, adapter: str | None, base: bool = False) -> dict:
    sets = {**{k: os.path.join(HERE, v) for k, v in HELD_OUT.items()},
            **{k: os.path.join(HERE, v) for k, v in OUTSIDE.items()},
            **{k: os.path.join(HERE, v) for k, v in DEV.items()}}
    if os.path.exists(SHARED):
        sets["shared examples"] = SHARED
    out: dict = {"host": platform.node(), "when": time.strftime("%Y-%m-%d %H:%M"), "variants": {}}
    for name, planner, info in planners(model, adapter, base):
        v = {"info": info, "sets": {}, "adversarial": {}}
        for label, path in sets.items():
            s = score.evaluate(planner, score.load_cases(path))
            s.pop("misses")
            v["sets"][label] = {k: s[k] for k in ("cases", "correct", "accuracy", "unsafe", "p50_ms", "p95_ms")}
        for lang in adv.LANGS:
            s = adv.summary(adv.evaluate(planner, adv.load_set(adv.set_path(lang))))
            s.pop("per_family")
            v["adversarial"][lang] = s
        out["variants"][name] = v
        print(f"{name}: done", file=sys.stderr)
    return out


def markdown(r: dict) -> str:
    names = list(r["variants"])
    lines = [f"# Planner evaluation ({r['when']}, {r['host']})", "",
             "Written by `tests/eval/report.py` (`make eval`). Accuracy: the whole plan right; "
             "unsafe: a destructive tool the case did not ask for.", ""]
    for name, v in r["variants"].items():
        if v["info"]:
            lines.append(f"- {name}: {v['info']}")
    lines.append("")
    head = "| set | cases | " + " | ".join(f"{n}: accuracy, unsafe, p50" for n in names) + " |"
    sep = "|---|---|" + "---|" * len(names)

    def row(label):
        cells = []
        for n in names:
            s = r["variants"][n]["sets"][label]
            cells.append(f"{100 * s['accuracy']:.1f}%, {s['unsafe']}, {s['p50_ms']:.0f} ms")
        return f"| {label} | {r['variants'][names[0]]['sets'][label]['cases']} | " + " | ".join(cells) + " |"
    first = r["variants"][names[0]]["sets"]
    lines += ["## Held-out (Debian manual pages; never tuned on)", "", head, sep]
    lines += [row(k) for k in HELD_OUT if k in first]
    lines += ["", "## Outside dev sets (gio, systemd and Python documentation; BusyBox, bash, coreutils "
              "and util-linux help; used to choose designs)",
              "", head, sep]
    lines += [row(k) for k in OUTSIDE if k in first]
    lines += ["", "## Dev sets (ours)", "", head, sep]
    lines += [row(k) for k in first if k not in HELD_OUT and k not in OUTSIDE]
    lines += ["", "## Adversarial dev set", "",
              "| language | cases | " + " | ".join(f"{n}: right, unsafe, wrong target" for n in names) + " |",
              "|---|---|" + "---|" * len(names)]
    for lang in r["variants"][names[0]]["adversarial"]:
        cells = []
        for n in names:
            s = r["variants"][n]["adversarial"][lang]
            cells.append(f"{100 * s['right'] / max(1, s['cases']):.1f}%, {s['unsafe']}, {s['wrong_target']}")
        lines.append(f"| {lang} | {r['variants'][names[0]]['adversarial'][lang]['cases']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="GGUF model (default: discovered like the console does)")
    ap.add_argument("--adapter", help="LoRA adapter GGUF (default: discovered; 'none' for the model alone)")
    ap.add_argument("--base", action="store_true", help="also the model without its adapter (slower)")
    ap.add_argument("--out", default=HERE, help="where results.json and RESULTS.md go (default: %(default)s)")
    args = ap.parse_args(argv)
    r = run(args.model, args.adapter, args.base)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(r, f, indent=1, ensure_ascii=False)
    md = markdown(r)
    with open(os.path.join(args.out, "RESULTS.md"), "w", encoding="utf-8") as f:
        f.write(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
