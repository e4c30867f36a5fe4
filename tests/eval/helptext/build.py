"""Turn the help-text phrases into the help-text dev set (dev_en.jsonl, dev_zh.jsonl).

    python3 tests/eval/helptext/build.py [--phrases FILE] [--out-dir DIR]

The mechanics are the frozen man-page set's (tests/eval/manpages/build.py), as for the outside
dev set (tests/eval/outside/build.py); only the table and the phrases differ. RULES below is
the only place where meaning is decided, and a phrase is there only when, read as a request,
it can mean one thing. A phrase that is the frozen set's in other words (BusyBox's "List
directory contents" is ls's NAME line; util-linux's "Mount a filesystem." is mount's) is left
out: tests/eval/test_helptext_dev.py checks that no phrase here is within SIMILAR of a frozen
one.

This is a DEV set, built in session 15 before any planner change was measured on it.
"""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.eval.manpages.build import build, cli  # noqa: E402

SEED = 20261203
# difflib ratio (lower-cased, final stop dropped) at or above which a phrase counts as a
# frozen phrase's own wording
SIMILAR = 0.8
KILL = {"signal": "KILL"}

# (lang, command, key, tool, shape, options): as in tests/eval/manpages/build.py
RULES = [
    # --- English: BusyBox's applet help
    ("en", "cat", "usage", "read_file", "file", {"fill": {"FILEs": "v"}}),
    ("en", "more", "usage", "read_file", "file", {"fill": {"FILE": "v"}}),
    ("en", "unlink", "usage", "remove", "file", {"fill": {"FILE": "v"}}),
    ("en", "nuke", "usage", "remove", "dir", {"fill": {"DIRs": "v"}}),
    ("en", "rmdir", "usage", "remove", "dir", {"fill": {"DIRECTORY": "v"}}),
    ("en", "mkdir", "usage", "make_dir", "dir", {"fill": {"DIRECTORY": "v"}}),
    ("en", "df", "usage", "disk_usage", "path", {"opt": True}),
    ("en", "du", "usage", "disk_usage", "path", {"fill": {"FILEs": "v"}}),
    ("en", "kill", "usage", "kill_process", "pid", {}),
    ("en", "killall", "usage", "kill_process", "pname", {}),
    ("en", "ps", "usage", "list_processes", "none", {}),
    ("en", "top", "usage", "list_processes", "none", {}),
    ("en", "uptime", "usage", "system_info", "none", {}),
    ("en", "free", "usage", "system_info", "none", {}),
    ("en", "nproc", "usage", "system_info", "none", {}),
    ("en", "arch", "usage", "system_info", "none", {}),
    ("en", "date", "usage", "set_time", "time", {"alt": ("Display time (using +FMT), or set time", 1)}),
    ("en", "poweroff", "usage", "poweroff", "none", {}),
    ("en", "renice", "usage", "set_priority", "pid", {}),
    # --- English: bash's builtins and util-linux (their message catalogues)
    ("en", "bash", "Change the shell working directory.", "change_dir", "dir", {}),
    ("en", "util-linux", "Forcibly terminate a process.", "kill_process", "pid", {"args": KILL}),
    ("en", "util-linux", "List information about block devices.", "list_devices", "none",
     {"args": {"kind": "block"}}),
    ("en", "util-linux", "Rename files.", "move", "src_dst", {}),
    # --- Chinese: the zh_CN catalogues
    ("zh", "bash", "Change the shell working directory.", "change_dir", "dir", {}),
    ("zh", "bash", "Send a signal to a job.", "kill_process", "pid", {}),
    ("zh", "coreutils", "Concatenate FILE(s) to standard output.", "read_file", "file",
     {"fill": {"<文件>": "v"}}),
    ("zh", "coreutils", "Copy SOURCE to DEST, or multiple SOURCE(s) to DIRECTORY.", "copy", "src_dst",
     {"clause": True, "fill": {"<源>": "a", "<目标>": "b"}}),
    ("zh", "coreutils", "Display file or file system status.", "file_info", "file", {}),
    ("zh", "coreutils", "Remove (unlink) the FILE(s).", "remove", "file", {"fill": {"<文件>": "v"}}),
    ("zh", "coreutils", "Rename SOURCE to DEST, or move SOURCE(s) to DIRECTORY.", "move", "src_dst",
     {"clause": True, "fill": {"<源>": "a", "<目标>": "b"}}),
    ("zh", "coreutils", "Send signals to processes, or list signals.", "kill_process", "pid",
     {"clause": True}),
    ("zh", "coreutils", "Print machine architecture.", "system_info", "none", {}),
    ("zh", "coreutils", "Summarize device usage of the set of FILEs, recursively for directories.",
     "disk_usage", "path", {"clause": True, "fill": {"<文件>": "v"}}),
    ("zh", "psmisc", "Display a tree of processes.", "list_processes", "none", {}),
    ("zh", "util-linux", "Forcibly terminate a process.", "kill_process", "pid", {"args": KILL}),
    ("zh", "util-linux", "List information about block devices.", "list_devices", "none",
     {"args": {"kind": "block"}}),
    ("zh", "util-linux", "Display information about the CPU architecture.", "system_info", "none", {}),
    ("zh", "util-linux", "Alter the priority of running processes.", "set_priority", "pid", {}),
    ("zh", "util-linux", "Display or control the kernel ring buffer.", "kernel_log", "none", {}),
    ("zh", "util-linux", "Rename files.", "move", "src_dst", {}),
]


def main(argv: list[str] | None = None) -> int:
    return cli(argv, __doc__.splitlines()[0], HERE, "dev", rules=RULES, seed=SEED, tag="helptext")


if __name__ == "__main__":
    sys.exit(main())
