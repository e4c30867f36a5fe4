"""Canonical commands: the one textual form per action that the shell parser reads back exactly.

A small model is fine-tuned to answer a request with canonical commands (one per line)
instead of JSON: they are short (about ten tokens), close to what it saw in pre-training,
and `parse_shell` turns each line back into exactly the action it stands for.

    command(action, cwd)  -> "rm notes.txt"   (None: no exact form for this action)
    commands(plan, cwd)   -> one command per line, cwd following change_dir (None: some
                             action has none)
    prompt(request, cwd)  -> the text the model is given before its answer; the answer is
                             commands(...) + fmt.answer_end
    NO_COMMAND            -> "?": the answer to a request that no command fits (a question
                             about an action, a negation, a statement, chat): answer or ask

Every form is checked by parsing it back (`parse_shell(line, Context(cwd=cwd)) == [action]`)
before it is returned, so a value the parser would read differently (a name that is an
English referent, a text with a newline, a signal it does not know) yields None rather
than a command that means something else.  Pure Python: this runs in the guest.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from .parser import Context, parse_shell


@dataclass(frozen=True)
class Format:
    """A model family's turn markers around the prompt and the answer.  No system turn:
    the prompt stays short.  answer_end is one special token of that family's vocabulary."""
    user_start: str
    assistant_start: str
    answer_end: str
    bos: bool          # the family's models need their BOS token first (Gemma does)


CHATML = Format("<|im_start|>user\n", "<|im_start|>assistant\n", "<|im_end|>", False)   # SmolLM2
GEMMA = Format("<start_of_turn>user\n", "<start_of_turn>model\n", "<end_of_turn>", True)
# GGUF general.architecture or HF model_type → its format; anything else is ChatML
_FORMATS = {"gemma3": GEMMA, "gemma3_text": GEMMA, "gemma2": GEMMA, "gemma": GEMMA}


def format_for(architecture: str | None) -> Format:
    return _FORMATS.get((architecture or "").lower(), CHATML)

# The model's whole answer when no command fits the request: the console answers or asks
# instead (commands() never returns it: it is the target of requests with no plan).
NO_COMMAND = "?"

_SAFE = re.compile(r"[\w@%+=:,./-]+")   # as shlex.quote's safe set, but any letter (é, 中)


def prompt(request: str, cwd: str, fmt: Format = CHATML) -> str:
    """The exact text before the model's answer: the request and the current directory
    (without the BOS token, which the tokenizer adds when fmt.bos)."""
    return f"{fmt.user_start}cwd={cwd}\n{request.strip()}{fmt.answer_end}\n{fmt.assistant_start}"


def answer(plan: list[dict], cwd: str, fmt: Format = CHATML) -> str | None:
    """The full training target after prompt(): the commands and the terminator."""
    c = commands(plan, cwd)
    return None if c is None else c + fmt.answer_end


def quote(word: str) -> str:
    """A shell word for `word`: as it is when it has nothing the shell would read, else
    shlex.quote's single quotes."""
    return word if _SAFE.fullmatch(word) else shlex.quote(word)


def _path_forms(path: str, cwd: str) -> list[str]:
    """The ways to write `path`, preferred first: relative when it lies inside cwd (and cwd
    is not /), else absolute."""
    forms = []
    if not isinstance(path, str) or not path:
        return forms
    base = cwd.rstrip("/")
    if base and path.startswith(base + "/") and len(path) > len(base) + 1:
        rel = path[len(base) + 1:]
        forms += [quote(rel), quote("./" + rel)]
    elif base and path == base:
        forms.append(".")
    forms.append(quote(path))
    return forms


def _candidates(action: dict, cwd: str) -> list[str]:
    tool, a = action.get("tool"), action.get("args") or {}
    P = lambda p: _path_forms(p, cwd)  # noqa: E731
    simple = {"list_processes": "ps", "system_info": "uname -a", "get_time": "date",
              "kernel_log": "dmesg", "reboot": "reboot", "poweroff": "poweroff",
              "help": "help", "undo": "undo"}
    if tool in simple:
        return [simple[tool]]
    if tool == "list_dir":
        return (["ls"] if a.get("path") == cwd else []) + [f"ls {p}" for p in P(a.get("path"))]
    one = {"read_file": "cat", "make_dir": "mkdir", "remove": "rm", "file_info": "stat",
           "change_dir": "cd", "unmount": "umount"}
    if tool in one:
        key = "target" if tool == "unmount" else "path"
        return [f"{one[tool]} {p}" for p in P(a.get(key))]
    if tool in ("move", "copy"):
        verb = "mv" if tool == "move" else "cp"
        return [f"{verb} {s} {d}" for s in P(a.get("src")) for d in P(a.get("dst"))]
    if tool in ("write_file", "append_file"):
        text = a.get("text")
        if not isinstance(text, str):
            return []
        if tool == "write_file" and text == "":
            return [f"touch {p}" for p in P(a.get("path"))]
        # the echo form takes its path as written (no shell unquoting): a plain word only
        paths = [p for p in P(a.get("path")) if _SAFE.fullmatch(p) or not re.search(r"[\s'\"]", p)]
        texts = [f"'{text}'", f'"{text}"', text]
        op = ">>" if tool == "append_file" else ">"
        return [f"echo {t} {op} {p}" for p in paths for t in texts]
    if tool == "find_files":
        pat = a.get("pattern")
        if not isinstance(pat, str):
            return []
        paths = P(a.get("path"))
        return [f"find {p} -name {quote(pat)}" for p in paths]
    if tool == "disk_usage":
        return ["df"] if not a else [f"df {p}" for p in P(a.get("path"))]
    if tool == "kill_process":
        sig = f"-{a['signal']} " if isinstance(a.get("signal"), str) else ""
        if "pid" in a:
            return [f"kill {sig}{a['pid']}"] if isinstance(a["pid"], int) else []
        if isinstance(a.get("name"), str):
            return [f"pkill {sig}{quote(a['name'])}"]
        return []
    if tool == "start_program":
        path = a.get("path")
        forms = [f for f in P(path) if f.startswith(("/", "./", "'/", "'./"))]
        if isinstance(path, str) and path.startswith(cwd.rstrip("/") + "/"):
            rel = "./" + path[len(cwd.rstrip("/")) + 1:]
            forms.insert(0, quote(rel))
        args = a.get("args")
        if args is not None and not (isinstance(args, list) and all(isinstance(x, str) for x in args)):
            return []
        tail = "".join(" " + quote(x) for x in (args or []))
        return [f + tail for f in dict.fromkeys(forms)]
    if tool == "set_priority":
        if not isinstance(a.get("pid"), int):
            return []
        if "nice" in a:
            return [f"renice -n {a['nice']} -p {a['pid']}"] if isinstance(a["nice"], int) else []
        return [f"renice -p {a['pid']}"]
    if tool == "list_devices":
        return {"block": ["lsblk"], "network": ["ip link"]}.get(a.get("kind"), [])
    if tool == "mount":
        dev, fst = a.get("device"), a.get("fstype")
        if not isinstance(dev, str):
            return []
        t = f"-t {quote(fst)} " if isinstance(fst, str) else ""
        return [f"mount {t}{quote(dev)} {p}" for p in P(a.get("target"))]
    if tool in ("link_up", "link_down"):
        i = a.get("interface")
        # not `ip link set X up`: parse_shell reads four words after `ip` as English
        return [f"{'ifup' if tool == 'link_up' else 'ifdown'} {quote(i)}"] if isinstance(i, str) else []
    if tool == "set_time":
        t = a.get("time")
        return [f"date -s '{t}'"] if isinstance(t, str) else []
    if tool == "set_hostname":
        n = a.get("name")
        return [f"hostname {quote(n)}"] if isinstance(n, str) else []
    return []   # answer, clarify and anything unknown: no command stands for them


def command(action: dict, cwd: str) -> str | None:
    """The canonical one-line command for `action` at `cwd`, or None when no form reads back
    as exactly this action."""
    if not isinstance(action, dict):
        return None
    try:
        cands = _candidates(action, cwd)
    except (TypeError, KeyError, AttributeError):
        return None
    want = [{"tool": action.get("tool"), "args": dict(action.get("args") or {})}]
    for c in cands:
        if "\n" in c or "\r" in c:
            continue
        try:
            got = parse_shell(c, Context(cwd=cwd))
        except Exception:   # a form the parser chokes on is no form
            continue
        if got == want:
            return c
    return None


def commands(plan: list[dict], cwd: str) -> str | None:
    """One canonical command per action, newline-joined; cwd follows change_dir.  None when
    the plan is empty or any action has no canonical form (an empty plan's target is
    NO_COMMAND, and a model answer of NO_COMMAND means "no command fits: answer or ask")."""
    if not plan:
        return None
    lines = []
    for a in plan:
        c = command(a, cwd)
        if c is None:
            return None
        lines.append(c)
        if a.get("tool") == "change_dir":
            cwd = a["args"]["path"]
    return "\n".join(lines)
