"""The files PID 1 writes and others read: each path named once."""
from __future__ import annotations

BOOT_JSON = "/run/llmos/boot.json"   # boot.py's step record (Boot.summary()); the banner's boot time
LOG_DIR = "/data/log"                # pid1.log, kernel.log, the console's audit log
