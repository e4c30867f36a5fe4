"""Grounding: every argument of a plan is copied from the request (or the session history).

Paths are resolved against the current directory and always come out absolute and
normalised; pids, signals, interface names, device paths and times are recognised by
their form. Nothing here guesses: a value that is not in the request is not produced.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..tools.context import expand_home
from ..tools.registry import SIGNALS

# A path-like token: absolute, ./ ../ ~ prefixed, containing a slash, or name.ext.
_PATH_TOKEN = re.compile(
    r"""(?<![\w@:])(?:
        ~(?:/[^\s'",;]*)? |
        \.{1,2}(?:/[^\s'",;]*)? |
        /[^\s'",;]* |
        [\w.+@-]+/[^\s'",;]* |
        [\w+@-][\w+@-]*(?:\.[\w+@-]+)+
    )(?![\w])""",
    re.X,
)
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
# a URL (only install_update takes one): never a path, nor a name inside it
URL = re.compile(r"(?<![\w.+-])[a-z][a-z0-9+.-]*://[^\s'\"]+", re.I)
_INT = re.compile(r"(?<![\w.\-/])(-?\d+)(?![\w.:/-])")
_INTERFACE = re.compile(r"\b(?:eth\d+|wlan\d+|en[ops]\d\w*|wl[op]\d\w*|usb\d+|br\d+|wg\d+|can\d+)\b")
_DEVICE = re.compile(r"(?<![\w/])/dev/[\w./-]+")
_TIME = re.compile(r"\b(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?\b")
_SIGNAL = re.compile(r"\b(?:SIG)?(%s)\b" % "|".join(SIGNALS))
_GLOB = re.compile(r"(?<![\w/])[\w.-]*\*[\w.*-]*|\*")

# Words after "the ... " that name a directory or a file by a plain word.
_NAMED = re.compile(
    r"\b(?:the\s+)?(?:folder|directory|dir|file|script|program)\s*(?::\s*|\s(?:named\s+|called\s+)?)"
    r"(?!named\b|called\b|the\b|a\b|to\b|in\b|at\b|and\b|it\b|is\b|of\b|here\b)([\w.+@-]+)"
    r"|\b(?:the|my)\s+(?!parent\b|root\b|current\b|same\b|whole\b|text\b|new\b|empty\b|old\b|"
    # generic words that talk about a name without being one ("the specified folder: photos")
    r"specified\b|given\b|following\b|selected\b|above\b|below\b|said\b|mentioned\b|other\b|"
    r"next\b|previous\b|last\b|first\b|this\b|that\b)([\w.+@-]+)\s+(?:folder|directory|dir|file)\b"
    r"|\b(?:named|called)\s+([\w.+@-]+)",
    re.I,
)
# "the tmp directory" style names that are well-known top-level directories.
TOP_DIRS = ("tmp", "data", "etc", "var", "srv", "opt", "home", "mnt", "media", "boot",
            "usr", "dev", "proc", "sys", "run", "root", "model")

NOT_PATHS = frozenset({"e.g", "i.e", "etc.", "vs.", "a.m", "p.m"})


def resolve(path: str, cwd: str) -> str:
    """Absolute, normalised form of `path` relative to `cwd` ("~" is the data directory,
    as in the executor)."""
    p = expand_home(path.strip())
    if not p.startswith("/"):
        p = os.path.join(cwd or "/", p)
    p = os.path.normpath(p)
    if p.startswith("//"):
        p = "/" + p.lstrip("/")
    return p


# Signals named by what they do ("pause 42" is STOP, "forcibly terminate" is KILL), for a
# request that names no signal itself; Chinese has no word boundaries, so its words stand
# anywhere in the request.
SIGNAL_WORDS = {"pause": "STOP", "suspend": "STOP", "freeze": "STOP", "resume": "CONT",
                "continue": "CONT", "unpause": "CONT", "interrupt": "INT", "reload": "HUP",
                "hang up": "HUP", "force": "KILL", "forcefully": "KILL", "forcibly": "KILL",
                "forced": "KILL", "hard": "KILL"}
SIGNAL_WORDS_ZH = {"强制": "KILL", "强行": "KILL", "暂停": "STOP", "挂起": "STOP", "冻结": "STOP",
                   "恢复": "CONT", "继续": "CONT", "中断": "INT", "重新加载": "HUP", "重载": "HUP"}


def signal_meant(text: str) -> str | None:
    """The signal a request asks for by its meaning, or None."""
    low = text.lower()
    for w, sig in SIGNAL_WORDS.items():
        if re.search(r"\b%s\b" % w, low):
            return sig
    return next((sig for w, sig in SIGNAL_WORDS_ZH.items() if w in text), None)


@dataclass
class Entities:
    """Typed values found in one request segment, in order of appearance."""
    paths: list[str] = field(default_factory=list)        # as written (not resolved)
    quoted: list[str] = field(default_factory=list)
    ints: list[int] = field(default_factory=list)
    interfaces: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    times: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    globs: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)       # "the X folder", "file named X"
    urls: list[str] = field(default_factory=list)


def extract(text: str) -> Entities:
    e = Entities()
    for m in _QUOTED.finditer(text):
        e.quoted.append(m.group(1) if m.group(1) is not None else m.group(2))
    unquoted = _QUOTED.sub(" ", text)
    e.urls = [u.rstrip(".,;:!?") for u in URL.findall(unquoted)]
    unquoted = URL.sub(" ", unquoted)
    e.devices = _DEVICE.findall(unquoted)
    for m in _TIME.finditer(text):
        e.times.append(m.group(1) + (" " + m.group(2) if m.group(2) else ""))
    no_time = _TIME.sub(" ", unquoted)
    for m in _PATH_TOKEN.finditer(no_time):
        tok = m.group(0).rstrip(".?!:")
        if not tok or tok.lower() in NOT_PATHS or "*" in tok or re.fullmatch(r"[\d.]+", tok):
            continue
        if re.fullmatch(r"\d+(?:\.\d+)+\w*", tok):  # version numbers, sizes like 2.5
            continue
        e.paths.append(tok)
    e.ints = [int(x) for x in _INT.findall(no_time)]
    e.interfaces = _INTERFACE.findall(unquoted)
    e.signals = [s.upper() for s in _SIGNAL.findall(unquoted)]
    e.globs = [g for g in _GLOB.findall(unquoted) if g]
    for m in re.finditer(r"\b(?:named|called)\s+(?:\"([^\"]+)\"|'([^']+)')", text, re.I):
        e.names.append(m.group(1) if m.group(1) is not None else m.group(2))   # called "docs"
    for m in _NAMED.finditer(unquoted):
        name = next(g for g in m.groups() if g).rstrip(".?!:,;")   # "called projects."
        if name:
            e.names.append(name)
    return e


EXTENSIONS = ("txt", "log", "jpg", "jpeg", "png", "gif", "pdf", "mp3", "mp4", "py", "sh", "c", "h",
              "conf", "cfg", "json", "yaml", "yml", "csv", "md", "iso", "zip", "tar", "gz", "img",
              "bin", "html", "xml", "wav", "mkv", "avi", "doc", "docx", "deb", "pid", "bak", "tmp")


def glob_from_words(text: str) -> str | None:
    """"every .log file" -> "*.log", "jpg files" -> "*.jpg", "all pdfs" -> "*.pdf"."""
    m = re.search(r"(?<![\w*])\.(\w{1,6})\b(?:\s+files?)?", text)
    if m:
        return "*." + m.group(1)
    m = re.search(r"\b(%s)\s+files?\b" % "|".join(EXTENSIONS), text, re.I)
    if m:
        return "*." + m.group(1).lower()
    m = re.search(r"\b(?:all|every|my|the|any)\s+(%s)s?\b" % "|".join(EXTENSIONS), text, re.I)
    if m:
        return "*." + m.group(1).lower()
    return None


def dir_word(text: str) -> str | None:
    """A directory named in words: "the tmp directory", "the docs folder", "root"."""
    m = re.search(r"\bthe\s+([\w.-]+)\s+(?:folder|directory|dir)\b", text, re.I)
    if m and m.group(1).lower() not in ("parent", "root", "current", "same", "whole", "new"):
        return m.group(1)
    m = re.search(r"\b(?:folder|directory|dir)\s+(?:named\s+|called\s+)?([\w.-]+)", text, re.I)
    if m and m.group(1).lower() not in ("to", "in", "at", "and", "named", "called", "it", "here", "of", "for"):
        return m.group(1)
    return None


def top_dir(word: str) -> str:
    """Plain directory words: "tmp" in "switch to the tmp directory" is /tmp when cwd lacks it."""
    return "/" + word if word in TOP_DIRS else word
