"""The serial line, with the host time each line arrived, and what it says about a boot.

Three clocks meet here: the host's (seconds since QEMU was started, stamped by
`StampedLog` as the lines arrive), the kernel's printk timestamps (`[    4.184164] ...`,
seconds since the kernel started) and llmos PID 1's boot step lines (`[   6.229s] ...`,
seconds since kernel start too). The kernel's console starts printing only once the serial
driver is up, replaying what it buffered, so the kernel's start on the host clock is
estimated as the smallest (arrival - printk time) over all kernel lines: a line never
arrives before it was printed.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

KERNEL_LINE = re.compile(r"^\[\s*(\d+\.\d+)\] (.*)$")
INIT_LINE = re.compile(r"^\[\s*(\d+\.\d+)s\] (.*)$")
RUN_INIT = re.compile(r"\bRun (\S+) as init process\b")
BOOT_FINISHED = re.compile(r"boot finished in (\d+(?:\.\d+)?) s since kernel start")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
MODEL_STATUS = re.compile(r"^model: (.+?)\s*$", re.M)
SIZE = re.compile(r"^(\d+(?:\.\d+)?) (B|KiB|MiB|GiB|TiB)$")
_UNIT = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


class StampedLog:
    """A pexpect `logfile_read`: writes the serial text to a file and keeps every
    complete line with the host time (seconds since `t0`) at which it arrived."""

    def __init__(self, path, t0: float | None = None, clock=time.monotonic):
        self._f = open(path, "a", encoding="utf-8", errors="replace")
        self._clock = clock
        self.t0 = clock() if t0 is None else t0
        self.lines: list[tuple[float, str]] = []
        self._partial = ""

    def write(self, s: str) -> None:
        now = self._clock() - self.t0
        self._f.write(s)
        parts = (self._partial + s).split("\n")
        for p in parts[:-1]:
            self.lines.append((now, p.rstrip("\r")))
        self._partial = parts[-1]

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


@dataclass
class BootMarks:
    """Host seconds since QEMU start of each milestone (None: not seen)."""
    kernel_start: float | None = None      # estimated from printk timestamps
    first_kernel_line: float | None = None  # arrival of the first kernel line
    pid1_start: float | None = None        # arrival of "Run /sbin/init as init process"
    init_first_line: float | None = None   # arrival of PID 1's first own line (llmos)
    init_path: str | None = None
    guest_boot_finished: float | None = None  # PID 1's own figure, seconds since kernel start
    kernel_lines: int = 0
    notes: list[str] = field(default_factory=list)


def boot_marks(lines: list[tuple[float, str]]) -> BootMarks:
    m = BootMarks()
    offsets = []
    for host, raw in lines:
        text = strip_ansi(raw)
        k = KERNEL_LINE.match(text)
        if k:
            m.kernel_lines += 1
            offsets.append(host - float(k.group(1)))
            if m.first_kernel_line is None:
                m.first_kernel_line = host
            r = RUN_INIT.search(k.group(2))
            if r and m.pid1_start is None:
                m.pid1_start = host
                m.init_path = r.group(1)
            continue
        i = INIT_LINE.match(text)
        if i and m.pid1_start is not None:
            if m.init_first_line is None:
                m.init_first_line = host
            b = BOOT_FINISHED.search(i.group(2))
            if b and m.guest_boot_finished is None:
                m.guest_boot_finished = float(b.group(1))
    if offsets:
        m.kernel_start = max(0.0, min(offsets))
    return m


def model_statuses(text: str) -> list[str]:
    """The console's "model: <status>" lines, in order (ANSI styles removed)."""
    return [s.strip() for s in MODEL_STATUS.findall(strip_ansi(text).replace("\r", ""))]


def parse_size(text: str) -> int:
    """'12 MiB' / '1.5 GiB' / '512 B' (the console's human sizes) -> bytes."""
    m = SIZE.match(text.strip())
    if not m:
        raise ValueError(f"not a size: {text!r}")
    return int(float(m.group(1)) * _UNIT[m.group(2)])


PROC_ROW = re.compile(r"^\s*(\d+)\s+(\S+)\s+(.+?)\s+(\d+\.\d)\s+(\d+(?:\.\d+)? (?:B|KiB|MiB|GiB))(?:\s+(.*))?$")


def parse_process_table(text: str) -> list[dict]:
    """Rows of the console's `list processes` table: pid, name, state, cpu, rss, command."""
    rows = []
    for line in strip_ansi(text).replace("\r", "").splitlines():
        m = PROC_ROW.match(line)
        if m:
            rows.append({"pid": int(m.group(1)), "name": m.group(2), "state": m.group(3).strip(),
                         "cpu": float(m.group(4)), "rss": parse_size(m.group(5)),
                         "command": (m.group(6) or "").strip()})
    return rows
