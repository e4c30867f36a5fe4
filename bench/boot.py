"""Boot time: QEMU start -> kernel start -> PID 1 start -> console prompt -> model ready,
for llmos and for the BusyBox baseline (same kernel, same QEMU command line)."""
from __future__ import annotations

import re
from pathlib import Path

from mkimage.image import make_data_image

from .guest import BenchGuest, BootResult
from .stats import ratio, summary

DATA_MB = 64
PHASES = ("qemu_to_kernel", "kernel_to_pid1", "pid1_to_prompt", "pid1_to_init_line",
          "init_line_to_prompt", "prompt_to_model_ready", "to_prompt", "to_model_ready")


def new_guest(workdir: Path, script: Path, mem_mb: int = 512, prompt: re.Pattern | None = None) -> BenchGuest:
    """A guest with a fresh data disk in workdir (made before the clock starts)."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "data.ext4"
    make_data_image(data, DATA_MB)
    kw = {"prompt": prompt} if prompt is not None else {}
    return BenchGuest(workdir, data, script, mem_mb=mem_mb, **kw)


def boot_llmos(guest: BenchGuest, timeout: float, ready_timeout: float, wait_ready: bool = True,
               before_ready=None) -> BootResult:
    """Boot to the prompt, run `before_ready(guest)` (if any), then wait for the model."""
    res = guest.boot_to_prompt(timeout)
    if not res.ok:
        return res
    if before_ready is not None:
        before_ready(guest)
    if wait_ready:
        res = guest.wait_model_ready(res, timeout=ready_timeout)
    return res


def check_baseline_shell(guest: BenchGuest) -> bool:
    """The baseline's shell answers (arithmetic, so an echo of the input cannot pass)."""
    guest.proc.send("echo $((6*7))\r")
    try:
        guest.proc.expect(r"\b42\b", timeout=30)
        guest.proc.expect(guest.prompt, timeout=30)
        return True
    except Exception:  # noqa: BLE001 - pexpect TIMEOUT/EOF: reported as a failed run
        return False


def boot_baseline(workdir: Path, script: Path, mem_mb: int, prompt: re.Pattern) -> BootResult:
    """One boot of a BusyBox baseline to its prompt, its shell checked to answer."""
    guest = new_guest(workdir, script, mem_mb, prompt=prompt)
    try:
        res = guest.boot_to_prompt(120)
        if res.ok and not check_baseline_shell(guest):
            res.ok, res.error = False, "the BusyBox shell did not answer"
    finally:
        guest.close()
    return res


def phases(res: BootResult) -> dict[str, float | None]:
    """Durations of the boot's phases (seconds) from one run's milestones."""
    m = res.marks

    def between(a, b):
        return None if a is None or b is None else b - a

    return {"qemu_to_kernel": m.kernel_start,
            "kernel_to_pid1": between(m.kernel_start, m.pid1_start),
            "pid1_to_prompt": between(m.pid1_start, res.prompt),
            # llmos only: its interpreter's start and imports, then boot steps + console
            "pid1_to_init_line": between(m.pid1_start, m.init_first_line),
            "init_line_to_prompt": between(m.init_first_line, res.prompt),
            "prompt_to_model_ready": between(res.prompt, res.model_ready),
            "to_prompt": res.prompt,
            "to_model_ready": res.model_ready}


def summarize(runs: list[BootResult]) -> dict:
    """Per phase: a summary over the runs that reached it."""
    per = [phases(r) for r in runs if r.ok]
    return {p: summary(x[p] for x in per) for p in PHASES}


def compare(llmos: dict, base: dict) -> dict:
    """llmos / baseline of each phase's median (None where the baseline has no such phase)."""
    return {p: ratio(llmos[p]["median"], base[p]["median"]) for p in PHASES}
