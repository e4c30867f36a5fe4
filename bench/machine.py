"""The machine the figures come from: CPU, cores, memory, load, QEMU and Python versions."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str | None:
    try:
        with open(cpuinfo) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware"):
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def mem_total(meminfo: str = "/proc/meminfo") -> int | None:
    try:
        with open(meminfo) as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def qemu_version(binary: str = "qemu-system-x86_64") -> str | None:
    exe = shutil.which(binary)
    if not exe:
        return None
    r = subprocess.run([exe, "--version"], capture_output=True, text=True)
    return r.stdout.splitlines()[0].strip() if r.returncode == 0 and r.stdout else None


def describe() -> dict:
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "mem_total": mem_total(), "load_start": load(), "kernel": platform.release(),
            "python": platform.python_version(), "qemu": qemu_version(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z")}
