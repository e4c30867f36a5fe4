"""Whole-request sentence templates, kept as data and matched by hassil.

The phrasings live in `sentences/<language>/<tool>.yaml` (Home Assistant's intent format:
one file per tool and language, `_common.yaml` for the language's lists and expansion
rules). An intent is named after the tool it plans (`show` is the one exception: "show X"
reads a file or lists a directory, by the shape of X); its slots are named after the tool's
arguments, and a data block's fixed `slots:` give the arguments a phrasing implies
("list the disks": kind=block). A new language is a new directory.

A match must account for the whole step (hassil matches whole sentences), and every slot
value must be a real argument: a wildcard that caught a generic noun ("delete the file":
path="file"), a referent with nothing to refer to, a list ("a.txt and b.txt") or free words
where a name belongs is no match, and the request goes on to the parser and the model.
When templates of different tools both match, that is no match either: ambiguity is the
model's (or the user's) to resolve, never the first template's.
"""
from __future__ import annotations

import functools
import itertools
import os
import re
from pathlib import Path

from ..tools.registry import SIGNALS, TOOLS
from .grounding import URL, resolve
from .parser import _looks_like_file, split_shell

SENTENCES = Path(__file__).with_name("sentences")

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# "X 里的 Y", "X 目录下的 Y": Y inside X (never one name)
ZH_INSIDE = re.compile(r"(?:里|里面|下|下面|中|内)的")

# Slot values that name no particular thing (in any language): a wildcard that caught one
# of these caught a word of the sentence, not an argument.
GENERIC = frozenset("""file files folder folders directory directories dir dirs document
document item items thing things stuff everything anything something all it them
that this these those one ones the a an my some any every each current specified given
same other new old program programs process processes app application script contents
content text line lines name path here there nothing none nobody me us you help
文件 文件夹 目录 东西 所有 全部 一切 它 它们 这个 那个 这些 那些 程序 进程 内容""".split())
REFERENTS = frozenset("""it that this them 它 这个 那个 这个文件 那个文件 它们""".split())
HERE = frozenset({"here", ".", "./", "this directory", "this folder", "current directory",
                  "current folder", "the current directory", "the current folder",
                  "当前目录", "当前文件夹", "这里", "这儿", "此目录", "这个目录"})
PARENT = frozenset({"..", "../", "parent", "the parent", "parent directory", "parent folder",
                    "上级目录", "上一级目录", "上级文件夹", "上一级", "上层目录"})
ROOT = frozenset({"/", "root", "the root", "root directory", "root folder", "根目录"})
# An unquoted name with Chinese in it is one only as a file name with an extension
# ("报告.pdf", "docs/笔记.txt"); other Chinese words are the sentence's, not a name.
ZH_FILE = re.compile(r"^[\w\-+@~/.]*\.[A-Za-z0-9]{1,8}$")
# A hostname is one label (sethostname's own rule, tools/system.py); these words after
# "hostname" are the sentence's, not a name
HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?$")
NOT_A_HOSTNAME = frozenset("is to as be please now thanks was should will what which".split())
# the filesystem types a request may name for mount, as the kernel names them ("fat32" is vfat)
FSTYPES = {**{t: t for t in "ext2 ext3 ext4 vfat msdos exfat ntfs ntfs3 btrfs xfs tmpfs iso9660 squashfs f2fs".split()},
           "fat": "vfat", "fat32": "vfat", "fat16": "vfat"}
PATH_ARGS = {"path", "src", "dst", "target"}
INTERFACE = re.compile(r"^(?:eth|wlan|enp|ens|eno|enx|wlp|lo|usb|wwan|br|veth|tap|tun|can|sit)[\w.-]*$")
SHOW = "show"
# Tools whose one path may be a list of objects, each its own action
EACH = frozenset({"remove", "read_file", "make_dir", "file_info", "list_dir"})
# (in Chinese "和" only between spaces or after a Latin letter or digit: "笔记和平.txt" is one name)
LIST_SEP = re.compile(r"\s*(?:,\s*and\s+|,|，|、|\s+and\s+|\s+&\s+|\s+(?:和|与|以及|及)\s*|"
                      r"(?<=[A-Za-z0-9])(?:和|与|以及|及))\s*")   # the intent that reads a file or lists a directory, by the shape of its path


def language(text: str) -> str:
    return "zh" if CJK.search(text) else "en"


def languages() -> list[str]:
    return sorted(p.name for p in SENTENCES.iterdir() if p.is_dir()) if SENTENCES.is_dir() else []


@functools.lru_cache(maxsize=None)
def intents(lang: str):
    """The hassil Intents of one language: every YAML file of its directory, merged."""
    import yaml
    from hassil import Intents
    from hassil.util import merge_dict
    merged: dict = {}
    for f in sorted((SENTENCES / lang).glob("*.yaml")):
        with open(f, encoding="utf-8") as fh:
            merge_dict(merged, yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    return Intents.from_dict(merged)


QUOTES = (("'", "'"), ('"', '"'), ("“", "”"), ("‘", "’"), ("「", "」"), ("《", "》"), ("«", "»"),
          ("`", "`"))


def _unquote(v: str) -> tuple[str, bool]:
    """(the value, True) when it is quoted, else (the value less the sentence's punctuation
    around it, False)."""
    v = v.strip()
    if v[-1:] in ".,!?;:。，！？；：" and v[:1] in {a for a, _ in QUOTES}:
        v = v.rstrip(".,!?;:。，！？；：")
    for a, b in QUOTES:
        if len(v) >= 2 and v.startswith(a) and v.endswith(b):
            return v[1:-1], True
    return v.lstrip(" \t,，。!！?？;；:：").rstrip(" \t,，。.!！?？;；:："), False


def _name(value: str, lang: str) -> tuple[str, bool] | None:
    """A slot value as one name (a file, a process, a host), or None when it is not one."""
    v, quoted = _unquote(value)
    if not v or "\x00" in v or re.search(r"[」”’》]\s*[「“‘《]", value):
        return None     # two quoted names run together ("「文档」 「会有什么后果」") are not one
    if not quoted:
        low = v.lower()
        if low in GENERIC or low.rstrip("s") in GENERIC:
            return None
        if lang == "en" and re.search(r"\s", v):
            return None      # "my old report", "a.txt and b.txt": not one name
        if lang == "zh" and (re.search(r"\s", v.strip()) or re.search(r"[和与及、,，]", v)):
            return None
        if CJK.search(v) and not ZH_FILE.match(v):
            return None   # "除文件", "b.txt第100行", "会有什么后果": Chinese words, not a name
        if lang == "zh" and ZH_INSIDE.search(v):
            return None   # "文档里的a.txt": a file in a directory, the {parent} templates' reading
    return v, quoted


def _path(value: str, lang: str, ctx) -> str | None:
    v = value.strip()
    word = _unquote(v)[0].lower()
    if v.lower() in HERE or word in HERE:
        return ctx.cwd
    if word in PARENT:
        return os.path.dirname(ctx.cwd.rstrip("/")) or "/"
    if word in ROOT:
        return "/"
    if word in REFERENTS:
        # "delete it": in English the parser's reference rules decide; in Chinese "它" is
        # the last thing named, unless that was a copy or a move (source or destination?)
        if lang != "zh" or (ctx.actions and ctx.actions[-1].get("tool") in ("copy", "move")):
            return None
        return ctx.last_path()
    got = _name(v, lang)
    if got is None or URL.fullmatch(got[0]):
        return None      # "http://host/x.bundle" is a URL, never /data/http:/host/x.bundle
    name, _ = got
    if name.startswith("~"):
        from ..tools.context import expand_home
        name = expand_home(name)
    return resolve(name, ctx.cwd)


def _arg(tool: str, name: str, raw, lang: str, ctx):
    """One slot value as the tool's argument, or None when it is not a valid one."""
    spec = {a.name: a for a in TOOLS[tool].args}.get(name)
    value = raw if isinstance(raw, str) else str(raw)
    if name in PATH_ARGS or (spec is not None and spec.type == "path"):
        if tool == "mount" and name == "device" and not value.strip().startswith("/dev/"):
            return None      # a device node: mount sets up no loop device for a file
        if tool == "change_dir" and value.strip().lower() in REFERENTS | {"there"}:
            return ctx.last_path()       # "go into it", "go there": the last place named
        if tool == "unmount" and value.strip().lower() in REFERENTS:
            return ctx.last_target()     # "unmount it": the mount point the conversation named
        if tool == "unmount" and "/" not in value:
            return None      # "release the hounds": a mount point is written as a path
        return _path(value, lang, ctx)
    if name == "text":
        v, _ = _unquote(value) if value.strip()[:1] in {a for a, _ in QUOTES} else (value.strip(), False)
        return v
    if spec is not None and spec.type == "text":    # clarify's question, a data block's fixed words
        return value.strip() or None
    if name == "args":       # a program's arguments, split as a shell would ("with arguments --dry-run")
        argv = raw if isinstance(raw, list) else split_shell(value.strip())
        return argv or None
    if name == "signal":
        v = value.strip().upper().removeprefix("SIG")
        return v if v in SIGNALS else None
    if name in ("pid", "nice"):
        v = value.strip()
        return int(v) if re.fullmatch(r"-?\d+", v) and (name == "nice" or int(v) > 0) else None
    if name == "interface":
        v = value.strip()
        if v.lower() in REFERENTS:     # "take it down": the interface the conversation named
            return ctx.last_interface()
        return v if INTERFACE.match(v) else None
    if name == "fstype":
        return FSTYPES.get(value.strip().lower())
    if name == "kind":
        return value.strip() or None
    if name == "pattern":
        got = _name(value, lang)
        return got[0] if got and "/" not in got[0] else None
    if name == "url":
        got = _name(value, lang)
        return got[0] if got and URL.fullmatch(got[0]) else None
    if tool == "set_hostname" and name == "name":
        v = _unquote(value)[0]
        if v.lower() in GENERIC or v.lower() in NOT_A_HOSTNAME or not HOSTNAME.match(v):
            return None     # "hostname please", "hostname is": words of the sentence
        return v
    if name == "time":
        v = value.strip()
        return v if re.fullmatch(r"\d{4}-\d{2}-\d{2}(?: \d{1,2}:\d{2}(?::\d{2})?)?", v) else None
    got = _name(value, lang)
    return got[0] if got else None


def _widen(text: str, start: int, end: int, lang: str) -> tuple[int, int]:
    """A wildcard's span out to the whole words it cuts (hassil trims punctuation off
    "./run.sh" and "World!"); in Chinese, which has no spaces, over ASCII path marks only."""
    def inside(c: str) -> bool:
        return not c.isspace() if lang != "zh" else c in "./~-_\\'\"*"
    while start > 0 and inside(text[start - 1]):
        start -= 1
    while end < len(text) and inside(text[end]):
        end += 1
    return start, end


# Chinese is matched with no whitespace at all (hassil's ignore_whitespace counts spans
# without it): a space beside a Chinese character is dropped, and one between two other
# characters ("hello world") is kept as this mark and given back in the slot values.
SPACE_MARK = "\u2063"


class Unspaced(str):
    """The request without the spaces Chinese matching ignores; `joins` are the offsets (in
    this text) where a space beside a Chinese character was dropped: a name may not run
    across one ("删出 notes.txt" is not a file 出notes.txt)."""
    joins: frozenset = frozenset()


def _unspace(text: str) -> Unspaced:
    quoted = [(m.start(), m.end()) for m in re.finditer(r"「[^」]*」|“[^”]*”|‘[^’]*’|'[^']*'|\"[^\"]*\"|《[^》]*》", text)]
    out: list[str] = []
    joins = set()
    last = 0
    for m in re.finditer(r"\s+", text):
        out.append(text[last:m.start()])
        last = m.end()
        if any(a <= m.start() < b for a, b in quoted):
            out.append(SPACE_MARK)     # inside quotes a space is part of the name or text
            continue
        a, b = text[m.start() - 1:m.start()], text[m.end():m.end() + 1]
        if a and b and (CJK.match(a) or CJK.match(b)):
            joins.add(sum(map(len, out)))   # ("删除指定文件 日志.txt" names no 指定文件日志.txt)
        elif a and b:
            out.append(SPACE_MARK)
    out.append(text[last:])
    u = Unspaced("".join(out))
    u.joins = frozenset(joins)
    return u


_ZH_LIST_WORD = re.compile(r"(?:和|与|以及|及|、)")


def _list_word_at(text: str, j: int) -> bool:
    """Whether the Chinese beside offset j is a list word ("a.txt 和 b.txt")."""
    before = re.search(r"[\u3400-\u9fff、]+$", text[:j])
    after = re.match(r"[\u3400-\u9fff、]+", text[j:])
    return any(m and _ZH_LIST_WORD.fullmatch(m.group(0)) for m in (before, after))


def _plan(result, text: str, lang: str, ctx) -> list[dict] | None:
    tool = result.intent.name
    slots = {k: e.value if isinstance(e.value, (str, int)) else e.text for k, e in result.entities.items()}
    # a wildcard is the request's own text, punctuation and case included: hassil matched
    # a normalised copy, and maps each span back onto the original
    joins = getattr(text, "joins", ())
    for k, e in result.entities.items():
        if getattr(e, "is_wildcard", False):
            span = getattr(e, "text_span", None)
            if span:
                span = _widen(text, *span, lang)
                if k != "text" and any(span[0] < j < span[1] and not _list_word_at(text, j)
                                       for j in joins):
                    return None     # a name across a space the user wrote beside Chinese
            slots[k] = text[slice(*span)] if span else e.text
            slots[k] = slots[k].replace(SPACE_MARK, " ")
    if tool == "list_dir" and isinstance(slots.get("path"), str) and slots["path"] != "." \
            and _looks_like_file(slots["path"].strip()):
        tool = SHOW    # "show me the contents of notes.txt": a file's contents are its text
    if tool == SHOW:
        p = _path(str(slots.get("path", "")), lang, ctx)
        if p is None:
            return None
        return [{"tool": "read_file" if _looks_like_file(p) else "list_dir", "args": {"path": p}}]
    if tool not in TOOLS:
        return None
    key = "path" if tool in EACH else "src" if tool in ("copy", "move") else None
    if key and isinstance(slots.get(key), str):
        parts = [p for p in LIST_SEP.split(slots[key].strip()) if p.strip()]
        if len(parts) > 1:     # "delete a.txt and b.txt", "copy a, b to docs": one action each
            plans = [_plan_one(tool, {**slots, key: p}, lang, ctx) for p in parts]
            return None if any(p is None for p in plans) else [a for p in plans for a in p]
    return _plan_one(tool, slots, lang, ctx)


def _plan_one(tool: str, slots: dict, lang: str, ctx) -> list[dict] | None:
    args: dict = {}
    parent = slots.pop("parent", None)
    if parent is not None:   # "a folder x in docs", "docs 里的 a.txt"
        key = "src" if tool in ("copy", "move") else "path"
        where = _path(str(parent), lang, ctx)
        if where is None or key not in slots:
            return None
        if tool in ("remove", "copy", "move") and _looks_like_file(where):
            return None      # "notes.txt 里的空格" is a part of a file: an edit, not a file
        slots[key] = os.path.join(where, str(slots[key]).strip())
    if tool == "list_processes":     # "is nginx running?", "is process 77 alive": the list, shown
        for k in ("name", "pid"):
            if k in slots and _arg("kill_process", k, slots.pop(k), lang, ctx) is None:
                return None
    if tool == "list_devices" and "interface" in slots:    # "is eth0 up?": the interfaces, shown
        if _arg("link_up", "interface", slots.pop("interface"), lang, ctx) is None:
            return None
    command = slots.pop("command", None)
    if command is not None:  # "execute /opt/app/server --port 8080": the program, then its arguments
        argv = split_shell(_unquote(str(command))[0])
        if not argv or len(argv) < 2:
            return None      # one word is the {path} templates' reading
        slots["path"], slots["args"] = argv[0], argv[1:]
    target = slots.pop("target_process", None)
    if target is not None:   # kill/stop "42" or "httpd": a pid or a process name
        t = _unquote(str(target))[0]
        if re.fullmatch(r"\d+", t):
            slots["pid"] = t
        else:
            slots["name"] = t
    for name, raw in slots.items():
        v = _arg(tool, name, raw, lang, ctx)
        if v is None or v == "" and name != "text":
            return None
        args[name] = v
    if tool == "find_files":
        args.setdefault("path", ctx.cwd)
    if tool == "start_program" and not re.search(r"/|\.\w+$", str(slots.get("path", ""))):
        return None   # "start over", "run the tests": words, not a program's path
    for a in TOOLS[tool].args:
        if a.required and a.name not in args and not (tool == "kill_process" and args.keys() & {"pid", "name"}):
            return None
    return [{"tool": tool, "args": args}]


def match(step: str, ctx) -> list[dict] | None:
    """The plan of the one tool whose template accounts for the whole step, or None."""
    lang = language(step)
    if lang not in languages():
        return None
    text = step.strip()
    if not text or len(text) > 400:
        return None
    got = _best(_unspace(text) if lang == "zh" else text, lang, ctx)
    if got is None and lang == "zh":
        # "进入 相册，删除 old.log": a Chinese word the user set off with a space is a name
        # (as if quoted), when nothing matches without that reading.
        # One such word at a time first ("把 文档 里的 a.txt 删掉": 文档, not 里的 or 删掉),
        # then two ("把 文档 里的 a.txt 移到 相册": 文档 and 相册), then all of them
        runs = [m for m in _SPACED_ZH_NAME.finditer(text) if _quote_name(m) != m.group(1)][:4]
        for group in ([[m] for m in runs] + list(itertools.combinations(runs, 2)) if len(runs) > 1 else []):
            quoted = text
            for m in sorted(group, key=lambda m: -m.start()):
                quoted = quoted[:m.start()] + _quote_name(m) + quoted[m.end():]
            got = _best(_unspace(quoted), lang, ctx)
            if got is not None:
                return got
        named = _SPACED_ZH_NAME.sub(_quote_name, text)
        if named != text:
            got = _best(_unspace(named), lang, ctx)
    if got is None and lang == "zh" and "en" in languages() and _LATIN_WORD.search(text):
        got = _best(text, "en", ctx)    # an English request naming a Chinese file ("show 日志.txt")
    return got


_LATIN_WORD = re.compile(r"(?<![\w.])[A-Za-z]{2,}(?![\w.])")


# A run of Chinese after a space, up to a space, punctuation or the end.
_SPACED_ZH_NAME = re.compile(r"(?<=\s)([\u3400-\u9fff]{1,12})(?=\s|[，。；、！？,.;!?]|$)")


def _quote_name(m: re.Match) -> str:
    w = m.group(1)
    if w in GENERIC or w in HERE or w in PARENT or w in ROOT or w in REFERENTS:
        return w
    return f"「{w}」"


def _best(text: str, lang: str, ctx) -> list[dict] | None:
    # The most specific reading wins: the one whose template words cover most of the
    # request (the least left to wildcards). Readings of different tools that tie are
    # ambiguous: no match.
    from hassil import recognize_all
    best: dict[str, tuple[int, list[dict]]] = {}
    for result in recognize_all(text, intents(lang)):
        plan = _plan(result, text, lang, ctx)
        if plan is None:
            continue
        loose = sum(e.text_span[1] - e.text_span[0] for e in result.entities.values()
                    if getattr(e, "is_wildcard", False) and e.text_span)
        tool = plan[0]["tool"]
        if tool not in best or loose < best[tool][0]:
            best[tool] = (loose, plan)
    if not best:
        return None
    ranked = sorted(best.values(), key=lambda lp: lp[0])
    if len(ranked) > 1 and ranked[1][0] == ranked[0][0]:
        return None
    return ranked[0][1]


def sentence_files() -> list[Path]:
    return sorted(SENTENCES.glob("*/*.yaml"))
