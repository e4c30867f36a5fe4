"""Turn the man-page phrases into the frozen held-out cases (heldout_en.jsonl, heldout_zh.jsonl).

    python3 tests/eval/manpages/build.py [--phrases FILE] [--out-dir DIR]

Nothing here writes a request sentence. A request is a man-page phrase from phrases.jsonl,
verbatim, joined with a concrete value in one of a few fixed forms:

    1 value      "<phrase> <v>"          "<phrase>: <v>"            (zh: "<phrase> <v>", "<phrase>：<v>")
    2 values     "<phrase> <a> <b>"      "<phrase>: <a> <b>"        (in the command's own order)
    no value     "<phrase>" as written, and with its first letter lower-cased and its final stop dropped
    fill         the page's own metavariable (SOURCE, DEST, FILE(s), dir, NAME, STRING, 源文件 ...)
                 replaced by the value, in the sentence as written ("Rename SOURCE to DEST" ->
                 "Rename notes.txt to notes.bak"); in Chinese a Latin value is set off by spaces,
                 as the zh pages themselves do

Before joining, the phrase's final stop is dropped ("." or "。"), and where the table says so two
more mechanical cuts apply: "clause" keeps the text before the first ", " / "; " / " (" (zh "，"
"；" "（"), e.g. "Reboot the machine, regardless of which ..." -> "Reboot the machine"; "alt"
keeps one side of an "X or Y" the page offers ("change the state of the device to UP or DOWN"
-> "... to UP"). The values come from the fixed lists below, drawn with a fixed seed.

The table RULES is the only place where meaning is decided: which phrase (lang, command, key)
means which tool, and what kind of value it takes. A phrase is there only when, read as a
request, it can mean one thing. Expected paths are absolute: relative values are resolved
against the case's cwd, "~" is /data.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import posixpath
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

SEED = 20260301
HOME = "/data"

# ------------------------------------------------------------------ values (fixed)

FILES = ["notes.txt", "report.pdf", ".bashrc", "archive.tar.gz", "données.txt", "日志.txt",
         "/etc/hostname", "/data/logs/app.log", "~/todo.md", "config.v2.yaml"]
DIRS = ["photos", "projects", ".cache", "相册", "build-2026", "/var/log", "/data/backup",
        "~/music", "/srv/www", "old.d"]
DEST_FILES = ["notes.bak", "backup/report.pdf", "/tmp/copy.txt", "报告.txt", "~/saved.txt",
              "archive.old.tar.gz"]
DEST_DIRS = ["/data/backup", "archive", "/mnt/usb/photos", "副本", "~/old"]
PIDS = [1234, 4242, 877, 31337, 2048, 65]
PNAMES = ["nginx", "python3", "sshd", "node", "backup.sh"]
IFACES = ["eth0", "wlan0", "eth1", "usb0"]
DEVICES = ["/dev/sda1", "/dev/vdb", "/dev/mmcblk0p1", "/dev/sdb2"]
MOUNTS = ["/mnt/usb", "/data/media/usb", "/mnt/disk", "/media/stick"]
TIMES = ["2026-03-01 08:30", "2026-12-31 23:59:59", "2027-01-15 06:00"]
HOSTS = ["kiosk", "pi-lab", "node7", "build-box"]
PATTERNS = ["*.log", "*.jpg", "core*", "report-*.txt", "*.tar.gz"]
PATHS = FILES + DIRS

# ------------------------------------------------------------------ the table

# (lang, command, key, tool, shape, options)
# shape: what the phrase takes and how it becomes arguments
#   "none"          no value
#   "dir", "file", "path", "mnt"        one path value -> args[arg] (default arg "path")
#   "pid", "pname", "iface", "time", "host", "pattern"   one value
#   "src_dst", "src_dst_dir", "dev_mnt"                   two values
# options: "opt": the phrase is also used with no value (list_dir -> cwd, disk_usage -> {})
#          "clause": cut at the first clause break; "alt": (text, keep) pick one side of "X or Y"
#          "fill": {metavariable: slot} to substitute instead of joining
#          "args": fixed extra arguments (list_devices kind)
#          "two": also joined with two values of this kind (find: "<dir> <pattern>"; alone, the
#                 pattern is searched for under the cwd)
RULES = [
    # --- English
    ("en", "ls", "NAME", "list_dir", "dir", {"opt": True}),
    ("en", "ls", "D1.1", "list_dir", "dir", {"clause": True, "fill": {"FILEs": "v"}}),
    ("en", "ls", "-l", "list_dir", "dir", {}),
    ("en", "ls", "-R, --recursive", "list_dir", "dir", {}),
    ("en", "ls", "-f", "list_dir", "dir", {}),
    ("en", "ls", "-1", "list_dir", "dir", {}),
    ("en", "ls", "-C", "list_dir", "dir", {}),
    ("en", "ls", "-x", "list_dir", "dir", {}),
    ("en", "cat", "NAME", "read_file", "file", {}),
    ("en", "cat", "D1.1", "read_file", "file", {"fill": {"FILE(s)": "v"}}),
    ("en", "head", "NAME", "read_file", "file", {}),
    ("en", "tail", "NAME", "read_file", "file", {}),
    ("en", "mkdir", "NAME", "make_dir", "dir", {}),
    ("en", "mkdir", "D1.1", "make_dir", "dir", {"fill": {"DIRECTORY(ies)": "v"}}),
    ("en", "rm", "NAME", "remove", "path", {}),
    ("en", "rm", "O0.1", "remove", "file", {"fill": {"FILE(s)": "v"}}),
    ("en", "rm", "-r, -R, --recursive", "remove", "dir", {}),
    ("en", "rm", "-d, --dir", "remove", "dir", {}),
    ("en", "rmdir", "NAME", "remove", "dir", {}),
    ("en", "rmdir", "D1.1", "remove", "dir", {"fill": {"DIRECTORY(ies)": "v"}}),
    ("en", "mv", "NAME", "move", "src_dst", {}),
    ("en", "mv", "D1.1", "move", "src_dst", {"clause": True, "fill": {"SOURCE": "a", "DEST": "b"}}),
    ("en", "cp", "NAME", "copy", "src_dst", {}),
    ("en", "cp", "D1.1", "copy", "src_dst", {"clause": True, "fill": {"SOURCE": "a", "DEST": "b"}}),
    ("en", "cp", "-R, -r, --recursive", "copy", "src_dst_dir", {}),
    ("en", "stat", "NAME", "file_info", "file", {}),
    ("en", "find", "NAME", "find_files", "pattern", {"two": "dir_pattern"}),
    ("en", "df", "NAME", "disk_usage", "path", {"opt": True}),
    ("en", "du", "NAME", "disk_usage", "path", {"opt": True}),
    ("en", "cd", "builtin:cd", "change_dir", "dir", {"fill": {"dir": "v"}}),
    ("en", "ps", "NAME", "list_processes", "none", {}),
    ("en", "ps", "-e", "list_processes", "none", {}),
    ("en", "top", "NAME", "list_processes", "none", {}),
    ("en", "pstree", "NAME", "list_processes", "none", {}),
    ("en", "kill", "NAME", "kill_process", "pid", {}),
    ("en", "killall", "NAME", "kill_process", "pname", {}),
    ("en", "renice", "NAME", "set_priority", "pid", {}),
    ("en", "uname", "NAME", "system_info", "none", {}),
    ("en", "uname", "D1.1", "system_info", "none", {}),
    ("en", "uname", "-s, --kernel-name", "system_info", "none", {}),
    ("en", "uname", "-n, --nodename", "system_info", "none", {}),
    ("en", "uname", "-r, --kernel-release", "system_info", "none", {}),
    ("en", "uname", "-v, --kernel-version", "system_info", "none", {}),
    ("en", "uptime", "NAME", "system_info", "none", {}),
    ("en", "uptime", "-p, --pretty", "system_info", "none", {}),
    ("en", "free", "NAME", "system_info", "none", {}),
    ("en", "free", "-b, --bytes", "system_info", "none", {}),
    ("en", "free", "-m, --mebi", "system_info", "none", {}),
    ("en", "free", "-g, --gibi", "system_info", "none", {}),
    ("en", "lscpu", "NAME", "system_info", "none", {}),
    ("en", "hostname", "NAME", "system_info", "none", {}),
    ("en", "hostname", "-s, --short", "system_info", "none", {}),
    ("en", "hostnamectl", "status", "system_info", "none", {}),
    ("en", "hostname", "NAME", "set_hostname", "host", {}),
    ("en", "lsblk", "NAME", "list_devices", "none", {"args": {"kind": "block"}}),
    ("en", "ifconfig", "-a", "list_devices", "none", {"clause": True, "args": {"kind": "network"}}),
    ("en", "mount", "NAME", "mount", "dev_mnt", {}),
    ("en", "umount", "NAME", "unmount", "mnt", {}),
    ("en", "ip-link", "up and down", "link_up", "iface", {"alt": ("UP or DOWN", 0)}),
    ("en", "ip-link", "up and down", "link_down", "iface", {"alt": ("UP or DOWN", 1)}),
    ("en", "date", "NAME", "get_time", "none", {}),
    ("en", "timedatectl", "status", "get_time", "none", {"clause": True}),
    ("en", "date", "NAME", "set_time", "time", {}),
    ("en", "date", "-s, --set=STRING", "set_time", "time", {"fill": {"STRING": "v"}}),
    ("en", "timedatectl", "set-time [TIME]", "set_time", "time", {}),
    ("en", "dmesg", "NAME", "kernel_log", "none", {}),
    ("en", "dmesg", "-k, --kernel", "kernel_log", "none", {}),
    ("en", "dmesg", "-r, --raw", "kernel_log", "none", {"clause": True}),
    ("en", "reboot", "--reboot", "reboot", "none", {"clause": True}),
    ("en", "shutdown", "-r, --reboot", "reboot", "none", {}),
    ("en", "systemctl", "reboot", "reboot", "none", {}),
    ("en", "reboot", "-p, --poweroff", "poweroff", "none", {"clause": True}),
    ("en", "shutdown", "-P, --poweroff", "poweroff", "none", {"clause": True}),
    ("en", "systemctl", "poweroff", "poweroff", "none", {}),
    ("en", "help", "builtin:help", "help", "none", {}),
    # --- 中文 (manpages-zh, zh_CN)
    ("zh", "ls", "NAME", "list_dir", "dir", {"opt": True}),
    ("zh", "ls", "D1.1", "list_dir", "dir", {"fill": {"文件": "v"}}),
    ("zh", "ls", "-l", "list_dir", "dir", {}),
    ("zh", "ls", "-R, --recursive", "list_dir", "dir", {}),
    ("zh", "ls", "-f", "list_dir", "dir", {}),
    ("zh", "ls", "-1", "list_dir", "dir", {}),
    ("zh", "ls", "-C", "list_dir", "dir", {}),
    ("zh", "ls", "-x", "list_dir", "dir", {}),
    ("zh", "cat", "NAME", "read_file", "file", {}),
    ("zh", "head", "NAME", "read_file", "file", {}),
    ("zh", "tail", "NAME", "read_file", "file", {}),
    ("zh", "mkdir", "NAME", "make_dir", "dir", {}),
    ("zh", "rm", "NAME", "remove", "path", {}),
    ("zh", "rm", "O0.1", "remove", "file", {}),
    ("zh", "rm", "-r, -R, --recursive", "remove", "dir", {}),
    ("zh", "rm", "-d, --dir", "remove", "dir", {}),
    ("zh", "rmdir", "NAME", "remove", "dir", {}),
    ("zh", "mv", "NAME", "move", "src_dst", {}),
    ("zh", "mv", "D1.1", "move", "src_dst", {"clause": True, "fill": {"源文件": "a", "目标文件": "b"}}),
    ("zh", "cp", "NAME", "copy", "src_dst", {}),
    ("zh", "cp", "D1.1", "copy", "src_dst", {"clause": True, "fill": {"来源文件": "a", "目标处": "b"}}),
    ("zh", "cp", "-R, -r, --recursive", "copy", "src_dst_dir", {}),
    ("zh", "stat", "NAME", "file_info", "file", {}),
    ("zh", "df", "NAME", "disk_usage", "path", {"opt": True}),
    ("zh", "du", "NAME", "disk_usage", "path", {"opt": True}),
    ("zh", "cd", "builtin:cd", "change_dir", "dir", {"fill": {"dir": "v"}}),
    ("zh", "kill", "NAME", "kill_process", "pid", {}),
    ("zh", "killall", "NAME", "kill_process", "pname", {}),
    ("zh", "uname", "NAME", "system_info", "none", {}),
    ("zh", "uname", "D1.1", "system_info", "none", {}),
    ("zh", "uname", "-s, --kernel-name", "system_info", "none", {}),
    ("zh", "uname", "-n, --nodename", "system_info", "none", {}),
    ("zh", "uname", "-r, --kernel-release", "system_info", "none", {}),
    ("zh", "uname", "-v, --kernel-version", "system_info", "none", {}),
    ("zh", "uptime", "NAME", "system_info", "none", {}),
    ("zh", "free", "NAME", "system_info", "none", {}),
    ("zh", "hostname", "NAME", "system_info", "none", {}),
    ("zh", "hostname", "-s,--short", "system_info", "none", {}),
    ("zh", "hostnamectl", "status", "system_info", "none", {}),
    ("zh", "hostname", "NAME", "set_hostname", "host", {}),
    ("zh", "hostnamectl", "set-hostname NAME", "set_hostname", "host", {"fill": {"NAME": "v"}}),
    ("zh", "umount", "NAME", "unmount", "mnt", {}),
    ("zh", "date", "NAME", "get_time", "none", {}),
    ("zh", "timedatectl", "status", "get_time", "none", {"clause": True}),
    ("zh", "date", "NAME", "set_time", "time", {}),
    ("zh", "date", "-s, --set=字符串", "set_time", "time", {"fill": {"字符串": "v"}}),
    ("zh", "timedatectl", "set-time [TIME]", "set_time", "time", {"clause": True}),
    ("zh", "halt", "--reboot", "reboot", "none", {}),
    ("zh", "shutdown", "-r, --reboot", "reboot", "none", {}),
    ("zh", "systemctl", "reboot [arg]", "reboot", "none", {}),
    ("zh", "halt", "-p, --poweroff", "poweroff", "none", {}),
    ("zh", "shutdown", "-P, --poweroff", "poweroff", "none", {"clause": True}),
    ("zh", "systemctl", "poweroff", "poweroff", "none", {}),
    ("zh", "help", "builtin:help", "help", "none", {}),
]

# ------------------------------------------------------------------ mechanics

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def drop_stop(text: str) -> str:
    return re.sub(r"\s*[.。．]+$", "", text.strip())


def clause(text: str, lang: str) -> str:
    cut = r"，|；|（|\(" if lang == "zh" else r", |; | \("
    return re.split(cut, text, maxsplit=1)[0].strip()


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def resolve(value: str, cwd: str) -> str:
    if value == "~" or value.startswith("~/"):
        value = HOME + value[1:]
    return posixpath.normpath(posixpath.join(cwd, value))


def embed(text: str, start: int, end: int, value: str, lang: str) -> tuple[str, int]:
    """Put value in place of text[start:end]; in zh, a value next to CJK gets spaces."""
    before, after = text[:start], text[end:]
    v = value
    if lang == "zh":
        if before and CJK.match(before[-1]) and not CJK.match(v[0]):
            v = " " + v
        if after and CJK.match(after[0]) and not CJK.match(v[-1]):
            v = v + " "
        if before and CJK.match(before[-1]) and CJK.match(v[0]):
            v = " " + v
        if after and CJK.match(after[0]) and CJK.match(v[-1]):
            v = v + " "
    return before + v + after, len(before) + len(v)


def fill(text: str, mapping: dict[str, str], values: dict[str, str], lang: str) -> str | None:
    keys = sorted(mapping, key=len, reverse=True)
    pat = "|".join((r"(?<![\w])" + re.escape(k) + r"(?![\w])") if re.match(r"^\w+$", k, re.ASCII)
                   else re.escape(k) for k in keys)
    out, pos, seen = text, 0, set()
    while True:
        m = re.compile(pat).search(out, pos)
        if not m:
            break
        k = m.group(0)
        if k in seen:  # a metavariable the page repeats ("SOURCE(s)") is not ours to fill twice
            pos = m.end()
            continue
        seen.add(k)
        out, pos = embed(out, m.start(), m.end(), str(values[mapping[k]]), lang)
    return out if seen == set(mapping) else None


def join_forms(lang: str) -> list[str]:
    colon = "：" if lang == "zh" else ": "
    return ["{p} {v}", "{p}" + colon + "{v}"]


def pick(rng: random.Random, pool: list, n: int) -> list:
    return rng.sample(pool, min(n, len(pool)))


def cwd_for(rng: random.Random, *values) -> str:
    """Relative values live under /data; a case with only absolute values may be asked from /."""
    if all(isinstance(v, str) and v.startswith(("/", "~")) for v in values if isinstance(v, str)):
        return rng.choice(["/", "/data"])
    return "/data"


def expect_for(tool: str, shape: str, vals: dict, cwd: str, extra: dict) -> list[dict]:
    args: dict = dict(extra)
    if shape in ("dir", "file", "path"):
        args["path"] = resolve(vals["v"], cwd)
    elif shape == "mnt":
        args["target"] = resolve(vals["v"], cwd)
    elif shape in ("src_dst", "src_dst_dir"):
        args["src"], args["dst"] = resolve(vals["a"], cwd), resolve(vals["b"], cwd)
    elif shape == "dev_mnt":
        args["device"], args["target"] = vals["a"], resolve(vals["b"], cwd)
    elif shape == "pid":
        args["pid"] = vals["v"]
    elif shape == "pname":
        args["name"] = vals["v"]
    elif shape == "iface":
        args["interface"] = vals["v"]
    elif shape == "time":
        args["time"] = vals["v"]
    elif shape == "host":
        args["name"] = vals["v"]
    elif shape == "pattern":
        args["pattern"] = vals["v"]
        args["path"] = resolve(vals.get("d", "."), cwd)
    return [{"tool": tool, "args": args}]


POOLS = {"dir": DIRS, "file": FILES, "path": PATHS, "mnt": MOUNTS, "pid": PIDS, "pname": PNAMES,
         "iface": IFACES, "time": TIMES, "host": HOSTS, "pattern": PATTERNS}


def draw(rng: random.Random, shape: str, n: int) -> list[dict]:
    if shape in POOLS:
        return [{"v": v} for v in pick(rng, POOLS[shape], n)]
    if shape == "src_dst":
        return [{"a": a, "b": b} for a, b in zip(pick(rng, FILES, n), pick(rng, DEST_FILES, n))]
    if shape == "src_dst_dir":
        return [{"a": a, "b": b} for a, b in zip(pick(rng, DIRS, n), pick(rng, DEST_DIRS, n))]
    if shape == "dev_mnt":
        return [{"a": a, "b": b} for a, b in zip(pick(rng, DEVICES, n), pick(rng, MOUNTS, n))]
    if shape == "dir_pattern":
        return [{"d": d, "v": p} for d, p in zip(pick(rng, DIRS, n), pick(rng, PATTERNS, n))]
    raise ValueError(shape)


def value_text(shape: str, vals: dict) -> str:
    if "a" in vals:
        return f"{vals['a']} {vals['b']}"
    if "d" in vals:
        return f"{vals['d']} {vals['v']}"
    return str(vals["v"])


def build(phrases: list[dict], rules: list[tuple] | None = None, seed: int = SEED,
          tag: str = "manpage") -> dict[str, list[dict]]:
    """The cases of `rules` (default RULES) over `phrases`; tests/eval/outside/build.py uses
    the same mechanics with its own table and phrases."""
    index = {(p["lang"], p["command"], p["key"]): p for p in phrases}
    rng = random.Random(seed)
    out: dict[str, list[dict]] = {"en": [], "zh": []}
    seen_requests: set[tuple[str, str]] = set()
    used_phrases: set[tuple[str, str, str]] = set()   # (lang, tool, normalised phrase)

    def emit(lang, request, cwd, expect, p, form, text):
        if (lang, request) in seen_requests:
            return
        seen_requests.add((lang, request))
        out[lang].append({"request": request, "cwd": cwd, "expect": expect, "tag": tag,
                          "source": {"command": p["command"], "page": p["page"], "section": p["section"],
                                     "key": p["key"], "text": p["text"], "package": p["package"],
                                     "version": p["version"], "phrase": text, "form": form}})

    for lang, command, key, tool, shape, opt in (RULES if rules is None else rules):
        p = index.get((lang, command, key))
        if p is None:
            raise SystemExit(f"phrase not found: {lang} {command} {key!r}")
        text = p["text"]
        if "alt" in opt:
            both, keep = opt["alt"]
            if both not in text:
                raise SystemExit(f"{lang} {command} {key}: no {both!r} in {text!r}")
            text = text.replace(both, both.split(" or ")[keep])
        if opt.get("clause"):
            text = clause(text, lang)
        text = drop_stop(text)
        norm = (lang, tool, lower_first(text))
        if norm in used_phrases:  # the same words from another page (rmdir = rm -d, stat NAME = D1.1)
            continue
        used_phrases.add(norm)
        extra = opt.get("args", {})
        if shape == "none" or opt.get("opt"):
            # as written (after any declared cut), and lower-cased without its final stop
            written = p["text"] if not ("alt" in opt or opt.get("clause")) else text
            for form, req in (("as-written", written), ("lower", lower_first(text))):
                cwd = rng.choice(["/", "/data"])
                args = dict(extra)
                if tool == "list_dir":
                    args["path"] = cwd
                emit(lang, req, cwd, [{"tool": tool, "args": args}], p, form, text)
            if shape == "none":
                continue
        if "fill" in opt:
            for vals in draw(rng, shape, 3):
                req = fill(text, opt["fill"], vals, lang)
                if req is None:
                    raise SystemExit(f"{lang} {command} {key}: cannot fill {opt['fill']} in {text!r}")
                cwd = cwd_for(rng, *vals.values())
                emit(lang, req, cwd, expect_for(tool, shape, vals, cwd, extra), p, "fill", text)
            continue
        for form in join_forms(lang):
            for vals in draw(rng, shape, 2):
                req = form.format(p=text, v=value_text(shape, vals))
                cwd = cwd_for(rng, *vals.values())
                emit(lang, req, cwd, expect_for(tool, shape, vals, cwd, extra), p, form, text)
        if "two" in opt:
            for form in join_forms(lang):
                for vals in draw(rng, opt["two"], 1):
                    req = form.format(p=text, v=value_text(opt["two"], vals))
                    cwd = cwd_for(rng, vals["d"])
                    emit(lang, req, cwd, expect_for(tool, shape, vals, cwd, extra), p, form, text)
    return out


def write_sets(sets: dict[str, list[dict]], out_dir: str, prefix: str) -> None:
    """Validate every case and write <prefix>_<lang>.jsonl, printing counts and sha256."""
    from llmos_init.tools.registry import validate_plan
    for lang, cases in sets.items():
        for c in cases:
            validate_plan(c["expect"])
        path = os.path.join(out_dir, f"{prefix}_{lang}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for c in cases:
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        per_tool: dict[str, int] = {}
        for c in cases:
            per_tool[c["expect"][0]["tool"]] = per_tool.get(c["expect"][0]["tool"], 0) + 1
        print(f"{path}: {len(cases)} cases, sha256 {digest}")
        print("  " + ", ".join(f"{t} {n}" for t, n in sorted(per_tool.items())))


def cli(argv: list[str] | None, description: str, here: str, prefix: str, **build_args) -> int:
    """A builder's command line: --phrases (default <here>/phrases.jsonl) and --out-dir
    (default <here>), then build(phrases, **build_args) written as <prefix>_<lang>.jsonl."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--phrases", default=os.path.join(here, "phrases.jsonl"))
    ap.add_argument("--out-dir", default=here)
    args = ap.parse_args(argv)
    with open(args.phrases, encoding="utf-8") as f:
        phrases = [json.loads(line) for line in f if line.strip()]
    write_sets(build(phrases, **build_args), args.out_dir, prefix)
    return 0


def main(argv: list[str] | None = None) -> int:
    return cli(argv, __doc__.splitlines()[0], HERE, "heldout")


if __name__ == "__main__":
    sys.exit(main())
