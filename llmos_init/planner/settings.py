"""A planner setting kept on /data or given on the kernel command line (the planner's
server, llmos.llm=; the model's RPC workers, llmos.rpc=): one reader for both."""
from __future__ import annotations


def read(key: str, data_file: str, cmdline: str = "/proc/cmdline") -> str | None:
    """The first line of `data_file` when it has one ("off", "none" or blank: None, the
    setting switched off there), else the value of `key`= on the kernel command line as
    written, else None."""
    try:
        with open(data_file, encoding="utf-8", errors="replace") as f:
            first = f.read(512).strip().splitlines()
        if first:
            v = first[0].strip()
            return None if v.lower() in ("off", "none", "") else v
    except OSError:
        pass
    try:
        with open(cmdline, encoding="utf-8", errors="replace") as f:
            words = f.read(4096).split()
    except OSError:
        return None
    for w in words:
        name, _, value = w.partition("=")
        if name == key and value:
            return value
    return None
