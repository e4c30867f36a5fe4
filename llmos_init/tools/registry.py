"""The single source of the action vocabulary.

Every tool of the console is declared here once: its name, its arguments (with their
types and whether they are required), whether it is destructive, and one line of help.
The planner's grammars, the executor's dispatch, the safety rules and `help` are all
derived from this table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SIGNALS = ("TERM", "KILL", "HUP", "INT", "STOP", "CONT", "USR1", "USR2")
DEVICE_KINDS = ("block", "network", "serial", "all")


@dataclass(frozen=True)
class Arg:
    name: str
    type: str  # "path" | "string" | "text" | "int" | "signal" | "kind" | "list" | "pid_or_name" | "time" | "url"
    required: bool = True


@dataclass(frozen=True)
class Tool:
    name: str
    args: tuple[Arg, ...]
    destructive: bool
    summary: str
    example: str = ""
    undoable: bool = False
    asks: bool = False     # asks for a yes although not destructive (reaches outside /data)
    # whether the planner's model may name it; False: only a sentence template plans it
    # (install_update: a request naming the bundle; the model's prompt and its trained
    # vocabulary stay what they were)
    by_model: bool = True

    @property
    def confirms(self) -> bool:
        """Whether the console shows the action and asks for a yes before it runs."""
        return self.destructive or self.asks

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.args if a.required)

    @property
    def arg_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.args)


def _t(name, args, destructive, summary, example="", undoable=False, asks=False, by_model=True) -> Tool:
    return Tool(name, tuple(args), destructive, summary, example, undoable, asks, by_model)


P = lambda n="path", req=True: Arg(n, "path", req)  # noqa: E731

TOOLS: dict[str, Tool] = {t.name: t for t in [
    _t("list_dir", [P()], False, "entries of a directory (name, type, size)", "ls /data"),
    _t("read_file", [P()], False, "text of a file (bounded; binary files summarised)", "show notes.txt"),
    _t("write_file", [P(), Arg("text", "text")], True, "create or overwrite a file with text",
       "create notes.txt with the text hello", undoable=True),
    _t("append_file", [P(), Arg("text", "text")], True, "add text as a new line at the end of a file",
       "add 'eggs' to list.txt", undoable=True),
    _t("make_dir", [P()], False, "create a directory and missing parents", "mkdir photos"),
    _t("remove", [P()], True, "delete a file or directory (to the trash on /data, undoable)",
       "delete old.log", undoable=True),
    _t("move", [P("src"), P("dst")], True, "move or rename", "rename a.txt to b.txt", undoable=True),
    _t("copy", [P("src"), P("dst")], False, "copy a file or directory", "copy a.txt to a.bak"),
    _t("file_info", [P()], False, "type, size, mode, owner, times", "how big is image.iso"),
    _t("find_files", [Arg("pattern", "string"), P()], False, "glob pattern searched recursively",
       "find *.log under /data"),
    _t("disk_usage", [P(req=False)], False, "size, used and free space of a filesystem", "is the disk full?"),
    _t("change_dir", [P()], False, "change the console's current directory", "cd /data"),
    _t("list_processes", [], False, "pid, name, state, cpu and memory of every process", "ps"),
    _t("kill_process", [Arg("pid", "pid_or_name", False), Arg("name", "string", False),
                        Arg("signal", "signal", False)], True,
       "send a signal to a process (default TERM)", "kill 1234"),
    _t("start_program", [P(), Arg("args", "list", False)], True,
       "start an executable as a supervised child", "run /data/job.py"),
    _t("set_priority", [Arg("pid", "int"), Arg("nice", "int", False)], False,
       "change a process's nice value (-20..19)", "renice 700 to 5"),
    _t("system_info", [], False, "hostname, kernel, uptime, load, CPUs, memory", "how much RAM do I have"),
    _t("list_devices", [Arg("kind", "kind", False)], False, "block devices, network interfaces, serial ports",
       "show network interfaces"),
    _t("mount", [Arg("device", "path"), P("target"), Arg("fstype", "string", False)], False,
       "mount a filesystem (asks first)", "mount /dev/vdd at /data/media/usb", asks=True),
    _t("unmount", [P("target")], True, "unmount a filesystem", "unmount /mnt"),
    _t("link_up", [Arg("interface", "string")], False, "bring a network interface up", "bring eth0 up"),
    _t("link_down", [Arg("interface", "string")], True, "bring a network interface down", "take eth0 down"),
    _t("get_time", [], False, "current date and time", "what time is it"),
    _t("set_time", [Arg("time", "time")], True, "set the system clock (and the RTC)",
       "set the time to 2026-01-01 12:00"),
    _t("set_hostname", [Arg("name", "string")], True, "set the hostname (persisted on /data)",
       "call this machine kiosk"),
    _t("kernel_log", [], False, "recent kernel messages", "show the boot messages"),
    _t("reboot", [], True, "orderly reboot", "reboot"),
    _t("poweroff", [], True, "orderly power-off", "power off"),
    _t("install_update", [P(req=False), Arg("url", "url", False)], True,
       "install a signed update bundle (a file, or an http:// URL) into the other root slot and "
       "restart into it once", "install the update /data/llmos-1.2.bundle", by_model=False),
    _t("answer", [Arg("text", "text", False)], False, "reply in words, no system action", "hello"),
    _t("clarify", [Arg("question", "text", False)], False, "ask for what is missing", "delete it"),
    _t("undo", [], False, "revert the last remove, move, write_file or append_file", "undo"),
    _t("help", [], False, "what the console can do, with examples", "help"),
]}

DESTRUCTIVE = frozenset(n for n, t in TOOLS.items() if t.destructive)
UNDOABLE = frozenset(n for n, t in TOOLS.items() if t.undoable)


class PlanError(ValueError):
    """A plan that does not follow the vocabulary."""


def validate_action(action: Any) -> dict:
    """Check one action against the registry; return it normalised or raise PlanError."""
    if not isinstance(action, dict) or not isinstance(action.get("tool"), str):
        raise PlanError(f"not an action: {action!r}")
    tool = TOOLS.get(action["tool"])
    if tool is None:
        raise PlanError(f"unknown tool {action['tool']!r}")
    args = action.get("args", {})
    if not isinstance(args, dict):
        raise PlanError(f"{tool.name}: args must be an object")
    unknown = set(args) - set(tool.arg_names)
    if unknown:
        raise PlanError(f"{tool.name}: unknown argument(s) {sorted(unknown)}")
    missing = [a for a in tool.required if a not in args]
    if tool.name == "kill_process" and "pid" not in args and "name" not in args:
        missing.append("pid or name")
    if tool.name == "install_update" and not args.keys() & {"path", "url"}:
        missing.append("path or url")
    if missing:
        raise PlanError(f"{tool.name}: missing argument(s) {missing}")
    if tool.name == "install_update" and len(args.keys() & {"path", "url"}) == 2:
        raise PlanError("install_update: a path or a url, not both")
    return {"tool": tool.name, "args": dict(args)}


def validate_plan(plan: Any) -> list[dict]:
    if not isinstance(plan, list) or not plan:
        raise PlanError("a plan is a non-empty JSON array of actions")
    return [validate_action(a) for a in plan]
