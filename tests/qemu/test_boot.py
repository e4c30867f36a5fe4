"""The image boots under QEMU TCG to the console, runs requests and powers off cleanly."""
from __future__ import annotations

import re
import subprocess

import pytest

from qemu_harness import PROMPT


def test_boots_to_the_console_prompt(booted):
    log = booted.log_text()
    assert "Linux version 6.1" in log
    assert PROMPT.search(log)
    print(f"\nboot to prompt: {booted.boot_seconds:.1f} s (QEMU start -> console prompt, TCG)")


def test_pid1_is_our_supervisor(booted):
    out = booted.ask("show /proc/1/cmdline")
    assert "/sbin/init" in out or "llmos" in out
    out = booted.ask("list processes")
    assert re.search(r"^\s*1\s+\S*(init|python3)", out, re.M), out


def test_request_creates_a_file_in_data_and_reads_it_back(booted):
    out = booted.ask("create /data/hello.txt with the text hello from qemu", confirm="y")
    assert "hello.txt" in out
    out = booted.ask("show /data/hello.txt")
    assert "hello from qemu" in out


def test_conditional_services_stay_off(booted):
    """modelbench runs only with llmos.bench on the kernel command line (test_modelbench)."""
    log = booted.log_text()
    assert "off: modelbench (needs llmos.bench)" in log
    assert "service modelbench" not in log and "llmos-bench:" not in log


def test_no_panic_and_no_oops(booted):
    log = booted.log_text()
    for bad in ("Kernel panic", "Oops:", "BUG:", "Call Trace:", "Traceback (most recent call last)"):
        assert bad not in log, f"{bad!r} in the serial log"


def test_poweroff_exits_qemu_with_status_zero_and_data_persists(guest_factory, data_disk):
    g = guest_factory(data_disk)
    g.boot()
    g.ask("create /data/keep.txt with the text survives a power-off", confirm="y")
    assert g.poweroff() == 0
    # the data image is clean after the power-off
    r = subprocess.run(["e2fsck", "-fn", str(data_disk)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    g2 = guest_factory(data_disk)
    g2.boot()
    out = g2.ask("show /data/keep.txt")
    assert "survives a power-off" in out
    assert g2.poweroff() == 0
