"""The reference-documentation form of a request: what to do, described, then its values.

    "Copy data and metadata config.v2.yaml 报告.txt"     values: config.v2.yaml 报告.txt
    "Kill a process with a signal: 1234"                 values: 1234
    "列出某位置的内容：相册", "获取文件系统信息 build-2026"  values: 相册 / build-2026

A manual page's one-line description followed by the arguments is how people who read
manuals write a request, and it is the shape the trained model reads worst: it takes the
description's words for arguments ("cp /tree /srv/www") or leaves the values out ("ls"
for "list the contents of a location 相册"). Where its reading is unusable or leaves out a
value the request ends with, the model decides again among whole commands that use those
values (`candidates`): it scores each (log-probability of the command as its answer) and
the likeliest stands, read back and checked as its own answer is (translation.read_answer).

A candidate that changes state is one only when the request's words ask for its tool
(guard.asks_for_change, a word for copying) and, for a destructive one, when its verb leads
the description (guard.asks_for on its first words: "Remove a directory 相册", never "my
boss said rm -rf /data/docs"): the model chooses among readings the request allows, never
a state change it does not name. Pure Python: runs in the guest.
"""
from __future__ import annotations

import re

from ..tools.registry import DESTRUCTIVE
from .grounding import resolve
from .guard import asks_for, asks_for_change
from .templates import CJK, GENERIC, INTERFACE

# A value as a request writes it: a quoted string or a run of non-space characters.
_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|「[^」]*」|“[^”]*”|\S+")
_PUNCT = ".,;!?。，；！？"
_COLON = re.compile(r"：|:(?=\s)")     # not the colon of a time, "10:00"
_COPY = re.compile(r"\bcop(?:y|ies|ied|ying)\b|\bcp\b|\bduplicat|复制|拷贝|备份|副本", re.I)
_GLOB = re.compile(r"[*?\[]")
_DATE = re.compile(r"\d[\d:.-]*")     # not all digits: a date or a time ("2026-03-01", "08:30")


_QUALIFIER = re.compile(r"(?:\s+\([^()]*\)|\s*（[^（）]*）)[.。]?$")


def _bare(tok: str) -> str:
    for a, b in ("''", '""', "「」", "“”"):
        if len(tok) >= 2 and tok[0] == a and tok[-1] == b:
            return tok[1:-1]
    return tok.rstrip(_PUNCT) if not _GLOB.search(tok) else tok.rstrip(".,;!。，；！")


def _date(v: str) -> bool:
    return _DATE.fullmatch(v) is not None and not v.isdigit()


def _on_its_face(v: str) -> bool:
    """A path, a name with an extension, a dotfile, a pattern, a number, a date or a time,
    an interface; not code ("like os.stat() does": a call is the description's)."""
    if "(" in v:
        return False
    return _date(v) or bool(re.search(r"[/~*]|\w\.\w|^\.\w|^\d+$", v) or INTERFACE.match(v) and re.search(r"\d", v))


def _value_like(tok: str, zh: bool, alone: bool) -> bool:
    """A token that is a value: quoted, or a value on its face; in an English description
    a Chinese name too, and after a Chinese one any word written apart from it, when it is
    the only value."""
    v = _bare(tok)
    if not v:
        return False
    if _date(v):
        return False      # "设置系统时间 2026-03-01 08:30": values, but none of these tools take them
    return tok[:1] in "'\"「“" or _on_its_face(v) or (alone if zh else bool(CJK.search(v)))


def _described(head: str) -> bool:
    """Whether `head` (before the values) is a description: two words, or two Chinese
    characters, and no value of its own ("copy notes.txt to /tmp/x" is a sentence with
    its values inside, not a description followed by them)."""
    if any(_on_its_face(_bare(t)) or t[:1] in "'\"「“" for t in _TOKEN.findall(head)):
        return False
    return len(re.findall(r"[A-Za-z]+", head)) >= 2 or len(CJK.findall(head)) >= 2


def values(request: str) -> list[str]:
    """The one or two values a request in the documentation form ends with, as written
    (quotes off), or [] when it is not in that form. A closing parenthesis is the
    description's qualifier, not a value ("Summarize disk space used for a.txt (or
    directories)")."""
    text = _QUALIFIER.sub("", request.strip()).strip()
    zh = CJK.match(text) is not None      # a Chinese description leads
    m = None
    for m in _COLON.finditer(text):
        pass
    if m is not None:
        toks = _TOKEN.findall(text[m.end():])
        if _described(text[:m.start()]) and 1 <= len(toks) <= 2 and \
                (all(_value_like(t, zh, len(toks) == 1) for t in toks) or
                 len(toks) == 1 and _bare(toks[0]).lower() not in GENERIC):
            return [_bare(t) for t in toks]
        return []
    spans = [(x.start(), x.group(0)) for x in _TOKEN.finditer(text)]
    for n in (2, 1):
        if len(spans) <= n:
            continue
        head = text[:spans[-n][0]]
        if zh and not head[-1:].isspace():
            continue      # in Chinese a value is written apart, a space before it
        if _described(head) and all(_value_like(t, zh, n == 1) for _, t in spans[-n:]):
            return [_bare(t) for _, t in spans[-n:]]
    return []


def candidates(vals: list[str], request: str, cwd: str) -> list[dict]:
    """The actions that use all of `vals` (paths resolved from cwd), less those that change
    state without the request's words asking for their tool."""
    got: list[dict] = []
    if len(vals) == 2:
        a, b = resolve(vals[0], cwd), resolve(vals[1], cwd)
        if _GLOB.search(vals[0]):
            got.append({"tool": "find_files", "args": {"pattern": vals[0], "path": b}})
        if _COPY.search(request):
            got.append({"tool": "copy", "args": {"src": a, "dst": b}})
        got.append({"tool": "move", "args": {"src": a, "dst": b}})
    elif len(vals) == 1:
        v = vals[0]
        if re.fullmatch(r"\d+", v):
            got += [{"tool": t, "args": {"pid": int(v)}} for t in ("kill_process", "set_priority")]
        elif INTERFACE.match(v) and re.search(r"\d", v):
            got += [{"tool": t, "args": {"interface": v}} for t in ("link_up", "link_down")]
        elif _GLOB.search(v):
            got.append({"tool": "find_files", "args": {"pattern": v, "path": cwd}})
        else:
            got += [{"tool": t, "args": {"path": resolve(v, cwd)}} for t in
                    ("list_dir", "read_file", "file_info", "disk_usage", "change_dir", "make_dir", "remove")]
    lead = _lead(request)
    return [c for c in got if asks_for_change(c["tool"], request) and
            (c["tool"] not in DESTRUCTIVE or asks_for(c["tool"], lead))]


def _lead(request: str) -> str:
    """Where a description says what it does: its first two words ("Remove a directory",
    "Recursively move a file"), the first four characters in Chinese ("删除指定文件"); a
    verb later on is reported ("my boss said rm -rf …"), asked about ("what if I kill 42")
    or someone else's."""
    text = request.strip()
    if CJK.match(text):
        return text[:4]
    return " ".join(text.split()[:2])


def leaves_out(plan: list[dict], vals: list[str], cwd: str) -> bool:
    """Whether `plan` uses none of the forms of some value of `vals` (as written, as the
    path it names from cwd, or as a word of an argument)."""
    used = [str(v) for a in plan for v in (a.get("args") or {}).values()]
    for v in vals:
        forms = {v, v.rstrip("/")}
        if not _GLOB.search(v) and not re.fullmatch(r"\d+", v):
            forms.add(resolve(v, cwd))
        if not forms & set(used) and not any(v in u.split() for u in used):
            return True     # (a time's "08:30" is in its "2026-03-01 08:30")
    return False
