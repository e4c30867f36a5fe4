"""The training corpus: sentence templates x slot values x noise -> canonical commands.

    python -m mkimage.train.corpus [--seed N] [--out mkimage/train/data] [--train N] [--val N]

Writes train.jsonl and val.jsonl, one pair a line:
    {"request", "cwd", "command", "lang", "template", "plan"}
where command = canonical.commands(plan, cwd) (or canonical.NO_COMMAND, "?", for a request
that asks for no command: a question about an action, a negation, a statement, chat), and
summary.json with the counts per tool and language.

Where the sentences come from:
  * the planner's hassil templates (llmos_init/planner/sentences/<lang>/<tool>.yaml): each
    sentence of each data block is sampled at random (alternatives, optionals, <rules>),
    its list references kept as slots, which are filled here with generated values;
  * terse and descriptive forms and "X: value" forms written below (MANUAL), in hassil
    syntax, in this file's own words (none taken from the man-page held-out set);
  * requests that must produce no command (NO_COMMAND_FORMS);
  * multi-step requests: two or three steps of the same split joined by "then", "and",
    "；然后"... (cwd following cd).
The plan of every request is built from the slot values chosen (never by running the
matcher); templates.match is then run on each step as a check: where it matches it must
agree, and a pair where it does not is dropped (and counted).  So is a pair with no
canonical form.

The split is by template: for each tool and language a seeded ~15% of its template
sentences (never its only one) give validation pairs only.  Same seed, same bytes.
"""
from __future__ import annotations

import argparse
import collections
import functools
import hashlib
import json
import os
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from llmos_init.planner import canonical, templates
from llmos_init.planner.grounding import resolve
from llmos_init.planner.parser import Context

from . import docstyle, source

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).with_name("data")
# The frozen held-out set (tests/eval/manpages) is never read here: the hand-written forms
# below are this file's own wording (tests/train/test_corpus.py checks that no generated
# request is a held-out request).
SEED = 20261201
VAL_SHARE = 0.15
NO_COMMAND_SHARE = 0.12
MULTI_SHARE = 0.10
# the share of steps drawn from the documentation-register forms (docstyle.py); 0 draws none
# and generates corpus-v1's bytes exactly (no random number is drawn for the choice)
DOC_SHARE = 0.35
CWDS = ["/", "/data", "/data", "/data/docs", "/tmp"]

# ---------------------------------------------------------------- slot values

FILES = ["notes.txt", "report.pdf", "todo.md", "a.txt", "b.txt", "data.csv", "config.yaml",
         "app.log", "main.py", "script.sh", "photo.jpg", "index.html", "readme.md", "setup.cfg",
         "backup.tar.gz", "draft.docx", "old.bak", "server.conf", "music.mp3", "list.json",
         "v1.2.3.txt", "my-notes.txt", "my_file.txt", "2024-report.pdf", "x.c", "Makefile.am",
         "café.txt", "données.csv", "résumé.pdf", "naïve.md", "日记.txt", "报告.pdf", "笔记.md",
         "数据.csv", "照片.jpg", "测试.py", "Übung.txt", "año.log"]
HIDDEN = [".bashrc", ".profile", ".env", ".gitignore", ".hidden.txt", ".config.json"]
SPACED_FILES = ["my notes.txt", "old report.pdf", "to do.md", "holiday photo.jpg",
                "meeting notes 2024.txt", "new file.txt", "会议 记录.txt"]
DIRS = ["docs", "projects", "build", "src", "backup", "music", "photos", "logs", "work",
        "archive", "downloads", "notes", "scripts", "tmp2", "cache", "old", "reports", "web",
        "photos/2024", "projects/llmos", "src/lib", "v2", "data2", "bin", "out", "assets",
        "Dokumente", "Musik", "projets", "fotos"]
SPACED_DIRS = ["my docs", "old stuff", "new folder", "project files", "照片 2024"]
CJK_DIRS = ["项目", "文档", "备份", "照片", "工作", "音乐", "下载"]       # quoted unless set off
CJK_NAMES = ["相片", "资料", "旧文件", "课件", "视频", "截图", "日志", "草稿", "合同", "素材"]  # set off only
ABS_FILES = ["/etc/hostname", "/etc/fstab", "/var/log/syslog", "/var/log/messages",
             "/tmp/out.log", "/tmp/x.txt", "/data/notes.txt", "/data/docs/report.pdf",
             "/etc/os-release", "/proc/cpuinfo", "/data/projects/main.py", "/opt/app/config.yaml"]
ABS_DIRS = ["/etc", "/var/log", "/tmp", "/data", "/data/docs", "/opt", "/opt/tools", "/mnt",
            "/usr/bin", "/data/projects", "/data/backup", "/srv/www", "/home", "/var/tmp",
            "/data/music", "/boot"]
PROGRAMS = ["./run.sh", "./build.sh", "./server", "./start.py", "/data/bin/app", "/usr/bin/top",
            "/data/scripts/backup.sh", "./tools/deploy.sh", "/opt/app/bin/worker", "./a.out",
            "./hello.py", "/data/game", "./测试.py", "./my-tool"]
PROGRAM_ARGS = [["--fast"], ["-v"], ["input.txt"], ["--port", "8080"], ["-n", "3"], ["all"],
                ["--config", "/etc/app.conf"], ["hello world"], ["$HOME"]]
PROCESS_NAMES = ["httpd", "nginx", "python3", "sshd", "worker", "my-app", "node", "redis-server",
                 "crond", "backup.sh", "firefox", "java", "postgres", "dropbear", "syslogd",
                 "udhcpc", "top", "vim", "server", "mpd"]
INTERFACES = ["eth0", "eth1", "wlan0", "enp0s3", "lo", "usb0", "wlp2s0", "br0", "ens33",
              "enp3s0", "wlan1", "eth0.100"]
HOSTNAMES = ["llmos", "pi4", "my-box", "node-01", "devbox", "kitchen-pi", "server1", "alpha",
             "build-host", "garage", "web01", "nas", "lab-7", "rpi"]
DEVICES = ["/dev/sda1", "/dev/sdb1", "/dev/sdb", "/dev/mmcblk0p1", "/dev/vdb1", "/dev/nvme0n1p2",
           "/dev/sdc2", "/dev/loop0", "/dev/mmcblk1p2", "/dev/vda3"]
MOUNTPOINTS = ["/mnt", "/mnt/usb", "/media/disk", "/data/mnt", "/mnt/backup", "/media/sd",
               "/mnt/data", "/srv/disk"]
FSTYPES = ["vfat", "ext4", "ntfs", "exfat", "iso9660", "ext2", "btrfs"]
PATTERNS = ["*.txt", "*.log", "report*", "*.py", "notes.md", "*2024*", "IMG_*.jpg", "*.tar.gz",
            "config.*", "*.md", "main.c", "*.bak", "test_*.py", "*.csv", "Makefile", "*~",
            "*.jpg", "data?.csv", "*.conf", "*.sh"]
TEXTS = ["hello", "hello world", "TODO: buy milk", "print('hi')", "a=$(b); c && d", "it's done",
         'say "hi"', "rm -rf /", "x > y", "#!/bin/sh", "50% off", "line with | pipe",
         "done", "remember the meeting at 10", "version=1.2.3", "echo $PATH", "foo; bar",
         "key: value", "buy eggs & bread", "DEBUG=1", "`date`", "(1 + 2) * 3",
         "import os", "I love llmos", "name,age,city", "<b>bold</b>", "C:\\temp", "ok!",
         "don't panic", "delete everything", "kill 1", "tab\tseparated", "😀 smile",
         "你好，世界", "买牛奶", "明天开会", "测试 test", "中文内容"]
SIGNAL_WORDS = {"KILL": ["KILL", "SIGKILL", "9"], "TERM": ["TERM", "SIGTERM", "15"],
                "HUP": ["HUP", "SIGHUP", "1"], "INT": ["INT", "SIGINT", "2"],
                "STOP": ["STOP", "SIGSTOP"], "CONT": ["CONT", "SIGCONT"],
                "USR1": ["USR1", "SIGUSR1"], "USR2": ["USR2", "SIGUSR2"]}
HERE_WORDS = {"en": ["here", ".", "this directory", "the current directory", "current folder"],
              "zh": ["当前目录", "这里", "当前文件夹"]}
PARENT_WORDS = {"en": ["..", "the parent directory", "parent folder"], "zh": ["上级目录", "上一级目录"]}
ROOT_WORDS = {"en": ["/", "the root directory", "root"], "zh": ["根目录", "/"]}
QUOTE_PAIRS = {"en": [("'", "'"), ('"', '"')],
               "zh": [("'", "'"), ('"', '"'), ("“", "”"), ("「", "」")]}


@dataclass
class State:
    rng: random.Random
    lang: str
    cwd: str
    tool: str
    kind: str = ""              # "file" / "dir" for show
    has_parent: bool = False    # make_dir "x in {parent}": the path slot is a name in it
    set_off: bool = False       # the slot stands after a colon or a space and ends the clause


def _quoted(st: State, value: str) -> str:
    pairs = [(a, b) for a, b in QUOTE_PAIRS[st.lang] if a not in value and b not in value]
    if not pairs:
        return value
    a, b = st.rng.choice(pairs)
    return f"{a}{value}{b}"


def _surface(st: State, name: str, need_quote: bool = False) -> str:
    """How a name is written in the request: quoted when it must be, sometimes when not."""
    if need_quote or st.rng.random() < 0.08:
        return _quoted(st, name)
    return name


def _rel(st: State, rel: str) -> tuple[str, str]:
    """A relative name written a few ways (plain, ./, ~/, ../), with its absolute path."""
    r = st.rng.random()
    if r < 0.08 and st.cwd != "/":
        written = "./" + rel
    elif r < 0.14:
        written = "~/" + rel
    elif r < 0.19 and st.cwd != "/":
        written = "../" + rel
    else:
        written = rel
    return written, resolve(written, st.cwd)


def gen_path(st: State, kind: str) -> tuple[str, str]:
    """(as written, absolute) for a path slot; kind: file, dir, any."""
    rng = st.rng
    if kind == "any":
        kind = rng.choice(["file", "dir"])
    st.kind = kind
    r = rng.random()
    if kind == "file":
        if r < 0.2:
            p = rng.choice(ABS_FILES)
            return _surface(st, p), p
        if r < 0.27:
            name = rng.choice(HIDDEN)
        elif r < 0.37:
            name = rng.choice(SPACED_FILES)
            written, full = _rel(st, name)
            return _quoted(st, written), full
        elif r < 0.47:
            name = rng.choice(DIRS[:12]) + "/" + rng.choice(FILES)
        else:
            name = rng.choice(FILES)
        written, full = _rel(st, name)
        need = bool(templates.CJK.search(written)) and not templates.ZH_FILE.match(written)
        return _surface(st, written, need), full
    # a directory
    if r < 0.04 and st.tool in ("list_dir", "change_dir", "disk_usage", "show", "file_info"):
        w = rng.choice(HERE_WORDS[st.lang])
        return w, st.cwd
    if r < 0.07 and st.tool in ("list_dir", "change_dir", "show"):
        w = rng.choice(PARENT_WORDS[st.lang])
        return w, os.path.dirname(st.cwd.rstrip("/")) or "/"
    if r < 0.09 and st.tool in ("list_dir", "change_dir", "show", "disk_usage"):
        return rng.choice(ROOT_WORDS[st.lang]), "/"
    if r < 0.32:
        p = rng.choice(ABS_DIRS)
        return _surface(st, p), p
    if r < 0.38:
        written, full = _rel(st, rng.choice(SPACED_DIRS))
        return _quoted(st, written), full
    if r < 0.43:
        written, full = _rel(st, rng.choice(CJK_DIRS))
        return _quoted(st, written), full
    if st.set_off and st.lang == "zh" and r < 0.63:
        # a Chinese name set off by a space or a colon needs no quotes ("列出内容 相册"): the
        # way Chinese documentation and users write one after a command phrase
        written, full = _rel(st, rng.choice(CJK_DIRS + CJK_NAMES))
        return written, full
    written, full = _rel(st, rng.choice(DIRS))
    return _surface(st, written), full


def gen_text(st: State) -> tuple[str, str]:
    t = st.rng.choice(TEXTS)
    bare_ok = re.fullmatch(r"[A-Za-z0-9 ]+", t) if st.lang == "en" else re.fullmatch(r"[\u4e00-\u9fffA-Za-z0-9]+", t)
    if bare_ok and st.rng.random() < 0.4:
        return t, t
    return _quoted(st, t), t


def gen_time(st: State) -> str:
    rng = st.rng
    s = f"{rng.randint(2020, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if rng.random() < 0.9:
        s += f" {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        if rng.random() < 0.15:
            s += f":{rng.randint(0, 59):02d}"
    return s


def gen_pid(st: State) -> int:
    r = st.rng.random()
    return st.rng.randint(2, 99) if r < 0.3 else st.rng.randint(100, 9999) if r < 0.85 else st.rng.randint(10000, 65535)


def fill(st: State, slot: str) -> tuple[str, dict]:
    """A wildcard slot's text and the tool arguments it stands for."""
    rng, tool = st.rng, st.tool
    if slot in ("path", "src", "dst", "target", "parent"):
        if tool == "start_program":
            p = rng.choice(PROGRAMS)
            written = p
            full = resolve(p, st.cwd)
            if rng.random() < 0.2 and not p.startswith("./") and not templates.CJK.search(p):
                pass
            return _surface(st, written), {"path": full}
        if tool in ("mount", "unmount") and slot == "target":
            p = rng.choice(MOUNTPOINTS)
            return _surface(st, p), {"target": p}
        if tool == "find_files" or tool in ("change_dir", "list_dir", "disk_usage", "make_dir") or slot == "parent":
            kind = "dir"
        elif tool in ("read_file", "write_file", "append_file"):
            kind = "file"
        elif tool == "copy" and slot == "dst" or tool == "move" and slot == "dst":
            kind = "any"
        else:
            kind = "any"
        if tool == "make_dir" and slot == "path" and st.has_parent:
            name = rng.choice(DIRS[:20])
            return _surface(st, name), {"path": name}
        w, full = gen_path(st, kind)
        return w, {slot: full}
    if slot == "command":        # a program and its arguments, one span ("execute ./server --port 8080")
        prog = rng.choice(PROGRAMS)
        a = rng.choice(PROGRAM_ARGS)
        return " ".join([prog, *(canonical.quote(x) for x in a)]), {"path": resolve(prog, st.cwd), "args": list(a)}
    if slot == "name" and tool == "list_processes":     # "is nginx running?"
        n = rng.choice(PROCESS_NAMES)
        return _surface(st, n), {"name": n}
    if slot == "target_process":
        if rng.random() < 0.6:
            pid = gen_pid(st)
            return str(pid), {"pid": pid}
        n = rng.choice(PROCESS_NAMES)
        return n, {"name": n}
    if slot == "pid":
        pid = gen_pid(st)
        return str(pid), {"pid": pid}
    if slot == "nice":
        n = rng.randint(-20, 19)
        return str(n), {"nice": n}
    if slot == "text":
        w, t = gen_text(st)
        return w, {"text": t}
    if slot == "interface":
        i = rng.choice(INTERFACES)
        return i, {"interface": i}
    if slot == "time":
        t = gen_time(st)
        return t, {"time": t}
    if slot == "name" and tool == "kill_process":
        n = rng.choice(PROCESS_NAMES)
        return _surface(st, n), {"name": n}
    if slot == "name":
        n = rng.choice(HOSTNAMES)
        return _surface(st, n), {"name": n}
    if slot == "device":
        d = rng.choice(DEVICES)
        return d, {"device": d}
    if slot == "fstype":
        f = rng.choice(FSTYPES)
        return f, {"fstype": f}
    if slot == "pattern":
        p = rng.choice(PATTERNS)
        return _surface(st, p), {"pattern": p}
    if slot == "signal":
        s = rng.choice(list(SIGNAL_WORDS))
        return rng.choice(SIGNAL_WORDS[s]), {"signal": s}
    if slot == "args":
        a = rng.choice(PROGRAM_ARGS)
        return " ".join(canonical.quote(x) for x in a), {"args": list(a)}
    raise KeyError(slot)


# ---------------------------------------------------------------- sampling hassil expressions

@functools.lru_cache(maxsize=None)
def _lang_rules(lang: str) -> dict:
    from hassil.parse_expression import parse_sentence
    rules = dict(templates.intents(lang).expansion_rules)
    for name, text in docstyle.RULES[lang].items():
        assert name not in rules, name
        rules[name] = parse_sentence(text)
    return rules


def sample(expr, rng: random.Random, rules: dict, lang: str, bare: bool = False) -> list:
    """One random sentence of a hassil expression: a list of text and ("slot", list, slot)."""
    from hassil.expression import (Alternative, ListReference, Permutation, RuleReference,
                                   Sentence, Sequence, TextChunk)
    if isinstance(expr, Sentence):
        return sample(expr.expression, rng, rules, lang, bare)
    if isinstance(expr, TextChunk):
        return [expr.original_text]
    if isinstance(expr, ListReference):
        return [("slot", expr.list_name, expr.slot_name)]
    if isinstance(expr, RuleReference):
        name = expr.rule_name
        if name in ("pre", "post") and (bare or rng.random() < 0.55):
            return []
        return sample(rules[name], rng, rules, lang, bare)
    if isinstance(expr, Permutation):
        items = list(expr.items)
        rng.shuffle(items)
        out: list = []
        for it in items:
            out += sample(it, rng, rules, lang, bare) + ([" "] if lang == "en" else [])
        return out
    if isinstance(expr, Alternative):
        if expr.is_optional and rng.random() < 0.5:
            return []
        items = [i for i in expr.items if not (isinstance(i, TextChunk) and i.is_empty)] or expr.items
        return sample(rng.choice(items), rng, rules, lang, bare)
    if isinstance(expr, Sequence):
        out = []
        for it in expr.items:
            out += sample(it, rng, rules, lang, bare)
        return out
    raise TypeError(type(expr))


def is_doc(t) -> bool:
    return "/doc/" in t.id


@dataclass
class Template:
    id: str              # lang/tool/kind/block.sentence
    lang: str
    tool: str            # intent name: a tool, "show", or "none" (no command)
    sentence: object     # hassil Sentence
    slots: dict = field(default_factory=dict)   # fixed slots of the data block


@functools.lru_cache(maxsize=None)
def all_templates() -> tuple[Template, ...]:
    from hassil.parse_expression import parse_sentence
    out = []
    for lang in templates.languages():
        for tool, intent in sorted(templates.intents(lang).intents.items()):
            if tool in templates.TOOLS and not templates.TOOLS[tool].by_model:
                continue     # install_update: planned by its templates only, never the model's
            for b, data in enumerate(intent.data):
                fixed = {k: (v.value if hasattr(v, "value") else v) for k, v in (data.slots or {}).items()}
                for s, sent in enumerate(data.sentences):
                    out.append(Template(f"{lang}/{tool}/yaml/{b}.{s}", lang, tool, sent, fixed))
        for kind, forms in (("manual", MANUAL), ("none", NO_COMMAND_FORMS),
                            ("doc", {lang: docstyle.sentences(lang)})):
            for tool, blocks in forms[lang].items():
                for b, (texts, fixed) in enumerate(blocks):
                    for s, text in enumerate(texts):
                        out.append(Template(f"{lang}/{tool}/{kind}/{b}.{s}", lang, tool,
                                            parse_sentence(text), dict(fixed)))
    return tuple(out)


def split_of(templates_: tuple[Template, ...], seed: int) -> dict[str, str]:
    """template id -> "train" or "val": per tool and language a seeded ~15% for validation
    (none where the group has fewer than three sentences)."""
    groups = collections.defaultdict(list)
    for t in templates_:     # the documentation-register forms are split on their own
        groups[(t.lang, t.tool) + (("doc",) if is_doc(t) else ())].append(t.id)
    out = {}
    for key in sorted(groups):
        ids = sorted(groups[key])
        rng = random.Random(f"{seed}:split:" + ":".join(key))
        k = round(len(ids) * VAL_SHARE) if len(ids) >= 3 else 0
        k = max(k, 1) if len(ids) >= 3 else 0
        val = set(rng.sample(ids, k))
        for i in ids:
            out[i] = "val" if i in val else "train"
    return out


# ---------------------------------------------------------------- noise

def typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    r = rng.random()
    if r < 0.4:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]     # swap
    if r < 0.7:
        return word[:i] + word[i + 1:]                              # drop
    return word[:i] + word[i] + word[i:]                            # double


OPEN, CLOSE = "\x00", "\x01"     # around a slot value until the request is final


def render(pieces: list, st: State, args: dict, typos: bool) -> str | None:
    """The sentence with its slots filled, slot values marked (args: the tool arguments,
    keyed by (slot, argument))."""
    st.has_parent = any(isinstance(p, tuple) and p[2] == "parent" for p in pieces)
    text = []
    for i, p in enumerate(pieces):
        if isinstance(p, tuple):
            _, lst, slot = p
            if lst in ("signal", "filetype"):
                sl = templates.intents(st.lang).slot_lists[lst]
                v = st.rng.choice(sl.values)
                words = "".join(x for x in sample(v.text_in, st.rng, {}, st.lang) if isinstance(x, str))
                text.append(words)
                args[(slot, slot)] = v.value_out
                continue
            before = "".join(x for x in pieces[:i] if isinstance(x, str))
            st.set_off = (bool(re.search(r"[\s:：]$", before))
                          and all(isinstance(x, str) and not x.strip() for x in pieces[i + 1:]))
            w, a = fill(st, slot)
            for k, v in a.items():
                args[(slot, k)] = v
            text.append(OPEN + w + CLOSE)
        else:
            chunk = p
            if typos and st.lang == "en":
                words = re.split(r"(\s+)", chunk)
                for i, wd in enumerate(words):
                    if len(wd) >= 4 and wd.isalpha() and st.rng.random() < 0.25:
                        words[i] = typo(wd, st.rng)
                chunk = "".join(words)
            text.append(chunk)
    s = "".join(text)
    if st.lang == "en":
        s = re.sub(r"[ \t]+", " ", s).strip()
        s = re.sub(r"\s+([,.!?])", r"\1", s)
    s = s.strip()
    return s or None


def plain(s: str) -> str:
    return s.replace(OPEN, "").replace(CLOSE, "")


def upper_first(s: str) -> str:
    return s[:1].upper() + s[1:] if s[:1].isalpha() else s


def lower_first(s: str) -> str:
    return s[:1].lower() + s[1:] if s[:1].isalpha() else s


def plan_of(tool: str, slot_args: dict, fixed: dict, st: State) -> list[dict] | None:
    """The plan that the chosen slot values stand for."""
    args: dict = {}
    parent = child = None
    for (slot, k), v in slot_args.items():
        if slot == "parent":
            parent = v
        elif st.has_parent and slot == "path":
            child = v
        else:
            args[k] = v
    for k, v in fixed.items():     # a block's fixed path ("list the files": path ".") is cwd's
        if k in templates.PATH_ARGS and v in templates.PARENT:     # "go up one level"
            v = os.path.dirname(st.cwd.rstrip("/")) or "/"
        elif k in templates.PATH_ARGS and v in templates.REFERENTS | {"there"}:
            return None      # "go there": what it stands for is the conversation's, not the request's
        args.setdefault(k, resolve(v, st.cwd) if k in templates.PATH_ARGS and isinstance(v, str) else v)
    if tool in ("list_processes", "list_devices"):    # "is nginx running?", "is eth0 up?": asked about, shown
        for k in ("name", "pid", "interface"):
            args.pop(k, None)
    if parent is not None:
        if child is None:
            return None
        args["path"] = os.path.join(parent, child)
    if tool == "show":
        p = args.get("path")
        if not p:
            return None
        return [{"tool": "read_file" if st.kind == "file" else "list_dir", "args": {"path": p}}]
    if tool == "find_files":
        args.setdefault("path", st.cwd)
    if tool not in templates.TOOLS:
        return None
    return [{"tool": tool, "args": args}]


def decorate(s: str, lang: str, rng: random.Random) -> str:
    """Politeness, filler and punctuation around a whole request."""
    r = rng.random()
    if lang == "en":
        if r < 0.06:
            s = rng.choice(["hey, ", "hi, ", "ok so ", "um, ", "please, ", "could you ", "yo "]) + s
        elif r < 0.12:
            s = s + rng.choice([", thanks", ", please", " pls", " thx", ", thank you!", "!", "."])
        if rng.random() < 0.2:
            s = upper_first(s)
    else:
        if r < 0.06:
            s = rng.choice(["请", "帮我", "麻烦", "麻烦你", "劳驾，", "你好，"]) + s
        elif r < 0.12:
            s = s + rng.choice(["，谢谢", "。", "！", "，多谢", "吧"])
    return s


# ---------------------------------------------------------------- one pair

def doc_habits(pieces: list, lang: str, rng: random.Random) -> list:
    """The register's habits on a sampled documentation form: the value after a colon, and in
    Chinese a value set off by spaces."""
    out = list(pieces)
    while out and isinstance(out[-1], str) and not out[-1].strip():
        out.pop()
    if out and isinstance(out[-1], tuple) and rng.random() < 0.3:
        out.insert(len(out) - 1, ": " if lang == "en" else rng.choice(["：", "： ", ":"]))
    if lang == "zh" and rng.random() < 0.6:
        out = [x for p in out for x in ((" ", p, " ") if isinstance(p, tuple) else (p,))]
    return out


def doc_finish(text: str, lang: str, rng: random.Random) -> str:
    if rng.random() < 0.15:
        text += rng.choice(docstyle.QUALIFIERS[lang])
    if lang == "en":
        if rng.random() < 0.5:
            text = upper_first(text)
        if rng.random() < 0.25:
            text += "."
    text = re.sub(r" {2,}", " ", text).strip()
    if lang == "en":
        return re.sub(r"\s+:", ":", text)
    return re.sub(r" ([：，。（）])|([：，。（）]) ", lambda m: m.group(1) or m.group(2), text)


def step(t: Template, rng: random.Random, cwd: str, bare: bool = False,
         typos: bool = False) -> tuple[str, list[dict]] | None:
    st = State(rng, t.lang, cwd, t.tool)
    pieces = sample(t.sentence, rng, _lang_rules(t.lang), t.lang, bare)
    doc = is_doc(t)
    if doc:
        pieces = doc_habits(pieces, t.lang, rng)
    slot_args: dict = {}
    text = render(pieces, st, slot_args, typos)
    if text is None:
        return None
    if doc:
        text = doc_finish(text, t.lang, rng)
    if t.tool == "none":
        return text, []
    plan = plan_of(t.tool, slot_args, t.slots, st)
    if not plan:
        return None
    # list of objects ("delete a.txt and b.txt"): not from these templates; kept single
    return text, plan


def agrees(text: str, plan: list[dict], cwd: str, counts: collections.Counter) -> bool:
    """templates.match on the request must agree with the plan where it matches (and must
    not match a request that asks for no command)."""
    try:
        got = templates.match(text, Context(cwd=cwd))
    except Exception:
        got = None
    if got is None:
        return True
    counts["matched"] += 1
    if got == plan:
        return True
    counts["disagree"] += 1
    return False


JOIN = {"en": [", then ", " and then ", ", and then ", " then ", "; ", ". Then ", " and ", ", after that "],
        "zh": ["，然后", "；然后", "，再", "然后", "，接着", "；"]}


def pair(rng: random.Random, pool: dict, split: str, counts: collections.Counter) -> dict | None:
    """One corpus line from the templates of `split`."""
    lang = "zh" if rng.random() < 0.42 else "en"
    cwd = rng.choice(CWDS)
    r = rng.random()
    if r < NO_COMMAND_SHARE:
        t = rng.choice(pool[(split, lang, "none")])
        got = step(t, rng, cwd)
        if got is None:
            return None
        text, _ = got
        if not agrees(plain(text), [], cwd, counts):
            counts["dropped_disagree"] += 1
            return None
        return {"request": plain(decorate(text, lang, rng)), "cwd": cwd, "command": canonical.NO_COMMAND,
                "lang": lang, "template": t.id, "plan": []}
    n = 1 if r >= NO_COMMAND_SHARE + MULTI_SHARE else rng.choice([2, 2, 2, 3])
    texts, plan, ids, c = [], [], [], cwd
    for i in range(n):
        t = pick(rng, pool, split, lang)
        got = step(t, rng, c, bare=i > 0, typos=rng.random() < 0.07)
        if got is None:
            counts["dropped_unfilled"] += 1
            return None
        text, p = got
        if not agrees(plain(text), p, c, counts):
            counts["dropped_disagree"] += 1
            return None
        if canonical.commands(p, c) is None:
            counts["dropped_no_canonical"] += 1
            return None
        if i and lang == "en":
            text = lower_first(text)
        texts.append(text)
        plan += p
        ids.append(t.id)
        for a in p:
            if a["tool"] == "change_dir":
                c = a["args"]["path"]
    if n == 1:
        request = texts[0]
    else:
        request = texts[0]
        for x in texts[1:]:
            request += rng.choice(JOIN[lang]) + x
    cmd = canonical.commands(plan, cwd)
    if cmd is None:
        counts["dropped_no_canonical"] += 1
        return None
    return {"request": plain(decorate(request, lang, rng)), "cwd": cwd, "command": cmd, "lang": lang,
            "template": "+".join(ids), "plan": plan}


def pick(rng: random.Random, pool: dict, split: str, lang: str) -> Template:
    """A template of a tool chosen uniformly (so a tool with many sentences is not favoured);
    DOC_SHARE of the time one of its documentation-register forms."""
    tools = pool[(split, lang, "tools")]
    tool = rng.choice(tools)
    if DOC_SHARE and pool.get((split, lang, tool, "doc")) and rng.random() < DOC_SHARE:
        return rng.choice(pool[(split, lang, tool, "doc")])
    return rng.choice(pool[(split, lang, tool)])


def norm(request: str) -> str:
    """The form in which requests are compared with the held-out set."""
    return re.sub(r"\s+", " ", request.strip().lower()).rstrip(".!?。！？ ")


def build(seed: int = SEED, n_train: int = 40000, n_val: int = 200) -> dict[str, list[dict]]:
    ts = all_templates()
    sp = split_of(ts, seed)
    pool: dict = collections.defaultdict(list)
    for t in ts:
        s = sp[t.id]
        if t.tool == "none":
            pool[(s, t.lang, "none")].append(t)
        elif is_doc(t):
            pool[(s, t.lang, t.tool, "doc")].append(t)
        else:
            pool[(s, t.lang, t.tool)].append(t)
    for s in ("train", "val"):
        for lang in templates.languages():
            pool[(s, lang, "tools")] = sorted({t.tool for t in ts if t.tool != "none" and not is_doc(t)
                                                and sp[t.id] == s and t.lang == lang})
    out, counts = {}, collections.Counter()
    for split, n in (("train", n_train), ("val", n_val)):
        rng = random.Random(f"{seed}:{split}")
        rows: list[dict] = []
        seen: set = set()
        tries = 0
        while len(rows) < n and tries < n * 20:
            tries += 1
            row = pair(rng, pool, split, counts)
            if row is None:
                continue
            key = (row["request"], row["cwd"])
            if key in seen:
                counts["dropped_duplicate"] += 1
                continue
            seen.add(key)
            rows.append(row)
        out[split] = rows
    out["_counts"] = counts   # type: ignore[assignment]
    return out


def summary(data: dict, seed: int) -> dict:
    s: dict = {"seed": seed, "doc_share": DOC_SHARE, "files": {}, "checks": dict(sorted(data["_counts"].items()))}
    for split in ("train", "val"):
        rows = data[split]
        by = collections.Counter()
        for r in rows:
            tools = [a["tool"] for a in r["plan"]] or ["(no command)"]
            for tl in dict.fromkeys(tools):
                by[f"{r['lang']}/{tl}"] += 1
        s["files"][split] = {
            "lines": len(rows),
            "by_lang": dict(sorted(collections.Counter(r["lang"] for r in rows).items())),
            "no_command": sum(r["command"] == canonical.NO_COMMAND for r in rows),
            "multi_step": sum("+" in r["template"] for r in rows),
            "templates": len({i for r in rows for i in r["template"].split("+")}),
            "by_lang_tool": dict(sorted(by.items())),
        }
    return s


def dumps(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows)


def write(out: Path = DATA, seed: int = SEED, n_train: int = 40000, n_val: int = 200) -> dict:
    data = build(seed, n_train, n_val)
    out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "val"):
        (out / f"{split}.jsonl").write_bytes(dumps(data[split]).encode())
    s = summary(data, seed)
    s["source"] = source.describe(ROOT)   # git checkout <commit> && make corpus: these bytes
    for split in ("train", "val"):
        s["files"][split]["sha256"] = hashlib.sha256((out / f"{split}.jsonl").read_bytes()).hexdigest()
    (out / "summary.json").write_text(json.dumps(s, indent=1, ensure_ascii=False) + "\n")
    return s


# ---------------------------------------------------------------- hand-written forms
# (hassil syntax, in each language's expansion rules; no text from tests/eval/manpages, and
# no manual page's NAME line either: the held-out set is made of those)

MANUAL: dict = {"en": {
    "read_file": [(["Show what {path} contains", "Put the text of {path} on the screen",
                    "(cat|read|contents|view|show): {path}", "{path}: show (contents|it)",
                    "Read [the file] {path} and print it"], {})],
    "list_dir": [(["Tell me which entries {path} holds", "(ls|list): {path}",
                   "What's in the folder {path}? list it"], {})],
    "remove": [(["Get {path} out of here, delete it", "(delete|remove|rm): {path}",
                 "{path}: (delete|remove) it", "Wipe out {path}"], {})],
    "make_dir": [(["(mkdir|new folder|new directory): {path}", "I need a fresh folder at {path}",
                   "Set up an empty directory {path}"], {})],
    "move": [(["(mv|move|rename): {src} → {dst}", "Give {src} the new name {dst}",
               "Shift {src} over to {dst}"], {})],
    "copy": [(["(cp|copy): {src} → {dst}", "Put a duplicate of {src} at {dst}"], {})],
    "file_info": [(["stat: {path}", "(Print|Show) the size and permissions of {path}",
                    "Details on {path}: size, owner, dates"], {})],
    "find_files": [(["find: {pattern}", "Hunt for {pattern} below {path}",
                     "Anything matching {pattern} under {path}? find it"], {})],
    "disk_usage": [(["How much room is left on the disks", "df: all",
                     "Free space on the drive holding {path}"], {})],
    "change_dir": [(["cd: {path}", "Make {path} the current folder", "Work in {path} from now on"], {})],
    "list_processes": [(["processes: list", "Which programs are alive right now", "ps: all"], {})],
    "kill_process": [(["kill: {target_process}", "Finish off process {pid}", "Shut down the {name} process"], {}),
                     (["{signal} → process {pid}", "Deliver {signal} to {name}"], {})],
    "start_program": [(["(run|exec|start): {path}", "Fire up {path}", "Launch {path} passing {args}",
                        "(run|exec): {path} {args}"], {})],
    "set_priority": [(["renice: {pid} to {nice}", "Make process {pid} run at nice {nice}",
                       "Nice value {nice} for process {pid}"], {})],
    "system_info": [(["uname: all", "Tell me about this machine: kernel, uptime, memory",
                      "What kernel is this box running"], {})],
    "list_devices": [(["(disks|drives): list", "Which disks are plugged in"], {"kind": "block"}),
                     (["(interfaces|nics): list", "Which network cards does this machine have"], {"kind": "network"})],
    "mount": [(["mount: {device} → {target}", "Hook {device} up at {target}",
                "Make {device} available under {target} as {fstype}"], {})],
    "unmount": [(["(umount|unmount): {target}", "Release the disk at {target}",
                  "Let go of the mount at {target}"], {})],
    "link_up": [(["(ifup|up): {interface}", "Switch {interface} on", "Turn the {interface} link on"], {})],
    "link_down": [(["(ifdown|down): {interface}", "Switch {interface} off", "Cut the {interface} link"], {})],
    "get_time": [(["date: (show|now)", "Clock check: what time is it", "Tell me today's date"], {})],
    "set_time": [(["(date|set time|clock): {time}", "Make the clock say {time}",
                   "The correct time is {time}, set it"], {})],
    "set_hostname": [(["hostname: {name}", "From now on this machine is called {name}",
                       "Rename this box to {name}"], {})],
    "kernel_log": [(["dmesg: show", "What has the kernel been saying", "Kernel messages, please"], {})],
    "reboot": [(["reboot: now", "Bounce the machine", "Start the system over again"], {})],
    "poweroff": [(["poweroff: now", "Switch the machine off completely", "Cut the power, shut it all down"], {})],
    "write_file": [(["(write|save): {text} → {path}", "Put {text} into {path}, replacing what's there"], {}),
                   (["Make {path} as an empty file", "new empty file: {path}"], {"text": ""})],
    "append_file": [(["append: {text} → {path}", "Tack {text} onto the end of {path}"], {})],
    "help": [(["(help|usage): show", "What commands do you understand", "Give me a hand: what can you do"], {})],
    "undo": [(["undo: last", "Take back what you just did", "Put things back the way they were before that"], {})],
}, "zh": {
    "read_file": [(["(查看|读取)：{path}", "{path}：显示内容", "把{path}里写的东西给我看看", "{path}里面写了什么"], {})],
    "list_dir": [(["(列出|列表)：{path}", "{path}下面都有什么", "瞧瞧{path}里有哪些东西"], {})],
    "remove": [(["(删除|移除)：{path}", "{path}：删除", "把{path}干掉", "{path}不要了，删了它"], {})],
    "make_dir": [(["(mkdir|建目录)：{path}", "弄一个新目录{path}", "给我建个{path}目录"], {})],
    "move": [(["(重命名|改名)：{src} → {dst}", "把{src}改名叫{dst}", "把{src}挪到{dst}"], {})],
    "copy": [(["复制：{src} → {dst}", "给{src}复制一份到{dst}"], {})],
    "file_info": [(["(文件信息|状态)：{path}", "{path}的详细情况给我看看"], {})],
    "find_files": [(["(查找|搜索)：{pattern}", "在{path}底下找找{pattern}"], {})],
    "disk_usage": [(["硬盘还有多少地方", "磁盘用量：{path}", "{path}那个盘还有多少空间"], {})],
    "change_dir": [(["(cd|切换目录)：{path}", "到{path}里去", "以后在{path}里工作"], {})],
    "list_processes": [(["进程：列表", "现在都有哪些程序在跑", "ps：全部"], {})],
    "kill_process": [(["(杀进程|终止)：{target_process}", "把{name}这个进程弄掉", "干掉{pid}这个进程"], {}),
                     (["{signal}信号 → 进程{pid}", "对{name}发个{signal}信号"], {})],
    "start_program": [(["(运行|执行)：{path}", "把{path}跑起来", "跑一下{path}，参数是{args}"], {})],
    "set_priority": [(["进程{pid}的nice值改为{nice}", "让进程{pid}以nice {nice}运行"], {})],
    "system_info": [(["系统信息：显示", "这台机器是什么配置", "这台机器跑的什么内核"], {})],
    "list_devices": [(["(磁盘|硬盘)：列表", "插了哪些盘"], {"kind": "block"}),
                     (["网卡：列表", "这台机器有几块网卡"], {"kind": "network"})],
    "mount": [(["挂载：{device} → {target}", "把{device}接到{target}上用", "把{device}按{fstype}挂到{target}"], {})],
    "unmount": [(["卸载：{target}", "把{target}那个盘卸了"], {})],
    "link_up": [(["(启用|打开)：{interface}", "把{interface}开起来"], {})],
    "link_down": [(["(禁用|关闭)：{interface}", "把{interface}断掉"], {})],
    "get_time": [(["时间：现在", "几点了现在", "今天几号了"], {})],
    "set_time": [(["(设置时间|时间设为)：{time}", "把钟调到{time}"], {})],
    "set_hostname": [(["主机名：{name}", "以后这台机器就叫{name}"], {})],
    "kernel_log": [(["内核日志：显示", "内核最近说了些什么"], {})],
    "reboot": [(["重启：现在", "把机器重新开一下"], {})],
    "poweroff": [(["(关机|断电)：现在", "把机器彻底关掉"], {})],
    "write_file": [(["(写入|保存)：{text} → {path}", "把{text}写进{path}，覆盖原来的"], {}),
                   (["新建文件：{path}", "弄一个空的{path}文件"], {"text": ""})],
    "append_file": [(["追加：{text} → {path}", "在{path}最后补上一行{text}"], {})],
    "help": [(["(帮助|用法)：显示", "你都能干些什么"], {})],
    "undo": [(["(撤销|撤回)：上一步", "把刚才那步撤回去"], {})],
}}

# Requests that must produce no command: the model answers NO_COMMAND ("?").  The slots
# are filled as for any tool (the values do not matter).
NO_COMMAND_FORMS: dict = {"en": {"none": [
    (["how (do|can|would) i (delete|remove|erase) {path}?", "how do i (kill|stop) process {pid}?",
      "is it safe to (kill|terminate) {target_process}?", "what does rm do?",
      "what happens if i (reboot|power off|shut down)?", "can i (delete|remove) {path}?",
      "should i (remove|delete|overwrite) {path}?", "what is the command to rename a file?",
      "how would i bring {interface} down?", "why is {interface} down?", "what does kill -9 mean?",
      "is it a good idea to unmount {target}?", "how do i change the hostname?",
      "what would (deleting|removing) {path} do?", "does rm move things to the trash?",
      "(do|should) i need to reboot after this?", "what's the difference between kill and pkill?"], {}),
    (["(don't|do not|never|please don't|please do not) (delete|remove|erase|touch) {path}",
      "(don't|do not) kill {target_process}", "(do not|don't|never) (reboot|restart|power off|shut down)",
      "(don't|do not) (turn off|disable|bring down) {interface}", "please don't overwrite {path}",
      "no need to (delete|remove) {path}", "(don't|do not) unmount {target}",
      "make sure you (don't|do not) delete {path}", "(don't|do not) change the hostname",
      "under no circumstances (reboot|delete {path})"], {}),
    (["if i (deleted|removed) {path}, would it be gone for good?", "suppose i kill {pid}, what happens?",
      "what would happen if i unmounted {target}?", "i might reboot later",
      "imagine i (deleted|removed) {path}", "would (rebooting|powering off) lose my files?",
      "hypothetically, (delete|remove) {path}", "if {interface} went down, what would break?"], {}),
    (["{interface} is down", "{path} is too big", "process {pid} is using a lot of memory",
      "i deleted {path} yesterday", "my hostname is {name}", "{path} looks fine",
      "the server rebooted last night", "{target_process} keeps crashing", "{path} was copied already",
      "i already (removed|deleted) {path}", "the network on {interface} is slow today"], {}),
    (["(hi|hello|hey|hello there|good morning|good evening)", "(thanks|thank you|thx|cheers)[!]",
      "how are you?", "who are you?", "tell me a joke", "what's the weather like?",
      "(ok|okay|nice|cool|great)", "never mind", "what is 2 + 2?", "what can't you do?",
      "you're awesome", "good night", "what time zone are you in, do you think?", "lol",
      "i'm bored", "what's your favourite colour?"], {}),
    (["my (colleague|boss|friend) (told me|said) to delete {path}", "remind me to (delete|remove) {path} tomorrow",
      "later i will kill {pid}", "i'll reboot tomorrow", "someone wants me to remove {path}",
      "(delete|remove) {path}... actually no, never mind", "kill {pid}, wait, no, don't",
      "the manual says to delete {path}", "(tomorrow|next week) (delete|remove) {path}"], {}),
]}, "zh": {"none": [
    (["怎么删除{path}？", "如何(杀掉|结束)进程{pid}？", "(删除|删掉){path}安全吗？", "可以重启吗？",
      "rm命令是做什么的？", "杀死进程{pid}会怎样？", "怎样才能关闭{interface}？", "为什么{interface}断开了？",
      "我应该删除{path}吗？", "kill -9是什么意思？", "卸载{target}有什么风险？", "怎么改主机名？"], {}),
    (["(不要|别|请勿|千万别|请不要)(删除|删掉|删|动){path}", "(不要|别)(杀掉|结束)进程{pid}",
      "(请勿|不要|千万别)(关机|重启)", "(别|不要)(关闭|禁用){interface}", "(不要|别)覆盖{path}",
      "不用删除{path}了", "(别|不要)卸载{target}", "(不要|别)改主机名"], {}),
    (["如果我删除{path}会怎样？", "假如重启的话数据会丢吗？", "要是杀掉进程{pid}会有什么后果？",
      "假设我卸载了{target}呢？", "如果{interface}断了会怎么样？"], {}),
    (["{interface}断开了", "{path}太大了", "进程{pid}占用了很多内存", "我昨天删了{path}",
      "我的主机名是{name}", "服务器昨晚重启过", "{path}已经复制过了", "{path}看起来没问题"], {}),
    (["(你好|您好|嗨|早上好|晚上好)", "(谢谢|多谢|谢谢你)[！]", "你是谁？", "讲个笑话", "今天天气怎么样？",
      "(好的|好|没问题|不错)", "(没事了|算了)", "二加二等于几？", "你真棒", "晚安", "我好无聊"], {}),
    (["(同事|老板|朋友)让我删除{path}", "明天提醒我删除{path}", "我以后再杀进程{pid}", "我明天再重启",
      "删除{path}……算了，不用了", "杀掉进程{pid}，等等，不要", "(明天|下周)再删{path}"], {}),
]}}


def main(argv=None) -> None:
    global DOC_SHARE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--doc-share", type=float, default=DOC_SHARE,
                    help="share of steps from docstyle.py's forms (0: corpus-v1's corpus)")
    ap.add_argument("--out", type=Path, default=DATA)
    ap.add_argument("--train", type=int, default=40000)
    ap.add_argument("--val", type=int, default=200,
                    help="validation pairs (lora.py scores them all every eval_every steps)")
    a = ap.parse_args(argv)
    DOC_SHARE = a.doc_share
    s = write(a.out, a.seed, a.train, a.val)
    for split, f in s["files"].items():
        print(f"corpus {split}: {f['lines']} lines {f['by_lang']}, {f['no_command']} no-command, "
              f"{f['multi_step']} multi-step, {f['templates']} templates → {a.out / (split + '.jsonl')}",
              file=sys.stderr)
    print(f"checks: {s['checks']}", file=sys.stderr)


if __name__ == "__main__":
    main()
