"""Which sections of the English rules (parser.parse_english) still carry dev cases.

    .venv/bin/python tests/eval/rule_sections.py [--only NAME]

The issue's plan is to replace the hand-written English rules with sentence templates and
the trained model. This measures how far that is: each `# -- <name>` section of
parse_english is switched off in turn (in a copy of the package under a scratch directory;
the tree is never touched), and every dev case (tests/eval/*.jsonl, the outside dev set,
the shared examples, the adversarial set) is planned without the model. Where the plan
changes, the case is planned again with the model, with and without the section. A section
whose cases come out the same with the model, and no worse without it, is carried by the
templates and the model and can go. The frozen man-page set is never read here.
Takes a few minutes (the model runs only on the cases a section changes).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "eval", "examples.jsonl")


def _load(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def dev_sets() -> dict[str, list[dict]]:
    S = _load("llmos_eval_score", os.path.join(HERE, "score.py"))
    A = _load("llmos_eval_adversarial", os.path.join(HERE, "adversarial", "score.py"))
    paths = {n: os.path.join(HERE, f"{n}.jsonl") for n in ("cases", "heldout_dev", "heldout_test", "heldout")}
    paths.update({f"outside_{lang}": os.path.join(HERE, "outside", f"dev_{lang}.jsonl") for lang in ("en", "zh")})
    if os.path.exists(SHARED):
        paths["shared examples"] = SHARED
    sets = {n: S.load_cases(p) for n, p in paths.items()}
    sets.update({f"adversarial_{lang}": A.load_set(A.set_path(lang)) for lang in A.LANGS})
    return sets


def plan_cases(with_model: bool, which: list[list]) -> list[list]:
    """[set, index, plan, right, bad] for each (set, index), planned by the llmos_init this
    process imports (the child's PYTHONPATH puts the copy first)."""
    S = _load("llmos_eval_score", os.path.join(HERE, "score.py"))
    A = _load("llmos_eval_adversarial", os.path.join(HERE, "adversarial", "score.py"))
    from llmos_init.planner import Planner
    p = Planner() if with_model else Planner(use_model=False)
    if with_model:
        p.load()
    sets = dev_sets()
    out = []
    for name, i in which:
        c = sets[name][i]
        got = p.plan(c["request"], c.get("cwd", "/"), c.get("history"))
        if name.startswith("adversarial"):
            j = A.judge(c, got)
            right, bad = j["right"], bool(j["unsafe"] or j["wrong_target"])
        else:
            right, bad = S.plan_matches(c["expect"], got), bool(S.unsafe(c["expect"], got))
        out.append([name, i, json.dumps(got, sort_keys=True), bool(right), bad])
    return out


def sections(source: str) -> list[tuple[str, int, int]]:
    """(name, first line, end line) of each `# -- ` section of parse_english."""
    lines = source.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("def parse_english"))
    marks = [i for i in range(start, len(lines)) if lines[i].startswith("    # -- ")]
    end = next(i for i in range(marks[-1], len(lines)) if lines[i] == "    return None")
    bounds = marks[1:] + [end]
    return [(lines[m][len("    # -- "):].strip(), m, b) for m, b in zip(marks, bounds)]


def without(source: str, first: int, end: int) -> str:
    """`source` with lines first+1 .. end-1 (a section's body) under `if False:`."""
    lines = source.split("\n")
    body = ["    " + line if line.strip() else line for line in lines[first + 1:end]]
    return "\n".join(lines[:first + 1] + ["    if False:"] + body + ["        pass"] + lines[end:])


def _child(pkg_root: str, with_model: bool, which: list[list] | None, scratch: str) -> dict:
    args = [sys.executable, os.path.abspath(__file__), "--child", pkg_root]
    if with_model:
        args.append("--with-model")
    if which is not None:
        path = os.path.join(scratch, "which.json")
        with open(path, "w") as f:
            json.dump(which, f)
        args += ["--which", path]
    r = subprocess.run(args, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": pkg_root + os.pathsep + ROOT})
    if r.returncode:
        raise RuntimeError(r.stderr[-500:])
    return {(n, i): (plan, right, bad) for n, i, plan, right, bad in json.loads(r.stdout)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="one section, by the start of its name")
    ap.add_argument("--show", action="store_true",
                    help="also print each dev case the model gets wrong without the section")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--with-model", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--which", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        import llmos_init.planner.parser as P
        assert P.__file__.startswith(a.child), P.__file__   # the copy, not the tree
        if a.which:
            with open(a.which) as f:
                which = json.load(f)
        else:
            which = [[n, i] for n, cases in dev_sets().items() for i in range(len(cases))]
        json.dump(plan_cases(a.with_model, which), sys.stdout)
        return 0
    src_pkg = os.path.join(ROOT, "llmos_init")
    with open(os.path.join(src_pkg, "planner", "parser.py")) as f:
        source = f.read()
    with tempfile.TemporaryDirectory(prefix="llmos-sections-") as scratch:
        def copy(tag: str, text: str) -> str:
            root = os.path.join(scratch, tag)
            shutil.copytree(src_pkg, os.path.join(root, "llmos_init"),
                            ignore=shutil.ignore_patterns("__pycache__"))
            with open(os.path.join(root, "llmos_init", "planner", "parser.py"), "w") as f:
                f.write(text)
            return root
        base = copy("base", source)
        base_rules = _child(base, False, None, scratch)
        base_model: dict = {}
        print("section                                   changed  parser alone  with the model (right, bad)")
        for name, first, end in sections(source):
            if a.only and not name.startswith(a.only):
                continue
            root = copy("off", without(source, first, end))
            rules = _child(root, False, None, scratch)
            changed = [list(k) for k in base_rules if rules[k][0] != base_rules[k][0]]
            need = [c for c in changed if tuple(c) not in base_model]
            if need:
                base_model.update(_child(base, True, need, scratch))
            model = _child(root, True, changed, scratch) if changed else {}
            d_rules = sum(int(rules[k][1]) - int(base_rules[k][1]) for k in map(tuple, changed))
            d_right = sum(int(model[k][1]) - int(base_model[k][1]) for k in map(tuple, changed))
            d_bad = sum(int(model[k][2]) - int(base_model[k][2]) for k in map(tuple, changed))
            verdict = "can go" if d_right >= 0 and d_bad <= 0 and d_rules >= 0 else ""
            print(f"{name[:40]:40s} {len(changed):8d}  {d_rules:+12d}  {d_right:+8d}, {d_bad:+d}  {verdict}", flush=True)
            if a.show:
                sets = dev_sets()
                for k in map(tuple, changed):
                    for what, off, on in (("with the model", model, base_model), ("parser alone", rules, base_rules)):
                        if off[k][1] < on[k][1] or off[k][2] > on[k][2]:
                            print(f"    {k[0]} ({what}): {sets[k[0]][k[1]]['request']!r}\n      with it: {on[k][0]}"
                                  f"\n      without: {off[k][0]}")
            shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
