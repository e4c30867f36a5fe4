"""The files PID 1 writes and others read: each path named once."""
from __future__ import annotations

BOOT_JSON = "/run/llmos/boot.json"   # boot.py's step record (Boot.summary()); the banner's boot time
# The same boot time (Boot.summary()'s total_s when the console starts), in the environment
# PID 1 hands its services: the console forked before boot.json is written (after the
# prompt, with json, which costs ~0.1 s under QEMU TCG) reads it there.
BOOT_SECONDS_ENV = "LLMOS_BOOT_S"
LOG_DIR = "/data/log"                # pid1.log, kernel.log, the console's audit log
# What PID 1 says about an update (committed, rolled back: update/commit.py), for the
# console to show before its next prompt (and remove); kept in LOG_DIR/update.log too.
UPDATE_NOTE = "/run/llmos/update-note"
