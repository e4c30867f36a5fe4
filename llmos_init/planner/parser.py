"""The deterministic parser: shell-style commands and clear English forms become actions.

`parse_segment` returns the actions for one step of a request, or None when the form is not
one it recognises (the model's turn). It never guesses an argument: a recognised intent
without its required argument becomes `clarify`. Destructive tools are produced only from
explicit destructive verbs; the planner's guard checks that again for every plan.
"""
from __future__ import annotations

import ast
import operator
import os
import re
import shlex
from dataclasses import dataclass, field

from ..tools.registry import SIGNALS
from . import grounding as g
from . import text as T
from .grounding import URL, Entities, extract, resolve, signal_meant
from .text import KNOWN_WORDS as _KNOWN


def act(tool: str, **args) -> dict:
    return {"tool": tool, "args": args}


def clarify(question: str) -> dict:
    return act("clarify", question=question)


@dataclass
class Context:
    """What a step may refer to: the current directory and earlier actions ("it", "there")."""
    cwd: str = "/"
    actions: list[dict] = field(default_factory=list)   # earlier actions, oldest first

    def remember(self, actions: list[dict]) -> None:
        self.actions.extend(actions)

    def _last(self, keys: tuple[str, ...]):
        for a in reversed(self.actions):
            for k in keys:
                if k in a.get("args", {}):
                    return a["args"][k]
        return None

    def last_path(self) -> str | None:
        for a in reversed(self.actions):
            args = a.get("args", {})
            for k in ("dst", "path", "target"):
                if k in args and a["tool"] != "find_files":
                    return args[k]
        return None

    def last_pid_or_name(self) -> dict | None:
        for a in reversed(self.actions):
            args = a.get("args", {})
            if "pid" in args:
                return {"pid": args["pid"]}
            if a["tool"] == "kill_process" and "name" in args:
                return {"name": args["name"]}
        return None

    def last_interface(self) -> str | None:
        return self._last(("interface",))

    def last_target(self) -> str | None:
        return self._last(("target",)) or self.last_path()


# ---- helpers --------------------------------------------------------------------------

_REF = re.compile(r"\b(it|that|this one|that one|them|there|that file|that folder|the same)\b", re.I)
_REFERENT_WORDS = frozenset({"it", "that", "this", "them", "there", "the", "process", "file",
                             "folder", "directory", "program", "everything", "all"})
KNOWN_FILES = frozenset("""readme makefile license changelog dockerfile hostname fstab passwd
shadow hosts group motd issue profile crontab resolv.conf os-release authorized_keys
messages syslog""".split())

# The words for a directory, plurals included ("create directories photos" is a make_dir,
# never an empty file called photos)
DIR_NOUN = r"(?:folders?|director(?:y|ies)|dirs?|dossiers?|verzeichniss?e?|ordner)"


def _has(low: str, pattern: str) -> bool:
    return re.search(pattern, low) is not None


def _refers(low: str) -> bool:
    return _REF.search(low) is not None


def _looks_like_file(path: str) -> bool:
    base = os.path.basename(path.rstrip("/"))
    if path.endswith("/") or base in ("", ".", ".."):
        return False
    if base.lower() in KNOWN_FILES:
        return True
    return bool(re.search(r"\.\w{1,8}$", base)) and not base.startswith(".") or \
        (base.startswith(".") and base.count(".") >= 1 and len(base) > 1 and "/" not in base[1:]
         and base not in (".", ".."))


def _paths(ents: Entities, low: str, ctx: Context, exclude: tuple[str, ...] = ()) -> list[str]:
    """Resolved paths of a step, in order: explicit paths, then named things."""
    out = [p for p in ents.paths if p not in exclude]
    for n in ents.names:
        if n not in out and n not in exclude and not any(n in p for p in out):
            out.append(n)
    return [resolve(p, ctx.cwd) for p in out]


def _one_path(ents: Entities, low: str, ctx: Context, default_cwd: bool = False,
              words_dir: bool = True) -> str | None:
    ps = _paths(ents, low, ctx)
    if ps:
        return ps[0]
    if words_dir:
        if _has(low, r"\b(parent|up one|one level up|up a level)\b"):
            return os.path.dirname(ctx.cwd.rstrip("/")) or "/"
        if _has(low, r"\b(the )?root( directory| folder)?\b"):
            return "/"
        if _has(low, r"\b(here|this (directory|folder|dir)|current (directory|folder|dir))\b"):
            return ctx.cwd
        w = g.dir_word(low)
        if w:
            return resolve(w, ctx.cwd)
    if _refers(low):
        p = ctx.last_path()
        if p:
            return p
    if default_cwd:
        return ctx.cwd
    return None


def _listed_paths(seg: str, ents: Entities) -> list[str] | None:
    """The paths of "a.txt and b.txt", "a, b and c" (two or more, nothing but commas, "and"
    or "&" between them), as written; None when the request does not list them so."""
    if len(ents.paths) < 2:
        return None
    pos, spans = 0, []
    for p in ents.paths:
        i = seg.find(p, pos)
        if i < 0:
            return None
        spans.append((i, i + len(p)))
        pos = i + len(p)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        if not re.fullmatch(r"\s*(?:,|&|and|,\s*and|和|及|与|、)\s*", seg[end:start], re.I):
            return None
    return list(ents.paths)


def _text_arg(seg: str, ents: Entities) -> str | None:
    """The text to write: everything after the text marker, verbatim (one quoted string
    loses its quotes: "with the text 'a b'"); else the first quoted string."""
    m = T.TEXT_MARKER.search(seg)
    if m:
        text = seg[m.end():].strip()
        q = re.fullmatch(r"'([^']*)'|\"([^\"]*)\"", text)
        if q:
            return q.group(1) if q.group(1) is not None else q.group(2)
        if text[:1] in "'\"" and text[:1] in text[1:]:   # 'a b' and more: the quote ends it
            return text[1:text.index(text[0], 1)]
        return text
    if ents.quoted:
        return ents.quoted[0]
    return None


# ---- shell-style commands ------------------------------------------------------------

def split_shell(seg: str) -> list[str] | None:
    """`seg` split as a shell would (quotes kept together), or None when its quotes do not close."""
    try:
        return shlex.split(seg)
    except ValueError:
        return None


def _flags_and_args(argv: list[str]) -> tuple[list[str], list[str]]:
    flags = [a for a in argv if a.startswith("-") and a != "-"]
    args = [a for a in argv if not (a.startswith("-") and a != "-")]
    return flags, args


def parse_shell(seg: str, ctx: Context) -> list[dict] | None:
    argv = split_shell(seg)
    if not argv:
        return None
    cmd, rest = argv[0].lower(), argv[1:]
    flags, args = _flags_and_args(rest)
    if any(a.lower() in _REFERENT_WORDS for a in args):
        return None  # "kill it", "unmount it": a reference, the English rules resolve it
    if cmd != "echo" and any(URL.fullmatch(a) for a in args):
        return None  # "rm http://host/x": a URL is no path (only install_update fetches one)
    cwd = ctx.cwd
    R = lambda p: resolve(p, cwd)  # noqa: E731

    # Shell-style commands only count when the rest looks like arguments, not English.
    englishy = len(args) > 2 and cmd not in ("echo", "find", "mount", "kill", "renice", "date")
    if englishy:
        return None

    if cmd in ("ls", "dir", "ll", "la", "l"):
        return [act("list_dir", path=R(args[0]) if args else cwd)] if len(args) <= 1 else None
    if cmd in ("cat", "less", "more", "head", "tail", "type", "bat", "view"):
        if not args:
            return [clarify("Which file should I show?")]
        return [act("read_file", path=R(args[0]))] if len(args) == 1 else None
    if cmd == "touch":
        if not args:
            return [clarify("Which file should I create?")]
        return [act("write_file", path=R(a), text="") for a in args]
    if cmd == "echo":
        m = re.match(r"^\s*echo\s+(.*?)\s*(>>?)\s*(\S+)\s*$", seg, re.I)
        if not m:
            return [act("answer", text=" ".join(rest))]
        text = m.group(1)
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            text = text[1:-1]
        tool = "append_file" if m.group(2) == ">>" else "write_file"
        return [act(tool, path=R(m.group(3)), text=text)]
    if cmd in ("mkdir", "md"):
        if not args:
            return [clarify("What should the new directory be called?")]
        return [act("make_dir", path=R(a)) for a in args]
    if cmd in ("rm", "rmdir", "del", "unlink", "rd"):
        if not args:
            return [clarify("What should I delete?")]
        return [act("remove", path=R(a)) for a in args]
    if cmd in ("mv", "cp", "copy", "move", "ren"):
        tool = "move" if cmd in ("mv", "move", "ren") else "copy"
        if cmd in ("copy", "move") and not all(re.search(r"[/.~]", a) for a in args):
            return None  # English ("copy the file"), not DOS
        if len(args) != 2:
            if len(args) < 2:
                return [clarify("What should I %s, and where to?" % ("move" if tool == "move" else "copy"))]
            return None
        return [act(tool, src=R(args[0]), dst=R(args[1]))]
    if cmd in ("stat", "file"):
        if not args:
            return [clarify("Which file?")]
        return [act("file_info", path=R(args[0]))] if len(args) == 1 else None
    if cmd == "find":
        path, pattern = cwd, None
        i = 0
        while i < len(rest):
            a = rest[i]
            if a in ("-name", "-iname") and i + 1 < len(rest):
                pattern = rest[i + 1]
                i += 2
                continue
            if not a.startswith("-") and pattern is None and i == 0:
                path = R(a)
            i += 1
        if pattern is None:
            return None
        return [act("find_files", pattern=pattern, path=path)]
    if cmd in ("df",):
        return [act("disk_usage", path=R(args[0]))] if args else [act("disk_usage")]
    if cmd == "cd":
        if not args:
            return [act("change_dir", path="/")]
        return [act("change_dir", path=R(args[0]))] if len(args) == 1 else None
    if cmd in ("pwd",):
        return [act("answer", text=cwd)]
    if cmd in ("ps", "top", "htop", "pstree", "jobs"):
        return [act("list_processes")]
    if cmd in ("kill", "killall", "pkill"):
        return _shell_kill(cmd, rest)
    if cmd == "renice":
        nums = [a for a in rest if re.fullmatch(r"-?\d+", a)]
        nice = pid = None
        if "-n" in rest:
            i = rest.index("-n")
            if i + 1 < len(rest) and re.fullmatch(r"-?\d+", rest[i + 1]):
                nice = int(rest[i + 1])
        if "-p" in rest:
            i = rest.index("-p")
            if i + 1 < len(rest) and re.fullmatch(r"\d+", rest[i + 1]):
                pid = int(rest[i + 1])
        m = re.fullmatch(r"\s*renice\s+(\d+)\s+to\s+(-?\d+)\s*", seg, re.I)
        if m and nice is None and pid is None:  # "renice 55 to -5": the process, then its value
            return [act("set_priority", pid=int(m.group(1)), nice=int(m.group(2)))]
        rem = [int(n) for n in nums if not ((nice is not None and int(n) == nice) or (pid is not None and int(n) == pid))]
        if nice is None and rem:
            nice = rem.pop(0)
        if pid is None and rem:
            pid = rem.pop(0)
        if pid is None:
            return [clarify("Which process (pid)?")]
        return [act("set_priority", pid=pid, nice=nice)] if nice is not None else [act("set_priority", pid=pid)]
    if cmd in ("uptime", "uname", "free", "nproc", "whoami", "arch", "lscpu", "vmstat", "w"):
        return [act("system_info")]
    if cmd == "hostname":
        if args:
            return [act("set_hostname", name=args[0])] if len(args) == 1 else None
        return [act("system_info")]
    if cmd in ("hostnamectl",) and len(args) == 2 and args[0] == "set-hostname":
        return [act("set_hostname", name=args[1])]
    if cmd in ("lsblk", "blkid", "fdisk"):
        return [act("list_devices", kind="block")]
    if cmd in ("ifconfig",) and not args:
        return [act("list_devices", kind="network")]
    if cmd == "ip":
        if args[:1] in (["link"], ["l"], ["addr"], ["a"], ["address"]) and len(args) == 1:
            return [act("list_devices", kind="network")]
        if args[:2] == ["link", "set"] and len(args) == 4 and args[3] in ("up", "down"):
            return [act("link_up" if args[3] == "up" else "link_down", interface=args[2])]
        return None
    if cmd in ("ifup", "ifdown"):
        if len(args) != 1:
            return [clarify("Which interface?")]
        return [act("link_up" if cmd == "ifup" else "link_down", interface=args[0])]
    if cmd == "mount":
        fstype = None
        if "-t" in rest:
            i = rest.index("-t")
            fstype = rest[i + 1] if i + 1 < len(rest) else None
            rest2 = rest[:i] + rest[i + 2:]
        else:
            rest2 = rest
        _, pos = _flags_and_args(rest2)
        if not pos:
            return [act("list_devices", kind="block")]
        if len(pos) == 1:
            return [clarify(f"Where should I mount {pos[0]}?")]
        if len(pos) != 2:
            return None
        # with -t, a source without a slash is the filesystem's own name (tmpfs, proc, none)
        named = fstype is not None and "/" not in pos[0]
        a = act("mount", device=pos[0] if pos[0].startswith("/") or named else R(pos[0]), target=R(pos[1]))
        if fstype:
            a["args"]["fstype"] = fstype
        return [a]
    if cmd in ("umount", "unmount", "eject"):
        if not args:
            return [clarify("Which mount point should I unmount?")]
        return [act("unmount", target=R(args[0]))] if len(args) == 1 else None
    if cmd == "date":
        m = re.search(r"(?:-s|--set)(?:=|\s+)['\"]?([^'\"]+)['\"]?", seg)
        if m:
            return [act("set_time", time=m.group(1).strip())]
        return [act("get_time")] if not args else None
    if cmd in ("dmesg", "journalctl"):
        return [act("kernel_log")]
    if cmd == "reboot":
        return [act("reboot")] if not args else None
    if cmd in ("poweroff", "halt"):
        return [act("poweroff")] if not args else None
    if cmd == "shutdown":
        if "-r" in flags:
            return [act("reboot")]
        if not args or args == ["now"]:
            return [act("poweroff")]
        return None
    if cmd in ("help", "man", "?"):
        return [act("help")] if not args or cmd == "help" else None
    if cmd == "undo":
        return [act("undo")] if not args else None
    if cmd in ("clear", "reset", "cls"):
        return [act("answer", text="")] if not args else None
    # An executable named by its path: "./backup.sh", "/data/bin/agent -v".
    if argv[0].startswith(("./", "/", "../")) and not re.search(r"[\u3400-\u9fff]", argv[0]):
        rest_words = [a for a in rest if not a.startswith("-")]
        if any(w.isalpha() and w.lower() in ("and", "the", "to", "please") for w in rest_words):
            return None
        a = act("start_program", path=R(argv[0]))
        if rest:
            a["args"]["args"] = rest
        return [a]
    return None


def _shell_kill(cmd: str, rest: list[str]) -> list[dict] | None:
    sig = None
    targets: list[str] = []
    i = 0
    while i < len(rest):
        a = rest[i]
        if a in ("-s", "--signal") and i + 1 < len(rest):
            sig = rest[i + 1].upper().removeprefix("SIG")
            i += 2
            continue
        if a.startswith("-") and len(a) > 1:
            v = a[1:].upper().removeprefix("SIG")
            sig = _SIGNAL_NUMBERS.get(v, v)
        else:
            targets.append(a)
        i += 1
    if sig is not None and sig not in SIGNALS:
        return [clarify(f"I don't know the signal {sig}; use one of {', '.join(SIGNALS)}.")]
    if not targets:
        return [clarify("Which process should I signal (pid or name)?")]
    out = []
    if any(not t.isdigit() and t.lower() in _KNOWN for t in targets):
        return None  # English ("kill the httpd process")
    for t in targets:
        a = act("kill_process", **({"pid": int(t)} if t.isdigit() and cmd == "kill" else {"name": t}))
        if sig:
            a["args"]["signal"] = sig
        out.append(a)
    return out


# ---- English ---------------------------------------------------------------------------

_GREETING = re.compile(
    r"^(?:hello|hi|hey|hiya|howdy|yo|good (?:morning|afternoon|evening|night|job)|"
    r"thanks?(?: you)?(?: very much| so much| a lot)?|thx|cheers|bye|goodbye|bonjour|"
    r"hola|hallo|guten (?:tag|morgen)|ciao|merci|danke|gracias|nice|great|cool|ok|okay|"
    r"well done)\b[\s!.,]*(?:there|again|friend)?[\s!.]*$",
    re.I,
)
_ARITH_WORDS = {"plus": "+", "minus": "-", "times": "*", "multiplied by": "*", "x": "*",
                "divided by": "/", "over": "/"}


def _arith(low: str) -> str | None:
    m = re.match(r"^(?:what(?:'s| is)|calculate|compute|how much is)\s+(.+?)\??$", low)
    if not m:
        return None
    expr = m.group(1)
    for w, op in _ARITH_WORDS.items():
        expr = re.sub(r"\b%s\b" % re.escape(w), op, expr)
    if not re.fullmatch(r"[\d\s+\-*/().]+", expr) or not re.search(r"\d\s*[-+*/]\s*\(?\s*\d", expr):
        return None
    try:
        value = _safe_eval(ast.parse(expr, mode="eval").body)
    except (ValueError, SyntaxError, ZeroDivisionError, TypeError):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{m.group(1).strip()} = {value}"


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _safe_eval(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_safe_eval(node.left), _safe_eval(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_safe_eval(node.operand)
    raise ValueError("not arithmetic")


_FIND_NOT_NAMES = frozenset("""files file everything it that them something anything all stuff out
things folders directories me""".split())


def _find(seg: str, low: str, ents: Entities, ctx: Context) -> list[dict] | None:
    cwd = ctx.cwd
    if _has(low, r"^(find|search|locate|look for|where are|any|list every|list all)\b|\bsearch for\b|\blook for\b"):
            pat = ents.globs[0] if ents.globs else None
            if pat is None:
                m = re.search(r"\b(?:named|called|matching)\s+(\S+)", seg, re.I)
                pat = m.group(1) if m else g.glob_from_words(seg)
            if pat is None:  # "find passwd", "search for backup.tar in /srv": a plain name
                m = re.search(r"^(?:find|search for|search|locate|look for)\s+(?:the\s+|a\s+|my\s+)?(?:file\s+)?"
                              r"([\w.+-]+)(?:\s+(?:in|under|inside|within|below|from)\s+\S+)?\s*$", seg.rstrip(" ?."), re.I)
                if m and m.group(1).lower() not in _FIND_NOT_NAMES:
                    pat = m.group(1)
            if pat is not None:
                rest = [p for p in ents.paths if p != pat and not p.endswith(pat)]
                m = re.search(r"\b(?:in|under|inside|within|below|from)\s+(?:the\s+|my\s+)?(\S+)(?:\s+(?:folder|directory|dir))?\s*$", seg.rstrip(" ?."), re.I)
                if m and m.group(1) not in (pat,):
                    path = resolve(m.group(1), cwd) if m.group(1).lower() not in ("here", "this") else cwd
                elif rest:
                    path = resolve(rest[-1], cwd)
                else:
                    path = cwd
                return [act("find_files", pattern=pat, path=path)]
            if _has(low, r"^(find|search|locate)\b"):
                return [clarify("What should I look for (a name or pattern like *.log)?")]
    return None


_SIGNAL_NUMBERS = {"9": "KILL", "15": "TERM", "1": "HUP", "2": "INT", "19": "STOP", "18": "CONT",
                   "10": "USR1", "12": "USR2"}


def file_like(path: str) -> bool:
    """A name that is a file's on its face: an extension ("notes.txt") or a known file name."""
    base = path.rstrip("/").rsplit("/", 1)[-1]
    return "." in base.lstrip(".") or base.lower() in KNOWN_FILES


def _file_or_folder(name: str) -> dict:
    return clarify(f"Should {name} be a file or a folder? Say 'create a file {name}' "
                   f"or 'create a folder {name}'.")


def _write(seg: str, low: str, ents: Entities, ctx: Context) -> list[dict] | None:
    cwd = ctx.cwd
    if _has(low, r"^(create|make|new|write|overwrite|erstelle|cr[ée]e)\b.*\b(file|datei|fichier)\b|^(create|overwrite|write)\b") and \
            not _has(low, r"\b%s\b" % DIR_NOUN):
        text = _text_arg(seg, ents)
        cand = [p for p in ents.paths if text is None or p not in text]
        m = re.search(r"\b(?:file|datei|fichier)\s+(?:named\s+|called\s+)?([\w./+-]+)", seg, re.I)
        if not cand and m and m.group(1).lower() not in ("with", "containing", "saying", "named", "called"):
            cand = [m.group(1)]
        m2 = re.search(r"^overwrite\s+(\S+)\s+with\s+(.+)$", seg, re.I)
        if m2:
            cand, text = [m2.group(1)], m2.group(2).strip().strip("'\"")
        if not cand:
            bare = re.fullmatch(r"(?:create|make|new)\s+([\w.+-]+)", seg.strip(" ?!."), re.I)
            if bare and text is None and not file_like(bare.group(1)):   # "create notes"
                return [_file_or_folder(bare.group(1))]
            return [clarify("What should the file be called?")]
        if text is None:
            m3 = re.search(r"\b" + re.escape(cand[0]) + r"\s+(?:with\s+)?(?:saying|containing|with)\s+(.+)$", seg)
            if m3:
                text = m3.group(1)
        if text is None and _has(low, r"\bempty\b"):
            text = ""
        if text is None and not _has(low, r"\b(file|datei|fichier)\b") and not file_like(cand[0]):
            # "create /srv/www": a name with no extension, and no word for a file: which?
            return [_file_or_folder(cand[0])]
        if text is None:
            if _has(low, r"\b(create|make|new)\b"):
                text = ""
            else:
                return [clarify("What text should the file contain?")]
        return [act("write_file", path=resolve(cand[0], cwd), text=text)]
    return None


def parse_english(seg: str, ctx: Context) -> list[dict] | None:
    low = seg.lower().strip(" ?!.")
    ents = extract(seg)
    cwd = ctx.cwd

    if not low or low == "?":
        return [act("help")]
    if _has(low, r"^(create|write|make|new|overwrite|erstelle|cr[ée]e)\b.*?\b(with (the )?(text|content|contents|line)|containing|saying|mit dem text|avec le texte)\b"):
        written = _write(seg, low, ents, ctx)
        if written is not None:
            return written
    # -- conversation
    if _GREETING.match(low):
        return [act("answer")]
    ar = _arith(low)
    if ar:
        return [act("answer", text=ar)]
    if _has(low, r"^(undo|revert|oops|undelete|restore)\b|\bundo\b|\bbring back\b|\brevert\b|\bput it back\b"):
        return [act("undo")]
    if _has(low, r"^help\b|\bwhat can you do\b|\bwhich commands\b|\bwhat commands\b|\bhow do i use (this|you)\b|\bshow (the )?help\b|\bhelp me\b"):
        return [act("help")]

    if _has(low, r"^(who (are|is|made|built|created|wrote)|why|explain|define|tell me a joke|tell me a story|what is an? \w+$|what are \w+$)\b|\b(temperature|how hot|how warm|weather)\b"):
        return [act("answer")]

    # -- files: find (before signals: "find files named *kill*")
    found = _find(seg, low, ents, ctx)
    if found is not None:
        return found

    # -- power
    if _has(low, r"\b(reboot|rebooot|restart|starte neu|red[ée]marre)\b") and not ents.ints and \
            not _has(low, r"\b(process|program|service|nginx|sshd|daemon)\b") and \
            not ents.paths:
        return [act("reboot")]
    iface_words = bool(ents.interfaces) or _has(low, r"\b(interface|network|link|connection|wifi|ethernet)\b")
    proc_words = bool(ents.ints) or _has(low, r"\b(process|pid|program|task)\b")
    if _has(low, r"\b(power ?off|power down|shut ?down|switch off|turn off|turn the (machine|computer|system|pi|box) off|halt|[ée]teins)\b") \
            and not iface_words and not proc_words and not ents.paths:
        return [act("poweroff")]

    # -- processes: signals
    kill_verb = _has(low, r"\b(kill|killall|pkill|terminate|interrupt|signal|send (the )?(sig)?\w+ (signal )?to|beende|shut down process)\b|\bsend sig") \
        or _has(low, r"^(stop|end|pause|suspend|resume|continue|freeze|unpause)\b") \
        or (bool(ents.signals) and bool(ents.ints) and _has(low, r"\b(process|pid|reload|tell)\b"))
    if kill_verb and not _has(low, r"\b(interface|eth\d|wlan\d)\b") and not _has(low, r"\b(file|folder|directory)\b"):
        sig = ents.signals[0] if ents.signals else None
        if sig is None:
            sig = signal_meant(low)
        # "send signal 15 to 42": 15 is the signal's number, not a pid
        numbered = re.search(r"\bsignal\s+(\d{1,2})\b(?=\s+to\b)", low)
        if numbered and sig is None:
            sig = _SIGNAL_NUMBERS.get(numbered.group(1))
            if sig is None:
                return [clarify(f"I don't know the signal {numbered.group(1)}; use one of {', '.join(SIGNALS)}.")]
        ints = [n for n in ents.ints if n > 0 and not (numbered and str(n) == numbered.group(1))]
        pid = next(iter(ints), None)
        target: dict | None = {"pid": pid} if pid is not None else None
        listed = re.search(r"(?<![\w.-])\d+(?:\s*(?:,|and|&)\s*(?:and\s+)?\d+)+(?![\w.-])", low)
        if listed and pid is not None:   # "kill 99 and 31337": one kill per pid
            pids = [int(x) for x in re.findall(r"\d+", listed.group(0))]
            if len(pids) > 1 and set(pids) <= set(ints):
                return [act("kill_process", pid=n, **({"signal": sig} if sig else {})) for n in pids]
        if target is None:
            m = re.search(r"\b(?:named|called)\s+(?!it\b)([\w.+-]+)", seg, re.I) or \
                re.search(r"\b(?:kill|killall|pkill|stop|terminate|end)\s+(?:the\s+)?(?!it\b|that\b|the\b|process\b|program\b|all\b|everything\b)([\w.+-]+)(?:\s+process)?\b", seg, re.I)
            if m and m.group(1).lower() not in ("process", "program", "it", "that", "the", "a"):
                target = {"name": m.group(1)}
        if target is None and _refers(low):
            target = ctx.last_pid_or_name()
        if target is None:
            return [clarify("Which process (pid or name)?")]
        a = act("kill_process", **target)
        if sig:
            a["args"]["signal"] = sig
        return [a]

    # -- file information
    if _has(low, r"\b(how big|size of|what size|how large|when was|last modified|modified|who owns|owner|permissions?|details about|info(rmation)? (for|about|on)|file info|is .* a (file|directory|folder)|how old|readable|writable|executable|stat)\b") \
            or _has(low, r"^(size|details)\b"):
        if not ents.paths and not ents.names and not _refers(low) and _has(low, r"\b(disk|drive|memory|ram|storage)\b"):
            pass
        else:
            p = _one_path(ents, low, ctx, words_dir=False)
            if p is None:
                return [clarify("Which file?")]
            return [act("file_info", path=p)]

    # -- system information (judged on the words, not on paths like /etc/hostname)
    low_words = " ".join(w for w in low.split() if "/" not in w)
    if _has(low_words, r"\b(uptime|up time|been up|been running|kernel( version)?|cpus?|cores|processors|load( average)?|memory|ram|system info|sysinfo|hostname|host name|machine called|this (computer|machine)|about this|os version)\b") \
            and not _has(low, r"\b(process|program)\w*\b.*\b(most|using|use|uses)\b|\b(which|what) (process|program)|hogging"):
        return [act("system_info")]

    # -- processes
    if _has(low, r"\b(process(es)?|proccesses|running|tasks|pid|programs|hogging|cpu)\b") and not ents.paths:
        return [act("list_processes")]

    # -- write / append
    m = re.search(r"^(?:append|add|tack|echo)\s+(?:the line\s+|the text\s+|a line\s+)?(.+?)\s+(?:to|onto|at the end of|to the end of)\s+(?:the end of\s+)?(\S+)$", seg, re.I)
    if m and _has(low, r"^(append|add|tack)\b"):
        text = m.group(1).strip()
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            text = text[1:-1]
        target = m.group(2)
        path = ctx.last_path() if target.lower() in ("it", "that") else resolve(target, cwd)
        if path is None:
            return [clarify("Which file should I add it to?")]
        if text.lower() in ("to", "it", "") or text.lower().startswith("to "):
            pass
        else:
            return [act("append_file", path=path, text=text)]
    m = re.search(r"^(?:append|add)\s+to\s+(\S+)\s+(?:the text|the line|text|line)?\s*(.+)$", seg, re.I)
    if m:
        text = m.group(2).strip().strip("'\"")
        return [act("append_file", path=resolve(m.group(1), cwd), text=text)]
    if _has(low, r"^append\b"):
        return [clarify("What text should I append, and to which file?")]

    m = re.search(r"^(?:write|put|save|store)\s+(?:the text\s+|text\s+)?(.+?)\s+(?:to|in|into|inside)\s+(?:the file\s+|file\s+)?(\S+)$", seg, re.I)
    if m and not _has(low, r"^(put|save|store)\s+\S+\s+(in|into)\s+/") or (m and ents.quoted):
        text = m.group(1).strip()
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            text = text[1:-1]
        target = m.group(2)
        path = ctx.last_path() if target.lower() in ("it", "that") else resolve(target, cwd)
        if path:
            return [act("write_file", path=path, text=text)]
    written = _write(seg, low, ents, ctx)
    if written is not None:
        return written

    # -- directories
    if _has(low, r"\b(make|create|new|add|crée|cree|erstelle|need)\b.*\b%s\b" % DIR_NOUN) or _has(low, r"^(mkdir|new dir)\b"):
        ps = _paths(ents, low, ctx)
        m = re.search(r"\b%s\s+(?:named\s+|called\s+)?" % DIR_NOUN + r"(?!for\b|named\b|called\b|in\b|at\b)([\w.+-][\w./+-]*)", seg, re.I)
        inside = re.search(r"\b(?:in|inside|under|within)\s+(\S+)\s*$", seg, re.I)
        name = None
        if ps:
            name = ps[0]
        elif m:
            name = resolve(m.group(1), cwd)
        if name is None:
            return [clarify("What should the new directory be called?")]
        if inside and not ps[:1] == [resolve(inside.group(1), cwd)] and not os.path.isabs(m.group(1) if m else "/"):
            base = resolve(inside.group(1), cwd)
            if m:
                name = resolve(m.group(1), base)
        elif inside and m and len(ps) >= 1 and ps[0] == resolve(inside.group(1), cwd):
            name = resolve(m.group(1), ps[0])
        if m and ps and inside is None:
            pass
        return [act("make_dir", path=name)]

    # -- remove
    if _has(low, r"^(delete|remove|erase|rm|del|trash|wipe|nuke|destroy|borra|elimina|l[öo]sche|supprime|efface)\b|\b(get rid of|throw away|delete|remove)\b"):
        if _has(low, r"\b(everything|all files|all of it|every file)\b") and not ents.paths:
            return [clarify("What exactly should I delete? Name the file or directory.")]
        listed = _listed_paths(seg, ents)
        if listed:   # "delete a.txt and b.txt", "remove a, b and c": one action per object
            return [act("remove", path=resolve(x, cwd)) for x in listed]
        ref = re.search(r"\b(?:it|that)\s*(?:,|and|&)\s*(?=\S)|(?:,|and|&)\s*(?:it|that)\b", low)
        if ref and len(ents.paths) == 1:
            # "delete it and config.yaml" (after "show summary.txt"): both; never one alone
            named, last = resolve(ents.paths[0], cwd), ctx.last_path()
            if not ctx.actions or ctx.actions[-1]["tool"] == "copy" or last in (None, named):
                word = re.search(r"\b(?:it|that)\b", ref.group(0)).group(0)
                return [clarify(f"Which file is '{word}' besides {ents.paths[0]}? Name both.")]
            both = [last, named] if low.find(ref.group(0)) < low.find(ents.paths[0].lower()) else [named, last]
            return [act("remove", path=x) for x in both]
        if _refers(low) and not ents.paths and ctx.actions and ctx.actions[-1]["tool"] == "copy":
            # after a copy, "it" is the original or the copy: never guess which to delete
            a = ctx.actions[-1]["args"]
            return [clarify(f"Do you mean the original {a['src']} or the copy in {a['dst']}?")]
        frm = re.search(r"^\S+\s+(?:the\s+)?(?:file\s+)?(\S+)\s+(from|in|inside)\s+(?:the\s+)?(\S+?)"
                        r"(?:\s+(?:folder|directory|dir))?[.!?]*$", seg.strip(), re.I)
        if frm and len(ents.paths) <= 2 and not os.path.isabs(frm.group(1)) and (
                frm.group(2).lower() == "from" or
                # "in": a file in a directory ("delete summary.txt in photos"), not a part
                # of a file ("delete the typo in notes.txt" is an edit, veto.py)
                _looks_like_file(frm.group(1)) and not _looks_like_file(frm.group(3))):
            # "delete budget.xlsx from logs": the file in that directory
            return [act("remove", path=resolve(frm.group(1).rstrip(".?!,"), resolve(frm.group(3), cwd)))]
        p = _one_path(ents, low, ctx, words_dir=True)
        if p is None:
            return [clarify("What should I delete? Name the file or directory.")]
        return [act("remove", path=p)]

    # -- move / copy
    mv = _has(low, r"^(move|rename|relocate|mvoe|mv|put)\b")
    cp = _has(low, r"^(copy|cpy|duplicate|make a copy of|back up|backup|kopiere|copie|copia)\b")
    if mv or cp:
        tool = "move" if mv else "copy"
        body = re.sub(r"^(?:make a copy of|back up|\w+)\s+(?:the (?:file|folder|directory)\s+)?", "", seg.rstrip(" .!?"), flags=re.I)
        m = None
        for sep in ("to", "into", "as", "onto", "nach", "vers", "in", "at"):
            m = re.search(r"^(.+?)\s+%s\s+(?:the\s+)?(.+?)(?:\s+(?:folder|directory|dir))?$" % sep, body, re.I)
            if m:
                break
        there = re.match(r"^(.+?)\s+(there|here|over there)$", body, re.I)
        if not m and there:     # "move b.txt there" (after "mkdir work"): the place named last
            m = there
        if not m:
            return [clarify(f"What should I {tool}, and where to?")]
        src_w, dst_w = m.group(1).strip(), m.group(2).strip()
        if dst_w.lower() in ("it", "that", "there", "over there", "that folder", "that directory",
                             "here"):
            place = cwd if dst_w.lower() == "here" else ctx.last_path()
            if place is None or place == resolve(src_w.split()[-1], cwd):
                return [clarify(f"Where should I {tool} {src_w}?")]
            dst_w = place
        if src_w.lower() in ("it", "that", "this") :
            src = ctx.last_path()
        elif src_w.lower() in ("everything", "all", "the file", "file", "everything in here"):
            src = None
        else:
            src_w = re.sub(r"^(everything in|all of|the contents of)\s+", "", src_w, flags=re.I)
            # "a.txt from docs" (or "in docs", "out of docs"): the file in that directory,
            # never the directory itself
            where = re.match(r"^(?:the\s+)?(?:file\s+)?(\S+)\s+(?:from|in|inside|out of)\s+(?:the\s+)?"
                             r"(\S+?)(?:\s+(?:folder|directory|dir))?$", src_w, re.I)
            if where:   # an absolute name stands as written
                src = resolve(where.group(1), resolve(where.group(2), cwd))
            else:
                src = resolve(src_w.split()[-1], cwd) if src_w else None
        dst_tok = dst_w.split()[-1] if dst_w else ""
        base = os.path.dirname(src) if src and not os.path.isabs(dst_tok) and tool == "move" and "/" not in dst_tok and _has(low, r"^(rename)\b") else cwd
        dst = resolve(dst_tok, base) if dst_tok else None
        if src is None or dst is None:
            return [clarify(f"What should I {tool}, and where to?")]
        return [act(tool, src=src, dst=dst)]

    # -- show / read / list
    dir_verbs = r"\b(list|ls|what'?s (in|inside)|what is in|contents of (the )?(parent|this|that|current)?\s*(folder|directory|dir)|files (in|here)|what files|which files|the files|listing|enumerate|zeige|liste|inhalt|what'?s here|whats here|in this directory|inside)\b"
    file_verbs = r"\b(cat|read|print|less|more|head|view|peek|let me see|what does .* say|written in|muestra|lis)\b"
    show_verbs = r"\b(show|display|open|see|give me|muestra|zeige|montre)\b"
    is_dir_req = _has(low, dir_verbs)
    is_file_req = _has(low, file_verbs)
    if is_dir_req or is_file_req or _has(low, show_verbs) or _has(low, r"^(what'?s|whats)\b"):
        p = _one_path(ents, low, ctx, default_cwd=False, words_dir=True)
        explicit_file = _has(low, r"\b(the file|a file|file called|file named|this file|that file)\b")
        mq = re.search(r"\b(?:called|named)\s+(?:'([^']+)'|\"([^\"]+)\")(?:\s+(?:in|under|inside)\s+(\S+))?", seg, re.I)
        if mq:
            p = resolve(mq.group(1) or mq.group(2), resolve(mq.group(3), cwd) if mq.group(3) else cwd)
        if p is None:
            m = re.search(r"\b(?:show|display|open|read|view|see|list|ls|in)\s+(?:me\s+)?(?:the\s+)?(\.\.?|[\w.+-]*[\w+-])\.?\s*$", seg, re.I)   # "list backups." = backups
            if m and m.group(1).lower() not in ("it", "that", "me", "files", "file", "them", "again", "here", "this", "there", "everything", "all", "contents", "directory", "folder"):
                p = resolve(m.group(1), cwd)
        if p is None:
            if _refers(low) and ctx.last_path() is None:
                return [clarify("Which file or directory do you mean?")]
            if is_dir_req or _has(low, r"\b(files|here|folder|directory)\b"):
                p = cwd
            elif explicit_file:
                return [clarify("Which file?")]
            else:
                return None
        if _refers(low) and not ents.paths and ctx.actions:
            last = ctx.actions[-1]
            if last["tool"] in ("read_file", "write_file", "append_file") and p == ctx.last_path():
                if is_dir_req and not is_file_req:
                    return [act("list_dir", path=p)]
                return [act("read_file", path=p)]
            if last["tool"] in ("make_dir", "list_dir", "change_dir", "mount", "copy", "move") and not explicit_file:
                if last["tool"] in ("copy", "move") and _looks_like_file(p):
                    return [act("read_file", path=p)]
                return [act("list_dir", path=p)]
        if explicit_file or (is_file_req and not is_dir_req):
            return [act("read_file", path=p)]
        if is_dir_req and not _looks_like_file(p):
            return [act("list_dir", path=p)]
        return [act("read_file" if _looks_like_file(p) else "list_dir", path=p)]
    return None
