"""How ARBITRATION_MARGIN (planner.py) was chosen: on the dev sets only, never the man pages.

    .venv/bin/python tests/eval/arbitration.py [--model GGUF] [--json rows.json]

For each dev case (tests/eval/{cases,heldout_dev,heldout_test,heldout}.jsonl, the outside
dev set tests/eval/outside/dev_{en,zh}.jsonl and the adversarial set) the planner plans twice in the arbitrated order: with margin +inf (the
rules' reading whenever they have one the model can score) and -inf (the model's own). It
keeps the two log-probabilities and whether each plan is right, then prints, for a range of
margins, accuracy and the count of unsafe or wrong-target plans per set. Takes about 10
minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from llmos_init.planner.planner import Planner  # noqa: E402

DEV_SETS = ("cases", "heldout_dev", "heldout_test", "heldout")
OUTSIDE = {f"outside_{lang}": os.path.join(HERE, "outside", f"dev_{lang}.jsonl") for lang in ("en", "zh")}
MARGINS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 16)
BONUSES = (0.0, 0.25, 0.5, 1.0)


def _load(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="GGUF model (default: discovered like the console does)")
    ap.add_argument("--json", help="also write the per-case rows here")
    ap.add_argument("--rows", help="sweep the rows a previous --json run wrote (no planning)")
    a = ap.parse_args(argv)
    if a.rows:
        with open(a.rows) as f:
            rows = json.load(f)
        sweep(rows, list(dict.fromkeys(r["set"] for r in rows)))
        return 0
    S = _load(os.path.join(HERE, "score.py"), "llmos_eval_score")
    A = _load(os.path.join(HERE, "adversarial", "score.py"), "llmos_eval_adversarial")
    p = Planner(a.model)
    print(f"planner: {p.load()}, adapter {p.adapter_status}", file=sys.stderr)
    if p.translator is None:
        print("no trained adapter: nothing to arbitrate", file=sys.stderr)
        return 1
    p.english_first, p.arbitrate = False, True
    sets = {n: S.load_cases(os.path.join(HERE, f"{n}.jsonl")) for n in DEV_SETS}
    sets.update({n: S.load_cases(path) for n, path in OUTSIDE.items()})
    for lang in A.LANGS:
        sets[f"adversarial_{lang}"] = A.load_set(A.set_path(lang))
    rows = []
    for name, cases in sets.items():
        for c in cases:
            row = {"set": name, "request": c["request"], "d": None}
            for tag, margin in (("rules", math.inf), ("model", -math.inf)):
                p.arbitration_margin = margin
                got = p.plan(c["request"], c.get("cwd", "/"), c.get("history"))
                if name.startswith("adversarial"):
                    j = A.judge(c, got)
                    row[tag] = [j["right"], bool(j["unsafe"] or j["wrong_target"])]
                else:
                    row[tag] = [S.plan_matches(c["expect"], got), bool(S.unsafe(c["expect"], got))]
                arb = p.last_arbitration
                if arb:
                    row["d"] = arb["rules_logprob"] - arb["model_logprob"]
                    # token counts of both readings (with the end marker), for a length bonus
                    row["n"] = [_tokens(p, arb["rules"]), _tokens(p, arb["model"])]
            rows.append(row)
        print(f"{name}: {len(cases)} cases", file=sys.stderr)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f)
    sweep(rows, list(sets))
    return 0


def _tokens(p: Planner, text: str) -> int:
    llm = p.translator.llm
    return len(llm.tokenize(text.encode(), add_bos=False, special=True)) + 1


def pick(row: dict, margin: float, bonus: float = 0.0) -> list:
    """The rules' reading stands when log P(rules) + bonus * its tokens is within `margin`
    of the model's own, counted the same way (bonus > 0 offsets likelihood's preference
    for short answers)."""
    d = row["d"]
    if d is None:
        return row["model"]
    if bonus:
        n_rules, n_model = row.get("n") or (0, 0)
        d += bonus * (n_rules - n_model)
    return row["rules"] if d >= -margin else row["model"]


def sweep(rows: list[dict], names: list[str]) -> None:
    """Accuracy and bad plans per set for each (bonus, margin); the best mean accuracy
    over the sets among those with the fewest bad plans last."""
    print("bonus margin  " + "  ".join(f"{n}: right%/bad" for n in names) + "  mean")
    table = []
    for bonus in BONUSES:
        for margin in (-math.inf, *MARGINS, math.inf):
            cells, accs, bad = [], [], 0
            for name in names:
                rs = [r for r in rows if r["set"] == name]
                got = [pick(r, margin, bonus) for r in rs]
                acc = 100 * sum(x[0] for x in got) / len(rs)
                accs.append(acc)
                bad += sum(x[1] for x in got)
                cells.append(f"{acc:.1f}/{sum(x[1] for x in got)}")
            mean = sum(accs) / len(accs)
            table.append((bad, -mean, bonus, margin))
            print(f"{bonus:>5} {margin:>6}  " + "  ".join(cells) + f"  {mean:.2f}")
    bad, neg, bonus, margin = min(table)
    print(f"best: bonus {bonus}, margin {margin}: mean {-neg:.2f}%, {bad} bad plans")


if __name__ == "__main__":
    sys.exit(main())
