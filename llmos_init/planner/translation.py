"""The trained model's plan: its canonical commands read back by the exact parser, every
argument grounded in what the user said.

The adapter (adapter.py) makes the model answer a request with canonical commands, one per
line (canonical.py), or canonical.NO_COMMAND when no command fits. Decoding runs under
answer_grammar(request): each line starts with a command the parser knows, and its
unquoted arguments are made of the request's own words, whole, joined into paths (the
model cannot write a word's tail, "/ratch" for "scratch"; `unwritten` holds a server's
answer, which may ignore the grammar, to the same language). Each line then goes to
`parse_shell` (cwd following `cd`), never through the step splitter: a quoted text with
";" or "and" in it stays one argument.

A line is accepted only when its arguments come from the request or the conversation:
- a path's last component, a process name, an interface, a host name or a pattern is
  written in the request (or is a path of an earlier action, or the cwd itself, except
  for what a destructive action changes: "rm ." for "删掉它" is no plan);
- a pid, a nice value or a time is written in the request (or an earlier action's pid);
- a write's text is a piece of the request, verbatim;
and only when the action itself is plausible (`implausible`): a non-destructive state change
needs a word that asks for it, an interface looks like one, nothing is moved onto itself.
A model that invents a file name, a pid or a text produces no plan; the planner falls back
and says so. What is left passes the guard and validation like every other plan.
"""
from __future__ import annotations

import functools
import json
import os
import re
import unicodedata
from dataclasses import dataclass

from .canonical import NO_COMMAND
from .grounding import resolve
from .guard import asks_for_change
from .parser import Context, file_like, parse_shell
from .templates import PATH_ARGS, ZH_INSIDE
from ..tools.context import DATA_DIR
from ..tools.registry import SIGNALS

# What a line may start with: the commands canonical.py writes (and an executable's path).
VERBS = ("ls", "cat", "mkdir", "rm", "stat", "cd", "umount", "ps", "uname -a", "date", "dmesg",
         "reboot", "poweroff", "help", "undo", "mv", "cp", "touch", "echo", "find", "df",
         "kill", "pkill", "renice", "lsblk", "ip link", "mount", "ifup", "ifdown", "hostname")
_LONGEST_FIRST = sorted(VERBS, key=len, reverse=True)   # "lsblk" before "ls"


# What an answer's arguments may be written with: the request's own words, whole (a
# word's tail is no name: "帮我弄一个叫 scratch 的新文件夹" was once decoded "mkdir /ratch"),
# joined into paths with the names of the current directory and of the conversation;
# Chinese characters one by one (a Chinese name is part of a longer run: "把相册删掉");
# anything in quotes (a text to write, a pattern: read_answer checks it is the request's);
# and the flags the canonical forms use (canonical.py).
_IN_WORD = frozenset("._-:~@%+=#&*^$")     # punctuation a file name or a flag is written with


def _arg_break(c: str) -> bool:
    """Whether `c` ends a word of the request: white space, "/", a Chinese character, or
    punctuation of any script ("«todo.md»", "：notes.txt") other than _IN_WORD's."""
    return c.isspace() or c == "/" or "\u3400" <= c <= "\u9fff" or c in "<>|`" or \
        (unicodedata.category(c).startswith("P") and c not in _IN_WORD)


def _pieces(source: str) -> list[str]:
    return "".join(" " if _arg_break(c) else c for c in source).split()


_FLAGS = ("-name", "-n", "-p", "-s", "-t", ">", ">>") + tuple(f"-{s}" for s in SIGNALS)
_LEADS = ("../", "~/", "./", "/")     # longest first
# a 1 MB request is not planned (runtime.translate: longer than the model's context); its
# grammar stays small
_MAX_WORDS, _MAX_CHARS = 400, 4096


def answer_words(request: str, cwd: str = "/", known: tuple[str, ...] = ()) -> list[str]:
    """The words an answer's unquoted arguments are made of: those of `request` as written
    (also without a sentence's closing "." or ":", and split at ":" and "=":
    "file:notes.txt"), the names in `cwd` and in `known` (an earlier action's paths), and
    the data directory's where the request writes "~" (the home: "~/music" is /data/music)."""
    got: dict[str, None] = {}
    home = (DATA_DIR,) if "~" in request else ()
    for source in (request, cwd, *known, *home):
        for w in _pieces(str(source)[:_MAX_CHARS]):
            for b in dict.fromkeys((w, w.rstrip(".:"))):
                # a number glued to a word is one as well ("pid9805", "调到-8"), as grounding reads it
                for v in (b, *re.split(r"[:=]", b), *re.findall(r"-?\d+", b)):
                    if v and v.isprintable():
                        got.setdefault(v)
    return list(got)[:_MAX_WORDS]


def grammar(lines: int = 4, request: str | None = None, cwd: str = "/",
            known: tuple[str, ...] = ()) -> str:
    """GBNF for an answer: NO_COMMAND, or 1 to `lines` lines each starting with a known
    command; given the request, every unquoted argument is made of its answer_words
    (`unwritten` holds any answer to the same language)."""
    verbs = " | ".join(f'"{v}"' for v in _LONGEST_FIRST)
    more = f' ("\\n" line){{0,{lines - 1}}}' if lines > 1 else ""
    head = [f'root ::= "{NO_COMMAND}" | line{more}', 'line ::= (verb | prog) rest',
            f'verb ::= {verbs}']
    if request is None:
        return "\n".join(head + ['prog ::= ("./" | "/") [^ \\n]+', 'rest ::= ( " " [^\\n]* )?']) + "\n"
    lit = lambda s: json.dumps(s, ensure_ascii=False)  # noqa: E731
    words = sorted(answer_words(request, cwd, known), key=len, reverse=True)
    return "\n".join(head + [
        'prog ::= ("./" | "/") path',
        'rest ::= (" " arg)*',
        'arg ::= flag | "-"? path | lead | quoted',
        "flag ::= " + " | ".join(lit(f) for f in sorted(_FLAGS, key=len, reverse=True)),
        "lead ::= " + " | ".join(lit(x) for x in _LEADS),
        'path ::= lead? comp ("/" comp)* "/"?',
        'comp ::= (word | [\\u3400-\\u9fff])+ | "." | ".." | "~"',
        "word ::= " + (" | ".join(lit(w) for w in words) or '"."'),
        # from a quote to a quote of the same kind: the echo form writes its text as it is
        # ("echo 'print('hi')' > a.py": canonical.py), shlex.quote's '"'"' included
        "quoted ::= \"'\" [^\\n]* \"'\" | \"\\\"\" [^\\n]* \"\\\"\"",
    ]) + "\n"


def _spelled(comp: str, words: set[str], longest: int) -> bool:
    """`comp` is a run of `words` and Chinese characters (a word-break search)."""
    if comp in (".", "..", "~"):
        return True
    ok = [True] + [False] * len(comp)
    for i in range(len(comp)):
        if not ok[i]:
            continue
        if "\u3400" <= comp[i] <= "\u9fff":
            ok[i + 1] = True
        for j in range(i + 1, min(len(comp), i + longest) + 1):
            if comp[i:j] in words:
                ok[j] = True
    return ok[-1]


def _path_ok_written(arg: str, words: set[str], longest: int) -> bool:
    for lead in _LEADS:         # longest first
        if arg.startswith(lead):
            arg = arg[len(lead):]
            break
    if arg.endswith("/"):
        arg = arg[:-1]
    return bool(arg) and all(c and _spelled(c, words, longest) for c in arg.split("/"))


def unwritten(answer: str, request: str, cwd: str = "/", known: tuple[str, ...] = (),
              lines: int = 4) -> str | None:
    """What of `answer` grammar(lines, request, cwd, known) does not admit, None when it
    admits it all (a server may ignore the grammar it is sent: read_answer holds its
    answer to the same language)."""
    if answer == NO_COMMAND:
        return None
    got = answer.split("\n")
    if len(got) > lines:
        return f"an answer of {len(got)} commands"
    words = set(answer_words(request, cwd, known))
    longest = max(map(len, words), default=0)
    for line in got:
        verb = next((v for v in _LONGEST_FIRST if line == v or line.startswith(v + " ")), None)
        if verb is None:     # a program: ./x or /bin/x, its path spelled like an argument
            verb = line.split(" ", 1)[0]
            if not (verb.startswith(("./", "/")) and _path_ok_written(verb, words, longest)):
                return f"the command {verb!r}"
        why = _args_unwritten(line[len(verb):], words, longest)
        if why:
            return why
    return None


def _args_unwritten(rest: str, words: set[str], longest: int) -> str | None:
    """What of the arguments `rest` (" arg arg ...") the grammar does not admit. A quoted
    argument may end at any quote of its kind that a space or the end follows: each
    reading is tried (positions memoised, so a reply full of quotes stays cheap)."""
    first: list[str] = []

    def bare_ok(arg: str) -> bool:
        if arg in _FLAGS or arg in _LEADS or _path_ok_written(arg, words, longest):
            return True
        return arg.startswith("-") and _path_ok_written(arg[1:], words, longest)

    @functools.lru_cache(maxsize=None)
    def ok(i: int) -> bool:
        if i == len(rest):
            return True
        if rest[i] != " " or i + 1 == len(rest):
            return False
        j = i + 1
        if rest[j] in "'\"":
            ends = [k for k in range(j + 1, len(rest)) if rest[k] == rest[j]
                    and (k + 1 == len(rest) or rest[k + 1] == " ")]
            if any(ok(k + 1) for k in ends):
                return True
        end = rest.find(" ", j)
        end = len(rest) if end < 0 else end
        arg = rest[j:end]
        if arg and bare_ok(arg):
            return ok(end)
        first.append(arg)
        return False

    return None if ok(0) else repr(first[0] if first else rest.strip())


# What makes a request more than one step: a conjunction or a list mark, in either language.
_STEP_MARK = re.compile(r"\b(?:and|then|also|after|afterwards|before|plus|next|finally|too)\b"
                        r"|[,;，；、&|]|然后|并且|并|再|和|与|及|接着|之后|以后|同时|顺便|另外|还", re.I)
_NAME_LIKE = re.compile(r"[^\s\"'“”‘’「」()（）,，;；:：、。!?！？]*[./][^\s\"'“”‘’「」()（）,，;；:：、。!?！？]*")


def max_lines(request: str) -> int:
    """How many commands an answer to `request` may have: one for a request of one clause
    naming at most one thing ("Iterate over the files in this directory: old.d" answered
    "ls\nfind ..." added a step nobody asked for), up to four otherwise."""
    if _STEP_MARK.search(request) or len(_NAME_LIKE.findall(request)) >= 2:
        return 4
    return 1


@dataclass
class Translation:
    plan: list[dict] | None      # None: no usable plan (see why)
    text: str                    # what the model answered
    why: str = ""


def _grounded(value: str, request: str, known: set[str]) -> bool:
    """`value` is written in the request as a whole word (".txt" is not in "a.txt", "note"
    is not in "notes"; a Chinese character next to it is a boundary), or is known."""
    if value in known:
        return True
    v = value.casefold().strip()
    if not v:
        return False
    return re.search(rf"(?<![a-z0-9_.-]){re.escape(v)}(?![a-z0-9_]|\.[a-z0-9])",
                     request.casefold()) is not None


def _written_pattern(pattern: str, request: str) -> bool:
    """A glob pattern written as such in the request, delimited by spaces, quotes or the
    end ("files matching *.tar.gz", "'core*'"): its dots and stars are its own."""
    return re.search(rf"(?<![^\s'\"`:：，,(（]){re.escape(pattern.casefold())}(?![^\s'\"`,，.。;；)）?？!！])",
                     request.casefold()) is not None


# What an interface name looks like (eth0, wlan0, enp0s3, lo, br-lan, usb0, can0):
# "caps" of "turn off caps lock" is none.
_INTERFACE = re.compile(r"lo|[a-z][a-z0-9_.:-]{0,14}\d[a-z0-9_.:-]*|(?:eth|wlan|br|bond|veth|docker|tun|tap)[a-z0-9_.:-]*")


# A file the request places in a directory: "a.txt from docs", "a.txt in the docs folder",
# "docs 里的 a.txt", "docs 目录下的 a.txt" (name, then the directory's word; the Chinese
# directory is the end of the text before 里的/下的).
_PLACED_EN = re.compile(r"(?<![\w./-])([\w.-]+\.[A-Za-z0-9]{1,8})\s+(?:from|in|inside|within|out of)"
                        r"\s+(?:the\s+)?([\w.-]+)", re.I)
_PLACED_ZH = re.compile(r"([^\s，。、；：,;:]+?)\s*(?:目录|文件夹)?\s*" + ZH_INSIDE.pattern +
                        r"\s*(?:文件|文档)?\s*([\w.-]+\.[A-Za-z0-9]{1,8})")


def places(request: str) -> list[tuple[str, str]]:
    """(file name, what the request says holds it) for each file it places in a directory
    (casefolded)."""
    got = [(m.group(1), m.group(2)) for m in _PLACED_EN.finditer(request)]
    got += [(m.group(2), m.group(1)) for m in _PLACED_ZH.finditer(request)]
    return [(n.casefold(), d.casefold()) for n, d in got]


def misplaced(action: dict, request: str) -> str | None:
    """A path of `action` whose name the request places in a directory, elsewhere: the model
    writes spans of the request and cannot join "docs" and "a.txt" ("delete a.txt in docs"
    answered with rm a.txt would remove another file)."""
    placed = places(request)
    if not placed:
        return None
    for key in PATH_ARGS:
        value = (action.get("args") or {}).get(key)
        if not isinstance(value, str):
            continue
        name = os.path.basename(value.rstrip("/")).casefold()
        parent = os.path.basename(os.path.dirname(value.rstrip("/"))).casefold()
        for n, d in placed:
            if name == n:
                if key != "dst" and not (parent and d.endswith(parent)):
                    return f"{value} is another {n} than the one the request places in a directory"
            elif name and d.endswith(name) and key != "dst" and action.get("tool") in ("remove", "move", "copy"):
                return f"{value} is the directory that holds {n}, not {n}"
    return None


# Words of the sentence that the model may copy where a name belongs ("kindly erase those
# thanks" -> rm thanks, "please delete nothing" -> rm nothing): never a name unless quoted.
_NOT_NAMES = frozenset("""thanks thank thx ty please pls plz cheers sorry nothing none nobody
everything anything something all those these them it that this 谢谢 请 什么 没有 一切""".split())


def _sentence_word(value: str, request: str) -> bool:
    w = os.path.basename(str(value).rstrip("/")).casefold()
    return w in _NOT_NAMES and not re.search(r"[\"'“”‘’「」]\s*" + re.escape(w) + r"\s*[\"'“”‘’「」]",
                                             request.casefold())


_FILE_WORD = re.compile(r"\b(?:files?|datei|fichier|empty|blank|touch)\b|文件|空白", re.I)


def implausible(action: dict, request: str, cwd: str = "/") -> str | None:
    """Why `action` cannot be what `request` asks for, whatever its arguments."""
    tool, args = action.get("tool"), action.get("args") or {}
    if not asks_for_change(tool, request):
        return f"nothing in the request asks for {tool}"
    for key in (*PATH_ARGS, "name"):
        if isinstance(args.get(key), str) and _sentence_word(args[key], request):
            return f"{args[key]!r} is a word of the sentence, not a name"
    placed = misplaced(action, request)
    if placed:
        return placed
    if tool in ("link_up", "link_down") and not _INTERFACE.fullmatch(str(args.get("interface", ""))):
        return f"{args.get('interface')!r} is not a network interface"
    if tool in ("move", "copy") and args.get("src") == args.get("dst"):
        return f"{tool} of {args.get('src')} onto itself"
    if tool == "write_file" and args.get("text") == "" and not _FILE_WORD.search(request) and \
            not file_like(str(args.get("path", ""))):    # "Create /srv/www", "Create .cache"
        return f"an empty {args.get('path')} with no word for a file may be a folder"
    if tool == "set_priority" and isinstance(args.get("nice"), int) and not -20 <= args["nice"] <= 19:
        return f"{args['nice']} is not a nice value (-20..19)"
    if tool in ("move", "copy") and _reversed(str(args.get("src")), str(args.get("dst")), request, cwd):
        return f"{tool} {args.get('src')} -> {args.get('dst')} reverses the order the request gives them"
    return None


# Words that say which of two names is the destination; without one, two names written
# side by side are source then destination, as cp and mv take them ("Copy one or more
# files a.txt backup/a.txt", "复制文件 a.txt b.txt").
_DIRECTION = re.compile(r"\b(?:to|into|onto|as|from|over|under|inside|in)\b|到|至|为|成|从|进|入|给", re.I)


def _reversed(src: str, dst: str, request: str, cwd: str) -> bool:
    """The request writes both names, destination first, and no word says which is which."""
    if _DIRECTION.search(request):
        return False
    words = _words(request)
    at = []
    for value in (src, dst):
        spots = [i for i, w in enumerate(words) if w and resolve(w, cwd) == value]
        if len(spots) != 1:
            return False        # not written as one word, or twice: the order says nothing
        at.append(spots[0])
    return at[1] < at[0]


# Where one written word of a request ends: white space, quotes, brackets and the
# punctuation of either language (a colon too: "Delete the given files: ~/a.txt").
_WORD_BREAK = re.compile(r"[\s\"'“”‘’「」()（）\[\]<>,，;；:：、。!?！？]+")
_CJK_EDGE = re.compile(r"^[\u3400-\u9fff]+|[\u3400-\u9fff]+$")


def _words(request: str) -> list[str]:
    """The written words of `request`, Chinese around a Latin word dropped ("把/tmp/a.txt删掉")."""
    return [_CJK_EDGE.sub("", w) for w in _WORD_BREAK.split(request)]


def _written_paths(request: str) -> list[str]:
    """The words of `request` written with a directory ("/tmp/copy.txt", "~/music",
    "docs/a.txt")."""
    words = (w.rstrip(".") for w in _words(request))
    return [w for w in words if "/" in w.strip("/") or w.startswith(("/", "~/"))]


def relocated(path: str, request: str, cwd: str, known: set[str]) -> bool:
    """`path`'s name is written in the request only with a directory, and `path` is not
    that place: "cp config.v2.yaml tmp/copy.txt" for "... /tmp/copy.txt" would write
    /data/tmp/copy.txt, "find /music" for "~/music" searches another directory. A span of
    the request copies a whole word, not its tail."""
    if path in known:
        return False
    base = os.path.basename(path.rstrip("/")).casefold()
    if not base:
        return False
    same = [w for w in _written_paths(request) if os.path.basename(w.rstrip("/")).casefold() == base]
    if not same or any(resolve(w, cwd) == path for w in same):
        return False
    # the name written alone as well ("copy a.txt to /tmp/a.txt"): that one may be meant
    bare = rf"(?<![\w./~-]){re.escape(base)}(?![\w/]|\.[a-z0-9])"
    return re.search(bare, request.casefold()) is None


def _path_ok(path: str, request: str, ctx: Context, known: set[str], named: bool = False) -> bool:
    """`named`: the path must be written in the request or the conversation (what a
    destructive action changes); otherwise the cwd, / and its parent count as given."""
    if path in known:
        return True
    if not named and (path == ctx.cwd or path in ("/", os.path.dirname(ctx.cwd.rstrip("/")) or "/")):
        return True
    base = os.path.basename(path.rstrip("/"))
    return bool(base) and _grounded(base, request, known) and not relocated(path, request, ctx.cwd, known)


def known_values(ctx: Context) -> tuple[str, ...]:
    """The conversation's values an answer may name: the arguments of its earlier actions."""
    return tuple(dict.fromkeys(str(v) for a in ctx.actions for v in (a.get("args") or {}).values()
                               if isinstance(v, (str, int))))


def ungrounded(action: dict, request: str, ctx: Context) -> str | None:
    """The first argument of `action` that the request and the conversation do not give."""
    known = set(known_values(ctx))
    from ..tools.registry import DESTRUCTIVE
    named = action.get("tool") in DESTRUCTIVE
    for key, value in (action.get("args") or {}).items():
        if key in PATH_ARGS or (key == "device" and str(value).startswith("/")):
            if not _path_ok(str(value), request, ctx, known, named=named and key != "dst"):
                return f"{key} {value}"
        elif key == "text":
            if value and value not in request:
                return f"text {value!r}"
        elif key in ("pid", "nice"):
            if str(value) not in known and not re.search(rf"(?<!\d){re.escape(str(abs(int(value))))}(?!\d)", request):
                return f"{key} {value}"
        elif key in ("name", "interface", "pattern", "fstype", "device"):
            v = str(value)
            core = v.strip("*.") if key == "pattern" else v
            if key == "pattern" and _written_pattern(v, request):
                continue        # "matching *.tar.gz": the pattern as written
            if core and not _grounded(core, request, known):
                return f"{key} {value}"
        elif key == "time":
            if not all(part in request for part in re.findall(r"\d+", str(value))):
                return f"time {value}"
        elif key == "args":
            if not all(_grounded(str(x), request, known) for x in value):
                return f"args {value}"
    return None


_HERE = re.compile(r"(?<![\w.])\.(?![\w./])|\b(?:here|this (?:directory|folder|dir)|current "
                   r"(?:directory|folder|dir)|working directory|where i am)\b|当前|这里|这儿|此目录|这个目录", re.I)


def _names_here(request: str) -> bool:
    """The request names the current directory ("cd .", "stay here", "当前目录")."""
    return _HERE.search(request) is not None


def answer_grammar(request: str, ctx: Context) -> str:
    """The grammar the model (or a server) decodes its answer to `request` under."""
    return grammar(max_lines(request), request, ctx.cwd, known_values(ctx))


def read_answer(answer: str, request: str, ctx: Context) -> Translation:
    """The plan in the model's answer, or why there is none."""
    text = answer.strip()
    if not text:
        return Translation(None, answer, "no answer")
    if text == NO_COMMAND:
        return Translation([], answer, "no command fits")
    cwd = ctx.cwd
    plan: list[dict] = []
    for line in text.splitlines()[:4]:
        here = Context(cwd=cwd, actions=list(ctx.actions) + plan)
        acts = parse_shell(line, here)
        if not acts or any(a["tool"] == "clarify" for a in acts):
            return Translation(None, answer, f"not a command: {line!r}")
        for a in acts:
            why = ungrounded(a, request, here)
            if why:
                return Translation(None, answer, f"{why} is not in the request")
            why = implausible(a, request, here.cwd)
            if why:
                return Translation(None, answer, why)
            if a["tool"] == "change_dir" and a["args"].get("path") == cwd and not _names_here(request):
                # "go up a directory" answered with cd . : going nowhere is no reading of a
                # request to go somewhere
                return Translation(None, answer, "a change of directory to where it already is")
            if a["tool"] == "change_dir":
                cwd = a["args"]["path"]
        plan.extend(acts)
    # and what the grammar would not let the local model write (a server may ignore it)
    why = unwritten(text, request, ctx.cwd, known_values(ctx), max_lines(request))
    if why:
        return Translation(None, answer, f"{why} is not written in the request")
    return Translation(plan, answer)


def translate(rt, request: str, ctx: Context) -> Translation:
    """Ask the adapter for canonical commands and read them back."""
    answer = rt.translate(request, ctx.cwd, grammar_text=answer_grammar(request, ctx))
    return read_answer(answer, request, ctx)
