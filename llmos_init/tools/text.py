"""Text for a serial terminal: human sizes, aligned tables, and safe strings.

Everything the executors print goes through `printable()` (or a table built from it): names and
file contents are data and may hold any bytes, so control characters are shown in caret
notation (ESC as ^[) and invalid UTF-8 as U+FFFD. Nothing raw ever reaches the terminal.

Why two escapers, this one and console/render.terminal_safe: they guard two different
things. printable() makes *data* into text at its source, for a tool's result, which is
also written to the audit log and handed to the planner's history: every byte stays
visible there (an escape sequence in a file name is shown as ^[[2J, never dropped), and
undecodable names become U+FFFD. terminal_safe() is the terminal's last guard for
everything the console writes, the model's tokens and its own messages included: it
drops complete escape sequences and shows any other control (and bidi controls) as \x1b.
A tool's result passes both; after printable() only bidi controls are left for
terminal_safe() to escape.
"""
from __future__ import annotations

import os
import time

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(n: int | float) -> str:
    """12 B, 1.2 KiB, 340 MiB, 2.0 GiB."""
    n = float(n)
    for unit in _UNITS:
        if abs(n) < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(n)} B"
            return f"{n:.1f} {unit}" if abs(n) < 10 else f"{n:.0f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def human_duration(seconds: float) -> str:
    seconds = int(seconds)
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    if d:
        return f"{d}d {h}h {m}m"
    if h:
        return f"{h}h {m}m"
    if m:
        return f"{m}m {s}s"
    return f"{s}s"


def fmt_time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _caret(ch: str) -> str:
    o = ord(ch)
    if o == 0x7F:
        return "^?"
    if o < 0x20:
        return "^" + chr(o + 0x40)
    return "?"  # C1 controls (U+0080..U+009F)


def printable(s: str | bytes, keep_newlines: bool = False) -> str:
    """A string safe to print: no control characters, no invalid UTF-8, no escapes."""
    if isinstance(s, bytes):
        s = s.decode("utf-8", "replace")
    elif any("\udc80" <= c <= "\udcff" for c in s):
        # os.listdir() gives undecodable bytes as surrogates; show them as U+FFFD
        s = os.fsencode(s).decode("utf-8", "replace")
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif ch == "\t":
            out.append("    " if not keep_newlines else ch)
        elif o < 0x20 or o == 0x7F or 0x80 <= o < 0xA0:
            out.append(_caret(ch))
        elif 0xD800 <= o < 0xE000:
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def table(headers: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    """Aligned columns; `right` holds the indexes of right-aligned (numeric) columns."""
    rows = [[printable(str(c)) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    lines = []
    for r in [headers] + rows:
        cells = []
        for i, c in enumerate(r):
            last = i == len(r) - 1
            if i in right:
                cells.append(c.rjust(widths[i]))
            else:
                cells.append(c if last else c.ljust(widths[i]))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


TEXT_HEAD_LINES = 8      # a long text in a preview: its first lines ...
TEXT_TAIL_LINES = 3      # ... and its last ones, with a count of those between
FOLD = 72                # characters of a text line per preview row
FOLD_ROWS = 4            # rows one long line gets in a preview before it is cut


def text_block(text: str, indent: str = "  | ") -> str:
    """The text a write puts in a file, for a preview: every line on rows of its own,
    marked by `indent` (so nothing in it can pass for a line of the console), control
    characters escaped, long lines folded, a long text cut to its first and last lines
    with a count of what is not shown. "" shows as (empty)."""
    if text == "":
        return indent + "(empty)"
    lines = text.split("\n")
    if lines[-1] == "" and len(lines) > 1:
        lines.pop()
    if len(lines) > TEXT_HEAD_LINES + TEXT_TAIL_LINES + 1:
        hidden = len(lines) - TEXT_HEAD_LINES - TEXT_TAIL_LINES
        lines = lines[:TEXT_HEAD_LINES] + [None] + lines[-TEXT_TAIL_LINES:]
    else:
        hidden = 0
    rows = []
    for line in lines:
        if line is None:
            rows.append(f"{indent}… {plural(hidden, 'more line')} …")
            continue
        shown = printable(line)
        chunks = [shown[i:i + FOLD] for i in range(0, len(shown), FOLD)] or [""]
        if len(chunks) > FOLD_ROWS:
            cut = len(shown) - FOLD * (FOLD_ROWS - 1)
            chunks = chunks[:FOLD_ROWS - 1] + [f"… {cut} more characters on this line"]
        rows.extend(indent + c for c in chunks)
    return "\n".join(rows)
