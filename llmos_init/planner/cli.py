"""`python -m llmos_init plan [--cwd DIR] [--model PATH | --no-model] REQUEST...` and `--batch FILE`.

Prints each plan as one JSON array on one line. With --batch, FILE (or "-" for stdin) holds
JSON lines {"request": ..., "cwd": ...[, "history": [...]]}; one array is printed per line,
in order, with the model loaded once. The model's status goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m llmos_init plan", description="Dry-run the planner.")
    ap.add_argument("--cwd", default="/", help="current directory for relative paths (default /)")
    ap.add_argument("--model", help="GGUF model (default: $LLMOS_MODEL, /model/*.gguf, the build cache)")
    ap.add_argument("--no-model", action="store_true", help="deterministic parser only")
    ap.add_argument("--batch", metavar="FILE", help='JSON lines {"request","cwd"}; "-" reads stdin')
    ap.add_argument("request", nargs="*", help="the request (words are joined with spaces)")
    args = ap.parse_args(argv)
    if not args.batch and not args.request:
        ap.error("give a REQUEST or --batch FILE")
    from .planner import Planner
    planner = Planner(model_path=args.model, use_model=not args.no_model)
    if planner.model_path:
        status = planner.load()
        if status != "ready":
            print(f"planner: model {planner.model_path}: {status}; using the parser alone",
                  file=sys.stderr)
        elif planner.adapter_status.startswith("refused"):
            print(f"planner: adapter {planner.adapter_status}; the model plans without it",
                  file=sys.stderr)
    if not args.batch:
        print(json.dumps(planner.plan(" ".join(args.request), args.cwd), ensure_ascii=False))
        return 0
    try:
        f = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")
    except OSError as e:
        print(f"planner: cannot read {args.batch}: {e.strerror}", file=sys.stderr)
        return 2
    rc = 0
    with f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                request = item["request"]
                if not isinstance(request, str):
                    raise TypeError("request must be a string")
            except (ValueError, KeyError, TypeError) as e:
                print(f"planner: {args.batch}:{n}: bad line ({e})", file=sys.stderr)
                print(json.dumps([{"tool": "clarify", "args": {"question": "unreadable request"}}]))
                rc = 1
                continue
            plan = planner.plan(request, item.get("cwd") or args.cwd, item.get("history"))
            print(json.dumps(plan, ensure_ascii=False), flush=True)
    return rc
