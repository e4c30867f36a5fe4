"""canonical.py: every canonical command reads back, through parse_shell, as exactly its action."""
import json
from pathlib import Path

import pytest

from llmos_init.planner import canonical as C
from llmos_init.planner.parser import Context, act, parse_shell

EVAL = Path(__file__).resolve().parents[1] / "eval"

CWDS = ["/", "/data", "/data/my docs", "/home/pi"]
PATHS = ["/data/notes.txt", "/data/my docs/a b.txt", "/etc/hosts", "/data/.hidden", "/data/-rf",
         "/data/--help", "/data/it", "/data/the", "/data/café.txt", "/data/日本/文件.md",
         "/data/it's.txt", '/data/say "hi"', "/data/a;b", "/data/$HOME", "/data/~x", "/data/~",
         "/tmp", "/", "/data", "/data/my docs", "/home/pi/.bashrc", "/var/log/syslog.1",
         "/data/a*b", "/data/x y/z"]
TEXTS = ["hello", "hello world", "it's here", 'say "hi"', "a > b", "a >> b", "x>y", "1 + 1 = 2",
         "  padded  ", "-n no newline", "日本語のテキスト", "café ☕", "tab\there", "$HOME `id`",
         "it works", "the end", "#comment", "back\\slash", "semi; colon && more", "'quoted'",
         "ends with >", "> starts", ""]
NAMES = ["nginx", "python3", "my-daemon", "httpd", "123", "node.js", "agent_x"]
PIDS = [1, 42, 999, 65535]
SIGNALS = ["TERM", "KILL", "HUP", "INT", "STOP", "CONT", "USR1", "USR2"]


def roundtrip(action, cwd):
    cmd = C.command(action, cwd)
    if cmd is not None:
        assert "\n" not in cmd
        assert parse_shell(cmd, Context(cwd=cwd)) == [action], cmd
    return cmd


def expressible(action, cwd):
    cmd = roundtrip(action, cwd)
    assert cmd is not None, action
    return cmd


@pytest.mark.parametrize("cwd", CWDS)
@pytest.mark.parametrize("path", PATHS)
def test_one_path_tools(path, cwd):
    for tool in ("list_dir", "read_file", "make_dir", "remove", "file_info", "change_dir",
                 "disk_usage"):
        expressible(act(tool, path=path), cwd)
    expressible(act("unmount", target=path), cwd)
    expressible(act("write_file", path=path, text=""), cwd)     # touch
    expressible(act("find_files", pattern="*.log", path=path), cwd)
    expressible(act("mount", device="/dev/sdb1", target=path), cwd)


@pytest.mark.parametrize("cwd", CWDS)
def test_two_path_tools(cwd):
    for src in PATHS[::3]:
        for dst in PATHS[1::3]:
            expressible(act("move", src=src, dst=dst), cwd)
            expressible(act("copy", src=src, dst=dst), cwd)


def test_relative_inside_cwd_absolute_outside():
    assert C.command(act("read_file", path="/data/notes.txt"), "/data") == "cat notes.txt"
    assert C.command(act("read_file", path="/etc/hosts"), "/data") == "cat /etc/hosts"
    assert C.command(act("list_dir", path="/data"), "/data") == "ls"
    assert C.command(act("list_dir", path="/etc"), "/") == "ls /etc"
    assert C.command(act("remove", path="/data/-rf"), "/data") == "rm ./-rf"
    assert C.command(act("remove", path="/data/it"), "/data") == "rm ./it"
    assert C.command(act("list_dir", path="/data/my docs"), "/data") == "ls 'my docs'"
    assert C.command(act("remove", path="/data/café.txt"), "/data") == "rm café.txt"
    assert C.command(act("find_files", pattern="*.log", path="/data"), "/data") == "find . -name '*.log'"


@pytest.mark.parametrize("tool", ["write_file", "append_file"])
@pytest.mark.parametrize("text", TEXTS)
def test_echo_texts(tool, text):
    for cwd, path in (("/data", "/data/notes.txt"), ("/", "/etc/motd"), ("/data", "/tmp/x.log")):
        if tool == "write_file" and text == "":
            assert C.command(act(tool, path=path, text=text), cwd).startswith("touch ")
            continue
        cmd = expressible(act(tool, path=path, text=text), cwd)
        assert cmd.startswith("echo ") and (">>" if tool == "append_file" else ">") in cmd


# Texts no one-line echo form reads back exactly: None, never a command that means more.
@pytest.mark.parametrize("text", ["two\nlines", "it", "That", "everything", "all",
                                  """both ' and " """])
def test_echo_texts_without_a_form(text):
    assert roundtrip(act("write_file", path="/data/n.txt", text=text), "/data") is None


def test_echo_path_with_space_has_no_form():
    # the echo form takes its target path as one raw word
    assert roundtrip(act("append_file", path="/data/a b.txt", text="x"), "/data") is None


@pytest.mark.parametrize("sig", [None] + SIGNALS)
def test_kill(sig):
    extra = {"signal": sig} if sig else {}
    for pid in PIDS:
        cmd = expressible(act("kill_process", pid=pid, **extra), "/")
        assert cmd.startswith("kill ")
    for name in NAMES:
        expressible(act("kill_process", name=name, **extra), "/data")


def test_kill_unknown_signal_has_no_form():
    assert roundtrip(act("kill_process", pid=5, signal="BOGUS"), "/") is None


@pytest.mark.parametrize("cwd", CWDS)
def test_start_program(cwd):
    for path in ("/data/job.sh", "/data/bin/agent", "/opt/x y/run", "/home/pi/a.py", "/data/it"):
        expressible(act("start_program", path=path), cwd)
        for args in (["--fast"], ["-v", "--out=/tmp/x"], ["input file.txt"], ["a", "b"],
                     ["-n", "5", "--name", "日本"]):
            expressible(act("start_program", path=path, args=args), cwd)
    assert C.command(act("start_program", path="/data/job.sh", args=["--fast"]), "/data") == \
        "./job.sh --fast"


def test_start_program_gaps():
    # three plain words after the program read as English; an empty args list is no args
    assert roundtrip(act("start_program", path="/data/a", args=["x", "y", "z"]), "/") is None
    assert roundtrip(act("start_program", path="/data/a", args=[]), "/") is None


def test_priority():
    for pid in PIDS:
        expressible(act("set_priority", pid=pid), "/")
        for nice in (-20, -5, 0, 1, 5, 19):
            expressible(act("set_priority", pid=pid, nice=nice), "/")
    assert C.command(act("set_priority", pid=5, nice=5), "/") == "renice -n 5 -p 5"


def test_devices_mount_links():
    assert expressible(act("list_devices", kind="block"), "/") == "lsblk"
    assert expressible(act("list_devices", kind="network"), "/") == "ip link"
    for kind in ("serial", "all", None):
        a = act("list_devices", kind=kind) if kind else act("list_devices")
        assert roundtrip(a, "/") is None
    for dev in ("/dev/sdb1", "/dev/mmcblk0p1", "/dev/disk/by-label/my disk"):
        for fst in (None, "vfat", "ext4", "tmpfs"):
            extra = {"fstype": fst} if fst else {}
            for tgt in ("/mnt", "/mnt/usb", "/data/usb stick", "/media/日本"):
                expressible(act("mount", device=dev, target=tgt, **extra), "/data")
    expressible(act("mount", device="tmpfs", target="/mnt/t", fstype="tmpfs"), "/")
    expressible(act("mount", device="proc", target="/proc", fstype="proc"), "/")
    for iface in ("eth0", "wlan0", "enp0s3", "br-lan", "usb0"):
        expressible(act("link_up", interface=iface), "/")
        expressible(act("link_down", interface=iface), "/")


def test_time_hostname_and_the_rest():
    for t in ("2024-01-02 10:00", "2025-12-31 23:59:59", "1999-01-01 00:00"):
        assert expressible(act("set_time", time=t), "/") == f"date -s '{t}'"
    for name in ("pi", "pi-box", "node1.lan", "my_host", "日本"):
        expressible(act("set_hostname", name=name), "/")
    for tool in ("list_processes", "system_info", "get_time", "kernel_log", "reboot",
                 "poweroff", "help", "undo"):
        expressible(act(tool), "/data")
    expressible(act("disk_usage"), "/")


def test_no_form_for_words():
    assert C.command(act("answer", text="hi"), "/") is None
    assert C.command(act("clarify", question="Which file?"), "/") is None
    assert C.command({"tool": "nonsense", "args": {}}, "/") is None
    assert C.command(act("read_file", path="relative.txt"), "/") is None   # plans are absolute
    assert C.command(act("read_file", path="/data/../etc"), "/") is None   # not normalised


def test_commands_follow_cd():
    plan = [act("make_dir", path="/data/tmp"), act("change_dir", path="/data/tmp"),
            act("write_file", path="/data/tmp/a.txt", text="hi"), act("list_dir", path="/data/tmp")]
    out = C.commands(plan, "/data")
    assert out == "mkdir tmp\ncd tmp\necho 'hi' > a.txt\nls"
    cwd = "/data"
    for line, a in zip(out.split("\n"), plan):
        assert parse_shell(line, Context(cwd=cwd)) == [a]
        if a["tool"] == "change_dir":
            cwd = a["args"]["path"]
    assert C.commands(plan + [act("answer", text="done")], "/data") is None
    assert C.commands([], "/") is None


def test_prompt_is_short_chatml():
    p = C.prompt("delete notes.txt", "/data")
    assert p == "<|im_start|>user\ncwd=/data\ndelete notes.txt<|im_end|>\n<|im_start|>assistant\n"
    assert C.answer([act("remove", path="/data/notes.txt")], "/data") == "rm notes.txt<|im_end|>"
    assert C.format_for("llama") is C.CHATML and C.format_for(None) is C.CHATML


def test_prompt_in_gemma_turns():
    """Gemma's own turn markers (its chat template's), with its BOS token first."""
    g = C.format_for("gemma3")
    assert g is C.GEMMA and g.bos and C.format_for("gemma3_text") is g
    assert C.prompt("delete notes.txt", "/data", g) == \
        "<start_of_turn>user\ncwd=/data\ndelete notes.txt<end_of_turn>\n<start_of_turn>model\n"
    assert C.answer([act("remove", path="/data/notes.txt")], "/data", g) == "rm notes.txt<end_of_turn>"


def _cases(name):
    return [json.loads(line) for line in (EVAL / name).read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["cases.jsonl", "heldout_dev.jsonl", "heldout_test.jsonl",
                                  "heldout.jsonl"])
def test_eval_plans_round_trip(name):
    cases = _cases(name)
    have = 0
    for c in cases:
        out = C.commands(c["expect"], c["cwd"])
        if out is None:
            assert any(C.command(a, c["cwd"]) is None for a in c["expect"])
            continue
        have += 1
        cwd = c["cwd"]
        lines = out.split("\n")
        assert len(lines) == len(c["expect"])
        for line, a in zip(lines, c["expect"]):
            assert parse_shell(line, Context(cwd=cwd)) == [a], (c["request"], line)
            if a["tool"] == "change_dir":
                cwd = a["args"]["path"]
    # every plan without words (answer, clarify) or an unlisted device kind has a form
    wordless = [c for c in cases if not any(
        a["tool"] in ("answer", "clarify") or
        (a["tool"] == "list_devices" and a["args"].get("kind") not in ("block", "network"))
        for a in c["expect"])]
    assert have == len(wordless), (name, have, len(wordless))
    if name == "cases.jsonl":
        assert have == 387
