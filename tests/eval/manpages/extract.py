"""Extract phrases from Debian's manual pages into phrases.jsonl (the frozen man-page held-out set).

    python3 tests/eval/manpages/extract.py [--debs DIR] [--out FILE]

Without --debs the pinned packages below are fetched with `apt-get download PKG=VERSION`
into a scratch directory (needs a Debian bookworm apt source); with --debs the .deb files
are read from DIR. Each package is unpacked with `dpkg-deb -x`, each listed page is read
(gzip'd groff source) and its markup stripped here, in Python, without groff.

One phrase per line:
    {"lang", "command", "page", "section": "NAME"|"DESCRIPTION"|"OPTION", "key", "text",
     "package", "version"}; for OPTION the key is the option's tag as the page prints it.
- NAME: the part after "name \\- " of the NAME section.
- DESCRIPTION: the sentences of the first paragraph of DESCRIPTION (key D1.<n>), and of the
  untagged paragraph that help2man puts at the head of OPTIONS (key O0.<n>, e.g. rm's
  "Remove (unlink) the FILE(s)."); for the bash page, the first sentence of a builtin's
  entry (key "builtin:cd").
- OPTION: every tagged entry of the OPTIONS-like sections (OPTIONS, COMMANDS, find's
  EXPRESSION, ps's PROCESS SELECTION, the translated names, ip-link's "ip link set" part) and
  every entry tagged "-..." in DESCRIPTION (help2man's layout): its tag as "key" and the first
  sentence of its body as text. For the few pages whose options are words (ifconfig "up",
  systemctl "reboot"), the tagged entry is taken as is.

Nothing here chooses or edits wording: build.py picks phrases by (lang, command, key) and
joins them with values. The output is committed; rerunning must reproduce it.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# Debian bookworm packages holding the pages, pinned to the versions the phrases came from.
PACKAGES = {
    "coreutils": "9.1-1",
    "findutils": "4.9.0-4",
    "procps": "2:4.0.2-3",
    "bsdutils": "1:2.38.1-5+deb12u3",
    "util-linux": "2.38.1-5+deb12u3",
    "mount": "2.38.1-5+deb12u3",
    "hostname": "3.23+nmu1",
    "systemd": "252.39-1~deb12u2",
    "systemd-sysv": "252.39-1~deb12u2",
    "iproute2": "6.1.0-3",
    "net-tools": "2.10-0.1+deb12u2",
    "usbutils": "1:014-1+deb12u1",
    "psmisc": "23.6-1",
    "bash": "5.2.15-2+b13",
    "manpages-zh": "1.6.4.0-1",
}

EN = "usr/share/man/man{s}/{p}.{s}.gz"
ZH = "usr/share/man/zh_CN/man{s}/{p}.{s}.gz"

# (lang, command, package, page, section number). The command is the name build.py uses;
# for pages covering several commands (halt/poweroff/reboot) it is the page's name.
PAGES = [
    ("en", c, "coreutils", c, 1) for c in (
        "ls", "dir", "vdir", "cat", "head", "tail", "mkdir", "rm", "rmdir", "mv", "cp", "stat",
        "df", "du", "nice", "uname", "date", "touch", "tee", "echo", "pwd")
] + [
    ("en", "find", "findutils", "find", 1),
    ("en", "ps", "procps", "ps", 1),
    ("en", "kill", "procps", "kill", 1),
    ("en", "pkill", "procps", "pkill", 1),
    ("en", "uptime", "procps", "uptime", 1),
    ("en", "free", "procps", "free", 1),
    ("en", "top", "procps", "top", 1),
    ("en", "killall", "psmisc", "killall", 1),
    ("en", "pstree", "psmisc", "pstree", 1),
    ("en", "renice", "bsdutils", "renice", 1),
    ("en", "dmesg", "util-linux", "dmesg", 1),
    ("en", "lscpu", "util-linux", "lscpu", 1),
    ("en", "lsblk", "util-linux", "lsblk", 8),
    ("en", "mount", "mount", "mount", 8),
    ("en", "umount", "mount", "umount", 8),
    ("en", "hostname", "hostname", "hostname", 1),
    ("en", "hostnamectl", "systemd", "hostnamectl", 1),
    ("en", "timedatectl", "systemd", "timedatectl", 1),
    ("en", "systemctl", "systemd", "systemctl", 1),
    ("en", "reboot", "systemd-sysv", "reboot", 8),
    ("en", "shutdown", "systemd-sysv", "shutdown", 8),
    ("en", "ip-link", "iproute2", "ip-link", 8),
    ("en", "ifconfig", "net-tools", "ifconfig", 8),
    ("en", "lsusb", "usbutils", "lsusb", 8),
    ("en", "cd", "bash", "bash", 1),
    ("en", "help", "bash", "bash", 1),
] + [
    ("zh", c, "manpages-zh", c, 1) for c in (
        "ls", "cat", "head", "tail", "mkdir", "rm", "rmdir", "mv", "cp", "stat", "find", "df",
        "du", "nice", "uname", "date", "touch", "tee", "echo", "pwd", "kill", "killall",
        "uptime", "free", "w", "hostname", "hostnamectl", "timedatectl", "systemctl")
] + [
    ("zh", c, "manpages-zh", c, 8) for c in ("dmesg", "halt", "shutdown", "ifconfig", "umount")
] + [
    ("zh", "cd", "manpages-zh", "bash", 1),
    ("zh", "help", "manpages-zh", "bash", 1),
]

BUILTINS = {"cd", "help"}  # bash builtins taken from the bash page

def canon_section(name: str) -> str:
    """One name for the sections that matter, whatever the page's language or spelling."""
    u = name.upper()
    if re.search(r"DESCRIPTION|描述|说明|叙述", u):
        return "DESCRIPTION"
    if re.search(r"OPTION|选项|参数|PROCESS SELECTION", u):
        return "OPTIONS"
    if re.search(r"EXPRESSION|表达式", u):
        return "EXPRESSION"
    if re.search(r"^COMMANDS?$|^命令$|^指令$|^IP LINK SET", u):
        return "COMMANDS"
    return u


# Sections whose tagged entries are options (a tag starting with '-' in DESCRIPTION counts
# too: help2man puts coreutils' options there).
OPTION_SECTIONS = {"OPTIONS", "EXPRESSION", "COMMANDS"}

# ---------------------------------------------------------------- groff -> text

NAMED = {
    "aq": "'", "dq": '"', "co": "©", "em": "—", "en": "–", "lq": "“", "rq": "”", "oq": "‘",
    "cq": "’", "bu": "•", "hy": "-", "mi": "-", "ti": "~", "at": "@", "rs": "\\", "ga": "`",
    "ha": "^", "sl": "/", "pl": "+", "eq": "=", "mu": "×", ">=": "≥", "<=": "≤", "->": "→",
    "<-": "←", "de": "°", "tm": "™", "rg": "®", "or": "|", "fm": "′", "sq": "□", "ba": "|",
    "bv": "|", "ct": "¢", "Do": "$", "dg": "†", "lh": "☜", "rh": "☞", "br": "|", "ul": "_",
    "sc": "§", "ps": "¶", "+-": "±", "**": "*", "aa": "´", "!=": "≠", "==": "≡", "tno": "~",
}
STRINGS = {"Aq": "'", "lq": "“", "rq": "”", "R": "®", "Tm": "™", "Sp": ""}
ESC = "\x00"


def unescape(s: str, strings: dict | None = None) -> str:
    strings = {**STRINGS, **(strings or {})}
    s = s.replace("\\\\", ESC)
    s = re.sub(r'\\["#].*$', "", s)
    s = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", s)
    s = re.sub(r"\\[sS][+-]?(\[[^\]]*\]|\(\d\d|\d)", "", s)
    s = re.sub(r"\\m(\[[^\]]*\]|\(..|.)", "", s)
    s = re.sub(r"\\[wWhHvVlLoXbDNRZx]'[^']*'", "", s)
    s = re.sub(r"\\n[+-]?(\[[^\]]*\]|\(..|.)", "", s)
    s = re.sub(r"\\\*(\[([^\]]*)\]|\((..)|(.))",
               lambda m: unescape(strings.get(m.group(2) or m.group(3) or m.group(4), ""), None), s)
    s = re.sub(r"\\\[([^\]]*)\]", lambda m: NAMED.get(m.group(1), ""), s)
    s = re.sub(r"\\\((..)", lambda m: NAMED.get(m.group(1), ""), s)
    s = re.sub(r"\\[-]", "-", s)
    s = re.sub(r"\\[ ~0]", " ", s)
    s = re.sub(r"\\[&,/^|%:)cdrutkzp]", "", s)
    s = s.replace("\\e", "\\").replace("\\E", "\\").replace("\\'", "´").replace("\\`", "`")
    s = re.sub(r"\\(.)", r"\1", s)
    return s.replace(ESC, "\\")


def macro_args(rest: str) -> list[str]:
    out = []
    for m in re.finditer(r'"((?:[^"]|"")*)"?|(\S+)', rest):
        out.append(m.group(1).replace('""', '"') if m.group(1) is not None else m.group(2))
    return out


CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def join_lines(parts: list[str]) -> str:
    text = ""
    for p in parts:
        p = p.strip()
        if not p:
            continue
        if not text:
            text = p
        elif text.endswith("\x01"):  # \c: no space
            text = text[:-1] + p
        elif CJK.match(text[-1]) and CJK.match(p[0]):
            text += p
        else:
            text += " " + p
    return re.sub(r"\s+", " ", text.replace("\x01", "")).strip()


FONT_SPACE = {"B", "I", "SM", "SB", "FN", "CW", "Q"}
FONT_ALT = {"BR", "RB", "IR", "RI", "BI", "IB"}
PARA = {"PP", "P", "LP", "sp", "br", "HP", "nf", "fi", "EX", "EE", "in", "ti", "PD", "TQ"}


def parse(src: str) -> list[dict]:
    """Blocks of a page: {"section", "sub", "tag", "text", "depth"} in order."""
    blocks: list[dict] = []
    section = sub = ""
    cur: dict | None = None
    # a line ending in a lone backslash continues on the next one
    src = re.sub(r"(?<!\\)((?:\\\\)*)\\\n", r"\1", src)
    lines = src.split("\n")
    strings: dict[str, str] = {}

    def U(t: str) -> str:
        return unescape(t, strings)
    depth = 0
    want_tag = False   # after .TP: the next text line is the tag
    want_head = None   # after .SH/.SS without arguments: the next text line is the heading
    skip_until = None

    def flush():
        nonlocal cur
        if cur is not None and not cur["section"]:
            cur = None  # text before the first .SH
        if cur is not None:
            cur["text"] = join_lines(cur["parts"])
            cur["tag"] = join_lines(cur["tagparts"]) if cur["tagparts"] else None
            del cur["parts"], cur["tagparts"]
            if cur["text"] or cur["tag"]:
                blocks.append(cur)
        cur = None

    def start(tag=None):
        nonlocal cur
        flush()
        cur = {"section": section, "sub": sub, "depth": depth, "parts": [],
               "tagparts": [tag] if tag else []}

    def add_text(t: str):
        nonlocal want_tag, cur, section, sub, want_head
        if want_head:
            if want_head == "SH":
                section, sub = t.strip().upper(), ""
            else:
                sub = t.strip()
            want_head = None
            return
        if cur is None:
            start()
        if want_tag:
            cur["tagparts"].append(t)
            want_tag = False
        else:
            cur["parts"].append(t)

    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if skip_until is not None:
            if re.sub(r"^([.'])\s+", r"\1", line.strip()).replace(" ", "") == skip_until:
                skip_until = None
            continue
        if re.match(r"^[.']\s*\\[\"#]", line) or line.startswith("\\#") or line.strip() in (".", "'"):
            continue
        if line.startswith((".", "'")) and len(line) > 1:
            m = re.match(r"^[.']\s*(\S+)\s*(.*)$", line)
            if not m:
                continue
            name, rest = m.group(1), m.group(2)
            if name in ("de", "de1", "am", "ig"):
                skip_until = ".." if name != "ig" or not rest.strip() else "." + rest.strip()
                continue
            if name in ("ds", "ds1"):
                m2 = re.match(r"^(\S+)\s*\"?(.*)$", rest)
                if m2:
                    strings[m2.group(1)] = m2.group(2)
                continue
            if name in ("SH", "SS"):
                flush()
                depth = 0
                want_tag = False
                head = U(" ".join(macro_args(rest))).strip()
                if not head:
                    want_head = name
                elif name == "SH":
                    section, sub = head.upper(), ""
                else:
                    sub = head
                continue
            if name == "TP":
                start()
                want_tag = True
                continue
            if name == "TQ":
                want_tag = True
                if cur is not None and cur["tagparts"]:
                    cur["tagparts"][-1] += ","
                continue
            if name == "IP":
                a = macro_args(rest)
                tag = U(a[0]).strip() if a else ""
                start(tag if tag and tag not in ("•", "*", "-", "o") else None)
                continue
            if name == "RS":
                flush()
                depth += 1
                continue
            if name == "RE":
                flush()
                depth = max(0, depth - 1)
                continue
            if name in PARA:
                if not (want_tag and name in ("PD", "TQ", "br")):
                    if name not in ("PD", "in", "ti"):
                        flush()
                continue
            if name in FONT_SPACE:
                a = macro_args(rest)
                if a:
                    add_text(U(" ".join(a)))
                elif name not in ("SM", "SB"):
                    pass
                continue
            if name in FONT_ALT:
                add_text(U("".join(macro_args(rest))))
                continue
            if name in ("UE", "ME"):
                a = macro_args(rest)
                if a and cur is not None:
                    cur["parts"][-1:] = [(cur["parts"][-1] if cur["parts"] else "") + "\x01"]
                    add_text(U(a[0]))
                continue
            continue  # any other request or macro: layout only
        t = U(line)
        if line.rstrip().endswith("\\c"):
            t = t + "\x01"
        if t.strip() or want_tag:
            add_text(t)
    flush()
    return blocks


# ---------------------------------------------------------------- blocks -> phrases

def sentences(text: str, lang: str) -> list[str]:
    text = text.strip()
    if not text:
        return []
    if lang == "zh":
        parts = re.split(r"(?<=[。！？])|(?<=[\u3400-\u9fff][.．])\s*(?=[\u3400-\u9fff])", text)
    else:
        # a new sentence starts with a capital, or (bash: "to dir.  if dir ...") a lower-case
        # word after a word that ends in a stop; not after e.g./i.e./etc.
        parts = re.split(r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)(?<!\bvs\.)"
                         r"(?:(?<=[.!?])\s+(?=[A-Z(\"“])|(?<=\w[.!?])\s+(?=[a-z]{2}))", text)
    return [p.strip() for p in parts if p.strip()]


def first_sentence(text: str, lang: str) -> str:
    s = sentences(text, lang)
    return s[0] if s else ""


def looks_like_tag(text: str) -> bool:
    return len(text) <= 120 and not re.search(r"[.。]\s*$", text) and bool(
        re.match(r"^(-|<|\w[\w-]*( \[| [A-Z<]|$))", text))


def pair_tags(blocks: list[dict]) -> list[dict]:
    """DocBook/asciidoctor layout: a tag paragraph followed by its body one .RS deeper."""
    out = []
    i = 0
    while i < len(blocks):
        b = blocks[i]
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if (b["tag"] is None and nxt is not None and nxt["depth"] == b["depth"] + 1
                and nxt["tag"] is None and nxt["section"] == b["section"] and looks_like_tag(b["text"])):
            out.append(dict(b, tag=b["text"], text=nxt["text"]))
            i += 2
            continue
        out.append(b)
        i += 1
    return out




def phrases_of(lang: str, command: str, page: str, src: str) -> list[dict]:
    blocks = pair_tags(parse(src))
    out = []

    def add(section, key, text):
        text = text.strip()
        if text:
            out.append({"lang": lang, "command": command, "page": page, "section": section, "key": key,
                        "text": text})

    if command in BUILTINS:
        for b in blocks:
            if b["tag"] and re.match(rf"^{re.escape(command)}( |$)", b["tag"]):
                add("DESCRIPTION", f"builtin:{command}", first_sentence(b["text"], lang))
                break
        return out
    # NAME is the page's first section; where it lists several names, the line naming the page
    first = blocks[0]["section"] if blocks else ""
    names = []
    for b in blocks:
        if b["section"] != first:
            break
        m = re.match(r"^(.*?)\s+[-–—]\s+(.*)$", b["text"])
        if m:
            names.append((re.split(r"[,\s]+", m.group(1)), m.group(2)))
    if names:
        mine = [t for n, t in names if page.rsplit(".", 1)[0] in n]
        add("NAME", "NAME", (mine or [names[0][1]])[0])
    desc = [b for b in blocks if canon_section(b["section"]) == "DESCRIPTION" and b["tag"] is None]
    if desc:
        for n, s in enumerate(sentences(desc[0]["text"], lang), 1):
            add("DESCRIPTION", f"D1.{n}", s)
    opts = [b for b in blocks if canon_section(b["section"]) == "OPTIONS"]
    if opts and opts[0]["tag"] is None and opts[0]["depth"] == 0:
        for n, s in enumerate(sentences(opts[0]["text"], lang), 1):
            add("DESCRIPTION", f"O0.{n}", s)
    seen = set()
    for b in blocks:
        if not b["tag"] or not b["text"]:
            continue
        where = {canon_section(b["section"]), canon_section(b["sub"])}
        if not (where & OPTION_SECTIONS or ("DESCRIPTION" in where and b["tag"].startswith("-"))):
            continue
        tag = b["tag"]
        if tag in seen:
            continue
        seen.add(tag)
        add("OPTION", tag, first_sentence(b["text"], lang))
    return out


# ---------------------------------------------------------------- packages

def fetch(debdir: str) -> None:
    pins = [f"{p}={v}" for p, v in PACKAGES.items()]
    subprocess.run(["apt-get", "download", *pins], cwd=debdir, check=True)


def find_deb(debdir: str, pkg: str) -> str:
    for f in sorted(os.listdir(debdir)):
        if f.endswith(".deb") and f.split("_")[0] == pkg:
            return os.path.join(debdir, f)
    raise SystemExit(f"no .deb for {pkg} in {debdir}")


def deb_version(deb: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", deb, "Version"], check=True, capture_output=True,
                          text=True).stdout.strip()


def write_phrases(path: str, rows: list[dict]) -> None:
    """One phrase per line, as JSON (UTF-8, not escaped)."""
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--debs", help="directory holding the .deb files (default: apt-get download into a scratch dir)")
    ap.add_argument("--out", default=os.path.join(HERE, "phrases.jsonl"))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="man-src-") as tmp:
        debdir = args.debs
        if not debdir:
            debdir = os.path.join(tmp, "debs")
            os.makedirs(debdir)
            fetch(debdir)
        versions, roots = {}, {}
        for pkg, want in PACKAGES.items():
            deb = find_deb(debdir, pkg)
            versions[pkg] = deb_version(deb)
            if versions[pkg] != want:
                print(f"warning: {pkg} is {versions[pkg]}, the set was built from {want}", file=sys.stderr)
            roots[pkg] = os.path.join(tmp, "x", pkg)
            os.makedirs(roots[pkg])
            subprocess.run(["dpkg-deb", "-x", deb, roots[pkg]], check=True)
        rows = []
        for lang, command, pkg, page, sec in PAGES:
            rel = (EN if lang == "en" else ZH).format(s=sec, p=page)
            path = os.path.join(roots[pkg], rel)
            if not os.path.exists(path):
                print(f"warning: {pkg} has no {rel}", file=sys.stderr)
                continue
            with gzip.open(path, "rb") as f:
                src = f.read().decode("utf-8", errors="replace")
            for p in phrases_of(lang, command, f"{page}.{sec}", src):
                p["package"], p["version"] = pkg, versions[pkg]
                rows.append(p)
    write_phrases(args.out, rows)
    print(f"{args.out}: {len(rows)} phrases from {len(PAGES)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
