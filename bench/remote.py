"""Remote plan latency: requests that are not exact command syntax, typed on the console of
one guest whose local model is ready, planned first by a real llama-server on the host's
loopback (`make serve`'s build, the image's model and adapter, reached at 10.0.2.2 through
QEMU's user networking), then, with the server turned off from the console
(`echo off > /data/etc/llm`), by the local model, in the same guest.

Timed per request: the serial line's request -> next prompt (the plan, the read-only
action it runs, the output), and the planner's own figure for the server's exchange
("planned by the server at ... (0.13 s)"). An exact command (`ls /data`) timed the same
way is the floor: the console, the action and the serial line without any planning.
"""
from __future__ import annotations

import re
from pathlib import Path

from .serial import strip_ansi
from .stats import summary

REQUESTS = ["which gadgets are attached", "how busy is the machine right now",
            "give me the lay of the land", "what version is this system",
            "show me what is in the folder log"]
FLOOR = "ls /data"
SERVER_THREADS = 1      # a 2-core host: one for llama-server, one for QEMU's TCG
PLANNED = re.compile(r"planned by the server at \S+ \((\d+\.\d+) s\)")
FELL_BACK = re.compile(r"the server at \S+ gave no usable plan \(([^\r\n]*)\); the local planner answered")


def actions(out: str) -> list[str]:
    """The plan lines the console printed (`→ list_dir /data/log`), arrows left out; a
    carriage return ends a piece too (the status line, "… thinking 3s", is redrawn after
    one, and the plan line follows it on the same line)."""
    return [ln.strip()[1:].strip() for ln in re.split(r"[\r\n]+", strip_ansi(out))
            if ln.strip().startswith("→")]


def _ask(guest, request: str, timeout: float, failed: list[str]):
    try:
        return guest.timed_ask(request, timeout=timeout)
    except AssertionError as exc:       # the harness's "no prompt" (timeout or EOF)
        failed.append(f"{request!r}: {str(exc).splitlines()[0]}")
        guest.proc.send("\x15\r")       # Ctrl-U: drop a half-received line, new prompt
        return None


def rounds(guest, requests: list[str], reps: int, timeout: float, failed: list[str]) -> dict:
    """{request: [{"s", "server_s", "fell_back", "plan"}, ...]} over `reps` rounds."""
    out: dict = {r: [] for r in requests}
    for _ in range(reps):
        for req in requests:
            got = _ask(guest, req, timeout, failed)
            if got is None:
                continue
            dt, text = got
            plain = strip_ansi(text)
            m, fb = PLANNED.search(plain), FELL_BACK.search(plain)
            out[req].append({"s": dt, "server_s": float(m.group(1)) if m else None,
                             "fell_back": fb.group(1) if fb else None, "plan": actions(text)})
    return out


def _summaries(runs: dict, key: str = "s") -> dict:
    every = [x[key] for xs in runs.values() for x in xs if x[key] is not None]
    return {"all": summary(every),
            "by_request": {r: summary(x[key] for x in xs) for r, xs in runs.items()}}


def measure(image_dir: Path, work: Path, reps: int, mem: int = 512, ready_timeout: float = 600,
            timeout: float = 300, log=print) -> dict:
    """Boot one guest with llmos.llm= pointing at a llama-server on this host, wait for its
    local model, time the requests remote, turn the server off, time them local."""
    from . import boot, llamaserver
    work.mkdir(parents=True, exist_ok=True)
    port = llamaserver.free_port()
    res: dict = {"requests": list(REQUESTS), "floor_request": FLOOR, "reps": reps,
                 "server_threads": SERVER_THREADS, "mem_mb": mem, "failed": []}
    with llamaserver.Running(port, work / "llama-server.log", threads=SERVER_THREADS) as server:
        res["server_model"] = server.model.name
        res["server_command"] = [Path(server.command[0]).name, *server.command[1:]]
        g = boot.new_guest(work / "guest", image_dir / "run-qemu.sh", mem)
        g.append = f"llmos.llm=http://10.0.2.2:{port}"
        try:
            r = boot.boot_llmos(g, 300, ready_timeout, wait_ready=True)
            res["model_ready_s"] = r.model_ready
            if r.model_ready is None:
                raise RuntimeError(f"the guest's model was not ready: {r.error or r.model_status}")
            log(f"remote: guest ready ({r.model_ready:.1f} s); {len(REQUESTS)} requests x {reps}, "
                "planned by the server")
            before = server.tasks()
            # one untimed request first: the first exchange asks the server's /props
            _ask(g, REQUESTS[0], timeout, res["failed"])
            remote = rounds(g, REQUESTS, reps, timeout, res["failed"])
            res["server_tasks"] = server.tasks() - before
            floor = rounds(g, [FLOOR], reps, timeout, res["failed"])
            _ask(g, "mkdir /data/etc", timeout, [])           # (it may be there already)
            got = g.ask("echo off > /data/etc/llm", timeout=timeout, confirm="y")
            if "planned by" in got:
                raise RuntimeError(f"turning the server off was planned remotely: {got[-400:]}")
            log("remote: the server turned off in the guest; the same requests, local")
            _ask(g, REQUESTS[0], timeout, res["failed"])
            local = rounds(g, REQUESTS, reps, timeout, res["failed"])
            tasks_after = server.tasks() - before - res["server_tasks"]
        finally:
            g.close()
    res["remote"] = {"runs": remote, **_summaries(remote)}
    res["remote"]["server"] = _summaries(remote, "server_s")
    res["remote"]["planned"] = summary(x["s"] for xs in remote.values() for x in xs
                                       if x["server_s"] is not None)
    res["remote"]["fell_back_s"] = summary(x["s"] for xs in remote.values() for x in xs
                                           if x["fell_back"] is not None)
    res["remote"]["fell_back_why"] = sorted({f"'{r}': {x['fell_back']}" for r, xs in remote.items()
                                             for x in xs if x["fell_back"] is not None})
    res["remote"]["fell_back"] = sum(x["fell_back"] is not None for xs in remote.values() for x in xs)
    res["local"] = {"runs": local, **_summaries(local)}
    res["local"]["asked_server"] = tasks_after
    res["floor"] = {"runs": floor, **_summaries(floor)}
    res["same_plan"] = {r: _plan_of(remote[r]) == _plan_of(local[r]) for r in REQUESTS}
    return res


def _plan_of(runs: list[dict]) -> list[str] | None:
    """The plan of a request's first round (all rounds plan the same: greedy decoding)."""
    return runs[0]["plan"] if runs else None
