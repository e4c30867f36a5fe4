"""Inference inside the guest: pp and tg tokens/s of the image's model, through our runtime
and through llama.cpp's own llama-bench, on the same kernel, QEMU command line and model
partition.

- Ours: the llmos image booted with `llmos.bench=ppN,tgN,rN,tN` on the kernel command line;
  its one-shot `modelbench` service (llmos_init.modelbench, what a user gets on a board)
  prints one `llmos-bench: {json}` line on the serial console.
- llama-bench: the boot baseline's BusyBox root plus llama-bench and its libraries
  (bench.baseline.llama_bench_rootfs); its init mounts the model partition at /model and
  the benchmark types the llama-bench command at the shell prompt.

Both runs use one thread (the planner's choice on a 2-CPU guest) unless told otherwise,
and `-cpu max` on x86_64 (AVX2, what the wheel and llama-bench are built for). A third run
measures ours on run-qemu.sh's default CPU, which on x86_64 has no AVX, so that the
planner uses the image's SSE-only ggml backend (mkimage/ggml_portable.py).
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pexpect

from llmos_init.modelbench import RESULT_TAG

from . import baseline, boot, inference, llamabench

RESULT_RE = re.compile(re.escape(RESULT_TAG) + r" (\{.*\})\r*\n")


def spec(n_prompt: int, n_gen: int, reps: int, threads: int) -> str:
    return f"pp{n_prompt},tg{n_gen},r{reps},t{threads}"


def run_ours(image_dir: Path, work: Path, n_prompt: int, n_gen: int, reps: int, threads: int,
             mem: int = 512, timeout: float = 3600, cpu: str | None = None,
             append_more: str = "") -> dict:
    """Boot llmos with llmos.bench=... (and run-qemu.sh's CPU=`cpu`, `append_more` on the
    kernel command line too); the parsed `llmos-bench:` record (with the host's wall time
    from QEMU start to the result)."""
    append = f"llmos.bench={spec(n_prompt, n_gen, reps, threads)} {append_more}".strip()
    g = boot.new_guest(work, image_dir / "run-qemu.sh", mem)
    g.append = append
    g.cpu = cpu
    try:
        r = g.boot_to_prompt(300)
        if not r.ok:
            raise RuntimeError(f"llmos did not boot: {r.error}")
        try:
            g.proc.expect(RESULT_RE, timeout=timeout)
        except pexpect.TIMEOUT:
            raise RuntimeError(f"no {RESULT_TAG} line within {timeout:.0f} s") from None
        res = json.loads(g.proc.match.group(1))
        res["host_wall_s"] = g.now()
        res["kernel_append"] = append
    finally:
        g.close()
    if "error" in res:
        raise RuntimeError(f"modelbench in the guest: {res['error']}")
    return res


def run_llama_bench(image_dir: Path, work: Path, model_file: str, n_prompt: int, n_gen: int,
                    reps: int, threads: int, mem: int = 512, arch: str = "x86_64",
                    timeout: float = 3600, cpu: str | None = None) -> dict:
    """Boot the BusyBox + llama-bench root (CPU=`cpu`); run llama-bench on
    /model/<model_file>; its rows (bench.llamabench.BenchRow) as dicts plus the command."""
    exe = llamabench.build(arch)
    root = baseline.llama_bench_rootfs(exe, arch)
    script = baseline.run_dir(image_dir, work / "run", arch=arch, root=root)
    g = boot.new_guest(work / "guest", script, mem, prompt=baseline.PROMPT_RE)
    g.cpu = cpu
    cmd = llamabench.command(Path("/usr/bin/llama-bench"), Path("/model") / model_file,
                             threads, n_prompt, n_gen, reps)
    try:
        r = g.boot_to_prompt(180)
        if not r.ok:
            raise RuntimeError(f"the llama-bench root did not boot: {r.error}")
        # stderr to /dev/null: its progress lines would interleave with the JSON
        g.proc.send(" ".join(cmd) + " 2>/dev/null; echo llama-bench-exit=$?\r")
        t = time.monotonic()
        try:
            g.proc.expect(r"llama-bench-exit=(\d+)", timeout=timeout)
        except pexpect.TIMEOUT:
            raise RuntimeError(f"llama-bench gave no result within {timeout:.0f} s") from None
        wall = time.monotonic() - t
        out, code = g.proc.before, int(g.proc.match.group(1))
    finally:
        g.close()
    if code:
        raise RuntimeError(f"llama-bench in the guest exited with {code}: {out.strip()[-400:]}")
    rows = llamabench.parse_json(_json_part(out))
    return {"command": cmd, "wall_s": wall, "rows": [vars(x) for x in rows],
            **inference.summarize_rows(rows)}


def _json_part(text: str) -> str:
    """The JSON array of the serial output (after the echoed command line)."""
    text = text.replace("\r", "")
    start = text.find("\n[")
    return text[start + 1:] if start >= 0 else text


def compare(ours: dict | None, ref: dict | None, prefix: str = "") -> dict:
    """ours / ref (llama-bench, or the host), pp and tg medians."""
    from .stats import ratio

    def med(d, k):
        return ((d or {}).get(k) or {}).get("median")

    return {f"{prefix}pp_ratio": ratio(med(ours, "pp"), med(ref, "pp")),
            f"{prefix}tg_ratio": ratio(med(ours, "tg"), med(ref, "tg"))}
