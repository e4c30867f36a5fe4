"""A QEMU guest for the benchmarks: the test harness's Guest, started from any run-qemu.sh,
with every serial line stamped with its host arrival time, and the boot's milestones."""
from __future__ import annotations

import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pexpect

from qemu_harness import PROMPT, Guest

from .serial import BootMarks, StampedLog, boot_marks, model_statuses, parse_process_table

POLL_INTERVAL = 1.0
PROMPT_WAIT = 20.0
READY_TIMEOUT = 600.0


@dataclass
class BootResult:
    ok: bool
    marks: BootMarks
    prompt: float | None = None         # host seconds since QEMU start
    model_ready: float | None = None    # idem; None: not (yet) ready
    model_status: str | None = None     # the console's last "model: ..." status
    error: str | None = None
    lost_keys: int = 0                  # Enters that got no prompt while polling

    def to_dict(self) -> dict:
        d = asdict(self)
        d["marks"] = asdict(self.marks)
        return d


class BenchGuest(Guest):
    """Guest booted from `script` (a run-qemu.sh); `prompt` is what marks the shell ready."""

    def __init__(self, workdir: Path, data_image: Path, script: Path, mem_mb: int = 512,
                 prompt: re.Pattern = PROMPT, append: str = ""):
        super().__init__(workdir, data_image, mem_mb=mem_mb, append=append)
        self.script = script
        self.prompt = prompt
        self.t0 = 0.0
        self.cpu: str | None = None     # run-qemu.sh's CPU= (None: its default)

    def start(self) -> None:
        env = dict(os.environ, SERIAL_MUX="off", DATA=str(self.data_image), MEM=str(self.mem_mb),
                   APPEND=self.append, NET="user", **({"CPU": self.cpu} if self.cpu else {}))
        args = ["-monitor", f"unix:{self.monitor_path},server=on,wait=off", *self.extra_args]
        self.t0 = time.monotonic()
        self._log = StampedLog(self.log_path, t0=self.t0)
        self.proc = pexpect.spawn(str(self.script), args, env=env, encoding="utf-8",
                                  codec_errors="replace", timeout=60, maxread=65536,
                                  dimensions=(50, 200))
        self.proc.logfile_read = self._log

    def now(self) -> float:
        return time.monotonic() - self.t0

    def boot_to_prompt(self, timeout: float) -> BootResult:
        """Start QEMU, wait for the prompt; the milestones parsed from the serial log."""
        self.start()
        try:
            self.proc.expect(self.prompt, timeout=timeout)
            prompt = self.now()
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            return BootResult(False, boot_marks(self._log.lines),
                              error=f"no prompt: {type(e).__name__} after {self.now():.1f} s")
        return BootResult(True, boot_marks(self._log.lines), prompt=prompt,
                          model_status=_last(model_statuses(self.proc.before)))

    def wait_model_ready(self, result: BootResult, timeout: float = READY_TIMEOUT,
                         poll: float = POLL_INTERVAL) -> BootResult:
        """Press Enter every `poll` seconds until the console reports that the model's
        status changed from "loading": before its next prompt the console prints
        "model: <status>" when the status changed. An Enter that gets no prompt within
        PROMPT_WAIT (the serial line drops a key now and then while the guest is busy)
        is simply followed by the next one."""
        deadline = time.monotonic() + timeout
        status = result.model_status
        result.lost_keys = 0
        while status == "loading" or status is None:
            if time.monotonic() > deadline:
                result.error = f"model not ready after {timeout:.0f} s (status {status})"
                return result
            time.sleep(poll)
            self.proc.send("\r")
            try:
                self.proc.expect(PROMPT, timeout=PROMPT_WAIT)
            except pexpect.TIMEOUT:
                result.lost_keys += 1
                seen = model_statuses(self.proc.before)
            except pexpect.EOF:
                result.error = "QEMU exited while waiting for the model"
                return result
            else:
                seen = model_statuses(self.proc.before)
            if seen:
                status = seen[-1]
        result.model_status = status
        if status == "ready":
            result.model_ready = self.now()
        else:
            result.error = f"model: {status}"
        return result

    def timed_ask(self, request: str, timeout: float = 300) -> tuple[float, str]:
        """Seconds from sending the request to the next prompt, and the output."""
        t = time.monotonic()
        out = self.ask(request, timeout=timeout)
        return time.monotonic() - t, out

    def processes(self) -> list[dict]:
        return parse_process_table(self.ask("list processes", timeout=120))

    def close(self) -> None:
        self.kill()


def _last(xs: list):
    return xs[-1] if xs else None


def rss_of(rows: list[dict]) -> dict:
    """PID 1 (the supervisor) and the console (the model lives there) RSS, bytes."""
    out = {"pid1": None, "console": None}
    for r in rows:
        if r["pid"] == 1:
            out["pid1"] = r["rss"]
        elif "console" in r["command"].split() or r["command"].endswith("console"):
            out["console"] = r["rss"] if out["console"] is None else max(out["console"], r["rss"])
    return out
