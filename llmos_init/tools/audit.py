"""The audit log on the data partition.

<data_dir>/log/actions.jsonl   one JSON line per executed, refused or declined action, fsync'd
"""
from __future__ import annotations

import json
import os
import time
from typing import Any

from .fsio import fsync_dir, makedirs_durable

MESSAGE_MAX = 2000


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class AuditLog:
    def __init__(self, data_dir: str):
        self.log_dir = os.path.join(data_dir, "log")
        self.log_path = os.path.join(self.log_dir, "actions.jsonl")
        self.last_error: str | None = None

    def record(self, action: Any, outcome: dict) -> bool:
        """Append one JSON line (time, action, ok, message, ...) and fsync it.
        Returns False (and sets last_error) when the log cannot be written."""
        entry = {"time": now_iso(), "ts": round(time.time(), 3), "action": action,
                 "ok": bool(outcome.get("ok")),
                 "message": str(outcome.get("message", ""))[:MESSAGE_MAX]}
        entry.update({k: v for k, v in outcome.items() if k not in ("ok", "message")})
        line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode("utf-8", "replace")
        try:
            makedirs_durable(self.log_dir)
            created = not os.path.exists(self.log_path)
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                fsync_dir(self.log_dir)
        except OSError as e:
            self.last_error = f"audit log {self.log_path}: {e.strerror or e}"
            return False
        self.last_error = None
        return True
