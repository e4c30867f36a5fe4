"""What the console shows, made safe for a terminal.

Everything that reaches the terminal from outside the console itself (file names, file
contents, process names, model tokens, error messages) passes through `terminal_safe`: complete
ANSI/VT escape sequences are removed, and every remaining C0/C1 control character (except
newline and tab), DEL and the Unicode bidi/format controls are shown as visible escapes
such as ``\\x1b``. A hostile file therefore cannot move the cursor, change colours, retitle
the window or hide text. (Tools make their data printable at the source, in their own
notation: tools/text.printable says why the two differ.)

The helpers below format the console's own lines: plan actions (``→ list_dir /data``),
errors, refusals, replies and the banner. They return plain strings; `style` adds ANSI
attributes only when the terminal is not dumb.
"""
from __future__ import annotations

import unicodedata


# A complete escape sequence: CSI (ESC [ or U+009B), OSC/DCS/SOS/PM/APC strings ended by
# BEL or ST, SS2/SS3 with one character, or ESC plus one intermediate/final character.
# Compiled at first use: `re` is not on the console's way to its prompt (~40 ms under TCG).
_ANSI_PATTERN = r"""
    (?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]       # CSI ... final
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)  # strings
  | \x1b[NO][\x20-\x7e]                                      # SS2 / SS3
  | \x1b[\x20-\x2f]*[\x30-\x7e]                              # other ESC sequences
    """
_SEQUENCE_STARTS = frozenset("\x1b\x9b\x90\x98\x9d\x9e\x9f")  # every match begins with one
_ansi = None


def _ansi_re():
    global _ansi
    if _ansi is None:
        import re
        _ansi = re.compile(_ANSI_PATTERN, re.VERBOSE)
    return _ansi


# Bidi embeddings/overrides/isolates and other invisible format characters that can make
# text display differently from what it is.
_FORMAT_CONTROLS = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A)) | {0x200E, 0x200F, 0x061C}


def strip_ansi(text: str) -> str:
    """Remove complete terminal escape sequences."""
    if not _SEQUENCE_STARTS.intersection(text):   # the usual case: nothing to compile for
        return text
    return _ansi_re().sub("", text)


def _escape_char(ch: str) -> str:
    cp = ord(ch)
    if cp < 0x100:
        return f"\\x{cp:02x}"
    return f"\\u{cp:04x}"


def _needs_escape(cp: int, keep_newlines: bool) -> bool:
    if cp == 0x0A:
        return not keep_newlines
    if cp == 0x09:
        return False
    return cp < 0x20 or 0x7F <= cp <= 0x9F or cp in _FORMAT_CONTROLS


def terminal_safe(text: object, keep_newlines: bool = True) -> str:
    """Make untrusted text safe to write to a terminal.

    ANSI sequences are stripped, CRLF becomes LF, and every other control character is
    replaced by a visible escape. With keep_newlines=False a newline is escaped too (for
    text that must stay on one line, such as a file name in the prompt).
    """
    if not isinstance(text, str):
        text = str(text)
    text = strip_ansi(text).replace("\r\n", "\n")
    if not any(_needs_escape(ord(c), keep_newlines) for c in text):
        return text
    return "".join(_escape_char(c) if _needs_escape(ord(c), keep_newlines) else c for c in text)


def char_width(ch: str) -> int:
    """Columns a character takes on a terminal: 0 for combining marks, 2 for wide CJK."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Me", "Mn", "Cf"):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2
    return 1


def text_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "…"


def shorten_left(text: str, limit: int) -> str:
    """Keep the end of `text` (the interesting part of a long path)."""
    if text_width(text) <= limit:
        return text
    out = []
    width = 0
    for ch in reversed(text):
        w = char_width(ch)
        if width + w > limit - 1:
            break
        out.append(ch)
        width += w
    return "…" + "".join(reversed(out))


# --- styles ---------------------------------------------------------------------------

_STYLES = {"dim": "2", "bold": "1", "red": "31", "yellow": "33", "green": "32", "cyan": "36"}


def style(text: str, name: str, ansi: bool) -> str:
    """Wrap already-sanitized text in an SGR attribute when the terminal understands ANSI."""
    if not ansi or name not in _STYLES:
        return text
    return f"\x1b[{_STYLES[name]}m{text}\x1b[0m"


# --- the console's own lines ----------------------------------------------------------

ARG_TEXT_LIMIT = 60


def _format_arg(value: object, quote: bool = False) -> str:
    if isinstance(value, list):
        return " ".join(_format_arg(v) for v in value)
    text = terminal_safe(value, keep_newlines=False)
    if isinstance(value, str) and (quote or text == "" or any(c.isspace() for c in text) or '"' in text):
        return '"' + shorten(text.replace('"', '\\"'), ARG_TEXT_LIMIT) + '"'
    return shorten(text, ARG_TEXT_LIMIT)


def format_action(action: dict) -> str:
    """One plan line: ``→ move /data/a.txt /data/b.txt``, ``→ kill_process pid=12 signal=KILL``.

    Arguments come in the registry's order; path-like arguments are shown bare, others as
    name=value. Unknown arguments (which validation rejects anyway) are shown last.
    """
    name = str(action.get("tool", "?"))
    args = action.get("args") or {}
    if not isinstance(args, dict):
        args = {}
    from ..tools.registry import TOOLS  # not on the way to the first prompt
    tool = TOOLS.get(name)
    order = list(tool.arg_names) if tool else []
    order += [k for k in args if k not in order]
    parts = []
    for key in order:
        if key not in args:
            continue
        kind = None
        if tool:
            kind = next((a.type for a in tool.args if a.name == key), None)
        value = _format_arg(args[key], quote=kind == "text")
        if kind in ("path", "text") or (tool and len(tool.args) == 1 and kind != "int"):
            parts.append(value)
        else:
            parts.append(f"{terminal_safe(key, keep_newlines=False)}={value}")
    return "→ " + " ".join([terminal_safe(name, keep_newlines=False)] + parts)


def format_error(message: object) -> str:
    return "error: " + terminal_safe(message)


def format_exception(exc: BaseException) -> str:
    text = str(exc)
    name = type(exc).__name__
    return format_error(f"{name}: {text}" if text else name)


def format_refusal(action: dict, reason: object) -> str:
    return f"refused: {format_action(action)[2:]}: {terminal_safe(reason)}"


def human_size(n: int | float) -> str:
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    value = float(n)
    for unit in units:
        if value < 1024 or unit == units[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def human_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def format_prompt(hostname: str, cwd: str, columns: int = 80) -> str:
    """``<hostname>:<cwd>> ``, the directory shortened from the left so the prompt leaves
    at least half the line for typing."""
    host = terminal_safe(hostname, keep_newlines=False) or "llmos"
    host = shorten(host, 24)
    room = max(8, columns // 2 - text_width(host) - 3)
    return f"{host}:{shorten_left(terminal_safe(cwd, keep_newlines=False), room)}> "


def status_text(elapsed: float, planner_status: str | None = None) -> str:
    text = "… thinking"
    if planner_status == "loading":
        text += " (model loading)"
    if elapsed >= 1.0:
        text += f" {int(elapsed)}s"
    return text
