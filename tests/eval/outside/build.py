"""Turn the outside phrases into the outside dev set (dev_en.jsonl, dev_zh.jsonl).

    python3 tests/eval/outside/build.py [--phrases FILE] [--out-dir DIR]

The mechanics are the frozen man-page set's (tests/eval/manpages/build.py: a phrase
verbatim, joined with a concrete value in a few fixed forms, or its metavariables filled);
only the table and the phrases differ. RULES below is the only place where meaning is
decided, and a phrase is there only when, read as a request, it can mean one thing.

This is a DEV set: it may be used to choose between planner designs (the arbitration
order, corpus forms). The frozen man-page set stays the measurement.
"""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.eval.manpages.build import build, cli  # noqa: E402

SEED = 20261201

# (lang, command, key, tool, shape, options): as in tests/eval/manpages/build.py
RULES = [
    # --- English: GLib's gio
    ("en", "gio", "Concatenate files and print to standard output.", "read_file", "file", {}),
    ("en", "gio", "Concatenate files to standard output", "read_file", "file", {}),
    ("en", "gio", "Copy one or more files from SOURCE to DESTINATION.", "copy", "src_dst",
     {"fill": {"SOURCE": "a", "DESTINATION": "b"}}),
    ("en", "gio", "Copy one or more files", "copy", "src_dst", {}),
    ("en", "gio", "Create directories.", "make_dir", "dir", {}),
    ("en", "gio", "Delete one or more files", "remove", "file", {}),
    ("en", "gio", "Delete the given files.", "remove", "file", {}),
    ("en", "gio", "List the contents of the locations.", "list_dir", "dir", {"opt": True}),
    ("en", "gio", "List the contents of locations", "list_dir", "dir", {}),
    ("en", "gio", "List contents of directories in a tree-like format.", "list_dir", "dir", {}),
    ("en", "gio", "Lists the contents of locations in a tree", "list_dir", "dir", {}),
    ("en", "gio", "Move one or more files from SOURCE to DEST.", "move", "src_dst",
     {"fill": {"SOURCE": "a", "DEST": "b"}}),
    ("en", "gio", "Move one or more files", "move", "src_dst", {}),
    ("en", "gio", "Move files or directories to the trash", "remove", "path", {}),
    ("en", "gio", "Rename a file", "move", "src_dst", {}),
    ("en", "gio", "Show information about locations.", "file_info", "path", {}),
    ("en", "gio", "Get file system info", "disk_usage", "path", {"opt": True}),
    # --- English: systemd
    ("en", "systemd", "Power off the system", "poweroff", "none", {}),
    ("en", "systemd", "Reboot the system", "reboot", "none", {}),
    ("en", "systemd", "Set hostname", "set_hostname", "host", {}),
    ("en", "systemd", "Set static hostname", "set_hostname", "host", {}),
    ("en", "systemd", "Set system time", "set_time", "time", {}),
    ("en", "systemd", "Get system description", "system_info", "none", {}),
    # --- English: Python's documentation strings
    ("en", "python", "os.remove", "remove", "file", {"clause": True}),
    ("en", "python", "os.rmdir", "remove", "dir", {}),
    ("en", "python", "shutil.rmtree", "remove", "dir", {}),
    ("en", "python", "os.listdir", "list_dir", "dir", {"opt": True}),
    ("en", "python", "os.mkdir", "make_dir", "dir", {}),
    ("en", "python", "os.chdir", "change_dir", "dir", {}),
    ("en", "python", "os.rename", "move", "src_dst", {}),
    ("en", "python", "shutil.move", "move", "src_dst", {}),
    ("en", "python", "shutil.copy", "copy", "src_dst", {"clause": True}),
    ("en", "python", "shutil.copy2", "copy", "src_dst", {}),
    ("en", "python", "shutil.copytree", "copy", "src_dst_dir", {}),
    ("en", "python", "os.kill", "kill_process", "pid", {}),
    ("en", "python", "os.uname", "system_info", "none", {}),
    ("en", "python", "socket.sethostname", "set_hostname", "host", {"fill": {"name": "v"}}),
    ("en", "python", "socket.gethostname", "system_info", "none", {}),
    ("en", "python", "shutil.disk_usage", "disk_usage", "path", {}),
    ("en", "python", "os.stat", "file_info", "path", {}),
    ("en", "python", "time.time", "get_time", "none", {}),
    ("en", "python", "os.getloadavg", "system_info", "none", {}),
    ("en", "python", "os.cpu_count", "system_info", "none", {"clause": True}),
    ("en", "python", "pathlib.Path.glob", "find_files", "pattern", {}),
    ("en", "python", "pathlib.Path.rglob", "find_files", "pattern", {}),
    ("en", "python", "pathlib.Path.read_text", "read_file", "file", {}),
    ("en", "python", "pathlib.Path.mkdir", "make_dir", "dir", {}),
    ("en", "python", "pathlib.Path.unlink", "remove", "file", {}),
    ("en", "python", "pathlib.Path.rename", "move", "src_dst", {}),
    ("en", "python", "pathlib.Path.iterdir", "list_dir", "dir", {"opt": True}),
    ("en", "python", "pathlib.Path.stat", "file_info", "path", {}),
    # --- Chinese: the zh_CN translations of the same catalogues
    ("zh", "gio", "Concatenate files and print to standard output.", "read_file", "file", {}),
    ("zh", "gio", "Copy one or more files from SOURCE to DESTINATION.", "copy", "src_dst",
     {"fill": {"源头": "a", "目标": "b"}}),
    ("zh", "gio", "Copy one or more files", "copy", "src_dst", {}),
    # (gio's zh_CN "Create directories." is 创建目录, mkdir's NAME in manpages-zh: left out)
    ("zh", "gio", "Delete one or more files", "remove", "file", {}),
    ("zh", "gio", "Delete the given files.", "remove", "file", {}),
    ("zh", "gio", "List the contents of the locations.", "list_dir", "dir", {"opt": True}),
    ("zh", "gio", "List the contents of locations", "list_dir", "dir", {}),
    ("zh", "gio", "List contents of directories in a tree-like format.", "list_dir", "dir", {}),
    ("zh", "gio", "Lists the contents of locations in a tree", "list_dir", "dir", {}),
    # (gio's zh_CN "Move one or more files from SOURCE to DEST." says 复制, copy: left out)
    ("zh", "gio", "Move one or more files", "move", "src_dst", {}),
    ("zh", "gio", "Move files or directories to the trash", "remove", "path", {}),
    ("zh", "gio", "Rename a file", "move", "src_dst", {}),
    ("zh", "gio", "Show information about locations.", "file_info", "path", {}),
    ("zh", "gio", "Get file system info", "disk_usage", "path", {"opt": True}),
    ("zh", "systemd", "Power off the system", "poweroff", "none", {}),
    ("zh", "systemd", "Reboot the system", "reboot", "none", {}),
    ("zh", "systemd", "Set hostname", "set_hostname", "host", {}),
    ("zh", "systemd", "Set static hostname", "set_hostname", "host", {}),
    ("zh", "systemd", "Set system time", "set_time", "time", {}),
    ("zh", "systemd", "Get system description", "system_info", "none", {}),
]


def main(argv: list[str] | None = None) -> int:
    return cli(argv, __doc__.splitlines()[0], HERE, "dev", rules=RULES, seed=SEED, tag="outside")


if __name__ == "__main__":
    sys.exit(main())
