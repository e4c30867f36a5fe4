"""Command latency: request -> executed result, for requests the deterministic parser
handles and for requests that go to the model, on the host (Planner + Executor against a
sandbox directory) and in the guest (request typed on the serial console -> next prompt).

All requests are read-only and need no confirmation, so they can be repeated.
"""
from __future__ import annotations

import tempfile
import time

from .stats import summary

DETERMINISTIC = ["ls", "how full is the disk", "what is running", "whats the clock say",
                 "tell me about this computer"]
MODEL = ["which gadgets are attached", "how busy is the machine right now",
         "give me the lay of the land", "what version is this system"]
REPLY_TOOLS = ("answer", "clarify", "help")


class CountingPlanner:
    """Wraps a Planner: counts the steps handed to the model (the model path)."""

    def __init__(self, planner):
        self.planner = planner
        self.model_steps = 0
        inner = planner._model_step

        def counted(*a, **kw):
            self.model_steps += 1
            return inner(*a, **kw)

        planner._model_step = counted  # an instance attribute: the class is untouched
        inner_tr = planner._translate

        def translated(*a, **kw):      # the trained adapter's path (translation.py)
            self.model_steps += 1
            return inner_tr(*a, **kw)

        planner._translate = translated

    def plan(self, request: str, cwd: str) -> tuple[list[dict], bool]:
        before = self.model_steps
        plan = self.planner.plan(request, cwd, [])
        return plan, self.model_steps > before


def execute(planner, executor, plan: list[dict], request: str) -> list[str]:
    """Run a plan the way the console does (replies streamed, tools through the executor),
    without confirmations (only read-only requests are timed); the outputs."""
    out = []
    for action in plan:
        tool = action["tool"]
        if tool == "answer" and not action["args"].get("text"):
            out.append("".join(planner.stream_answer(request)))
        elif tool in ("answer", "clarify"):
            out.append(action["args"].get("text") or action["args"].get("question") or "")
        else:
            reason = executor.check(action)
            if reason:
                out.append(f"refused: {reason}")
                break
            if executor.needs_confirmation(action):
                raise RuntimeError(f"benchmark request needs a confirmation: {request!r} -> {action}")
            out.append(executor.run(action).text or "")
    return out


def host_latency(model_path: str | None, reps: int, deterministic=DETERMINISTIC, model=MODEL) -> dict:
    """p50/p95 of request -> executed result on the host, per path."""
    from llmos_init.tools.trash import Trash
    from llmos_init.planner.planner import Planner
    from llmos_init.tools.context import ActionContext
    from llmos_init.tools.executor import Executor

    planner = Planner(model_path=model_path)
    t = time.perf_counter()
    status = planner.load()
    load_s = time.perf_counter() - t
    counting = CountingPlanner(planner)
    with tempfile.TemporaryDirectory(prefix="llmos-bench-") as sandbox:
        import os
        os.makedirs(os.path.join(sandbox, "data"))
        ctx = ActionContext(cwd="/data", data_dir="/data", sandbox=sandbox)
        executor = Executor(ctx, Trash(ctx.real_data_dir))
        res = {"model_status": status, "model_load_s": load_s,
               "adapter": getattr(planner, "adapter_status", "none")}
        for path, requests in (("deterministic", deterministic), ("model", model)):
            times, wrong = [], []
            for _ in range(reps):
                for req in requests:
                    t = time.perf_counter()
                    plan, used_model = counting.plan(req, ctx.cwd)
                    execute(planner, executor, plan, req)
                    times.append(time.perf_counter() - t)
                    if used_model != (path == "model"):
                        wrong.append(req)
            res[path] = summary(times)
            res[path]["requests"] = list(requests)
            if wrong:
                res[path]["other_path"] = sorted(set(wrong))
    return res


def guest_latency(guest, reps: int, deterministic=DETERMINISTIC, model=MODEL,
                  timeout: float = 300) -> dict:
    """Timings (seconds) of requests typed on a booted guest's console, per path; a request
    that got no prompt back within `timeout` is listed under "failed" and not timed."""
    out: dict = {"failed": []}
    for path, requests in (("deterministic", deterministic), ("model", model)):
        out[path] = []
        for _ in range(reps):
            for req in requests:
                try:
                    dt, _text = guest.timed_ask(req, timeout=timeout)
                except AssertionError as exc:  # the harness's "no prompt" (timeout or EOF)
                    out["failed"].append(f"{req!r}: {str(exc).splitlines()[0]}")
                    guest.proc.send("\x15\r")  # Ctrl-U: drop a half-received line, new prompt
                    continue
                out[path].append(dt)
    return out
