"""A line editor for a serial terminal.

Bytes from the terminal go through `KeyDecoder` (incremental UTF-8 with invalid bytes
replaced, and a bounded parser that consumes whole CSI / SS3 / OSC / DCS sequences) and come
out as key events; `LineEditor` applies them to a line and redraws only what changed.

Robustness rules, whatever the line sends:
- invalid UTF-8, NUL and unassigned control bytes never reach the line; a line that
  contained any of them is "noisy" and is not submitted (line noise is not a request);
- an escape sequence the editor does not know is consumed whole and ignored; one that
  never ends is cut off after a bound, and a newline always ends it;
- a line longer than `limit` characters is refused with a message and the rest of it is
  discarded up to the next newline, with a byte search rather than per-character work;
- all keys read in one chunk are applied before one redraw, so a paste costs one redraw;
- a yes/no question (`read_answer`) can only be answered by a person: it is asked once the
  line has gone quiet, everything that came before it is dropped, and a reply that is
  overlong, noisy or comes in one burst with more input is a no.

On an ANSI terminal the line scrolls horizontally within one row (no dependency on the real
width being right); on a dumb terminal (no ANSI) the cursor stays at the end, backspace
is echoed as BS SP BS, and nothing but printable text, CR, LF and BS is ever written.
"""
from __future__ import annotations

import codecs
import time
from collections import deque

from .history import History
from .render import char_width, text_width

LINE_LIMIT = 4096
CSI_LIMIT = 64          # characters in one CSI sequence before it is cut off
STRING_LIMIT = 4096     # characters in one OSC/DCS/APC/PM/SOS string before it is cut off
ESC_TIMEOUT = 0.1       # a lone ESC followed by nothing for this long is the Esc key
QUIET_WINDOW = 0.3      # a question is asked once the input has been silent this long...
QUIET_LIMIT = 3.0       # ...within this many seconds; a line still sending then gets a no
BURST_GAP = 0.1         # input within this long after a reply's Enter came in its burst


class Interrupted(Exception):
    """Ctrl-C: the current line is cancelled."""


class EndOfInput(Exception):
    """Ctrl-D on an empty line."""


class InputClosed(Exception):
    """The input reached its end (pipe closed, tty hung up)."""


# Key events are strings: a single printable character, or a name in angle brackets.
ENTER, BACKSPACE, DELETE = "<enter>", "<backspace>", "<delete>"
LEFT, RIGHT, HOME, END, UP, DOWN = "<left>", "<right>", "<home>", "<end>", "<up>", "<down>"
CTRL_C, CTRL_D, CTRL_K, CTRL_L, CTRL_U, CTRL_W = "<^C>", "<^D>", "<^K>", "<^L>", "<^U>", "<^W>"
ESCAPE, IGNORED, NOISE = "<esc>", "<ignored>", "<noise>"

_CONTROL_KEYS = {
    "\r": ENTER, "\n": ENTER, "\x7f": BACKSPACE, "\x08": BACKSPACE,
    "\x01": HOME, "\x05": END, "\x02": LEFT, "\x06": RIGHT, "\x10": UP, "\x0e": DOWN,
    "\x03": CTRL_C, "\x04": CTRL_D, "\x0b": CTRL_K, "\x0c": CTRL_L, "\x15": CTRL_U,
    "\x17": CTRL_W, "\t": IGNORED,
}
_CSI_FINAL = {"A": UP, "B": DOWN, "C": RIGHT, "D": LEFT, "H": HOME, "F": END}
_CSI_TILDE = {"1": HOME, "7": HOME, "4": END, "8": END, "3": DELETE}

_NORMAL, _ESC, _CSI, _SS3, _STRING, _STRING_ESC = range(6)


class KeyDecoder:
    """Bytes in, key events out; keeps state across chunks."""

    def __init__(self):
        self.reset()

    def reset(self, after_cr: bool = False) -> None:
        """Forget all state; after_cr: the last byte seen was a CR (so an LF next is not
        a second Enter)."""
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        self._state = _NORMAL
        self._seq: list[str] = []
        self._last_cr = after_cr

    @property
    def pending_escape(self) -> bool:
        return self._state == _ESC

    @property
    def after_cr(self) -> bool:
        """The last character was a CR (an LF next is the same Enter)."""
        return self._last_cr

    def flush_escape(self) -> list[str]:
        """The input went quiet after a lone ESC: it was the Esc key."""
        if self._state == _ESC:
            self._state = _NORMAL
            return [ESCAPE]
        return []

    def feed(self, data: bytes) -> list[str]:
        out: list[str] = []
        for ch in self._utf8.decode(data):
            self._char(ch, out)
        return out

    def _char(self, ch: str, out: list[str]) -> None:
        state = self._state
        if state == _NORMAL:
            self._normal(ch, out)
        elif state == _ESC:
            if ch == "[":
                self._state, self._seq = _CSI, []
            elif ch == "O":
                self._state = _SS3
            elif ch in "]PX^_":
                self._state, self._seq = _STRING, []
            elif ch == "\x1b":
                pass  # ESC ESC: the first was a lone Esc
            elif ch in "\r\n" or ord(ch) < 0x20:
                self._state = _NORMAL
                self._normal(ch, out)
            else:
                self._state = _NORMAL  # Alt+key or a two-character sequence: ignored
                out.append(IGNORED)
        elif state == _CSI:
            self._csi(ch, out)
        elif state == _SS3:
            self._state = _NORMAL
            if 0x20 <= ord(ch) <= 0x7E:
                out.append(_CSI_FINAL.get(ch, IGNORED))
            else:
                self._normal(ch, out)
        else:  # inside an OSC/DCS/... string: ends with BEL or ESC \ ; CAN/SUB abort it
            if ch in "\x07\x18\x1a\x9c":
                self._state = _NORMAL
            elif ch in "\r\n\x03":   # Enter and Ctrl-C end it too, and are still keys
                self._state = _NORMAL
                self._normal(ch, out)
            elif state == _STRING_ESC:
                self._state = _NORMAL if ch == "\\" else _STRING
            elif ch == "\x1b":
                self._state = _STRING_ESC
            else:
                self._seq.append("")  # count only; the content is never kept
                if len(self._seq) > STRING_LIMIT:
                    self._state = _NORMAL
                    out.append(NOISE)

    def _csi(self, ch: str, out: list[str]) -> None:
        cp = ord(ch)
        if 0x30 <= cp <= 0x3F or 0x20 <= cp <= 0x2F:
            self._seq.append(ch)
            if len(self._seq) > CSI_LIMIT:
                self._state = _NORMAL
                out.append(NOISE)
            return
        self._state = _NORMAL
        if 0x40 <= cp <= 0x7E:
            params = "".join(self._seq)
            if ch == "~":
                out.append(_CSI_TILDE.get(params.split(";")[0], IGNORED))
            elif not params or params[0].isdigit():
                out.append(_CSI_FINAL.get(ch, IGNORED))
            else:
                out.append(IGNORED)  # private sequences (ESC [ ? ..., ESC [ > ...)
            return
        self._normal(ch, out)  # not part of a CSI: the sequence was broken off

    def _normal(self, ch: str, out: list[str]) -> None:
        was_cr, self._last_cr = self._last_cr, ch == "\r"
        if ch == "\x1b":
            self._state = _ESC
        elif ch == "\x9b":
            self._state, self._seq = _CSI, []
        elif ch in "\x90\x98\x9d\x9e\x9f":
            self._state, self._seq = _STRING, []
        elif ch == "\n" and was_cr:
            pass  # CR LF is one Enter
        elif ch in _CONTROL_KEYS:
            out.append(_CONTROL_KEYS[ch])
        elif ch == "\ufffd" or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or not ch.isprintable() and ch != " ":
            out.append(NOISE)
        else:
            out.append(ch)


class LineEditor:
    def __init__(self, term, history: History | None = None, limit: int = LINE_LIMIT,
                 on_prompt=None):
        self.term = term
        self.history = history
        self.limit = limit
        self.on_prompt = on_prompt   # called once, after the first prompt is written
        self.decoder = KeyDecoder()
        self._events: deque[str] = deque()
        self._discarding = False

    # --- input plumbing ---------------------------------------------------------------

    def _fill(self, timeout: float | None) -> bool:
        """Read one chunk into the event queue. False on timeout; InputClosed at EOF."""
        if self.decoder.pending_escape:
            timeout = ESC_TIMEOUT if timeout is None else min(timeout, ESC_TIMEOUT)
        data = self.term.read(timeout)
        if data is None:
            self._events.extend(self.decoder.flush_escape())
            return False
        if data == b"":
            raise InputClosed()
        if self._discarding:
            data = self._skip_discarded(data)
            if data is None:
                return True
        self._events.extend(self.decoder.feed(data))
        return True

    def _skip_discarded(self, data: bytes) -> bytes | None:
        """Drop bytes up to and including the next newline (fast path for huge lines). A
        Ctrl-C ends the dropping too, and is a Ctrl-C: it always reaches the console."""
        ends = [i for i in (data.find(b"\r"), data.find(b"\n")) if i >= 0]
        intr = data.find(b"\x03")          # never part of a UTF-8 sequence
        if intr >= 0 and (not ends or intr < min(ends)):
            self._discarding = False
            self.decoder.reset()
            return data[intr:]
        if not ends:
            return None
        i = min(ends)
        if data[i:i + 2] == b"\r\n":
            i += 1
        self._discarding = False
        self.decoder.reset(after_cr=data[i:i + 1] == b"\r")
        self._events.append(ENTER)
        return data[i + 1:]

    def poll_interrupt(self, timeout: float) -> bool:
        """While the console works: True if Ctrl-C arrived. Other keys stay queued."""
        try:
            self._fill(timeout)
        except InputClosed:
            return False
        if CTRL_C in self._events:
            kept = list(self._events)
            kept.reverse()
            kept.remove(CTRL_C)
            kept.reverse()
            self._events = deque(kept)
            return True
        return False

    # --- questions --------------------------------------------------------------------

    def read_answer(self, question: str) -> bool:
        """Ask a yes/no question that only a person can answer; True only for "y"/"yes".

        Nothing that arrived before the question answers it: input is dropped until the line
        has been quiet for QUIET_WINDOW (with the editor's and the decoder's state), and a
        line that does not go quiet within QUIET_LIMIT is a no without asking. A Ctrl-C
        among the dropped input is a no too (it can only refuse). At the question, an
        overlong line, line noise, Ctrl-C, Ctrl-D, the end of input, and a reply that comes
        with more input after its Enter in one burst are all a no; the rest of such a burst
        is dropped the same way."""
        try:
            state = self._settle()
        except InputClosed:
            return False
        if state == "busy":
            self.term.write("the line is still sending: not asking, that is a no\n")
            return False
        if state == "cancel":
            self.term.write(question + "^C\n")
            return False
        try:
            reply, burst = self._reply(question)
        except InputClosed:
            return False
        if burst:
            try:
                self._settle()
            except InputClosed:
                pass
        return reply is not None and reply.strip().lower() in ("y", "yes")

    def _settle(self) -> str:
        """Drop input until it has been quiet for QUIET_WINDOW: "quiet"; "cancel" when a
        Ctrl-C was among what was dropped; "busy" when the input did not go quiet within
        QUIET_LIMIT (the rest of a line left half-read is then discarded up to its newline).
        InputClosed at the end of input.

        A read that returns None is taken as "nothing came for the whole timeout" (what
        Terminal.read does)."""
        cancelled = CTRL_C in self._events
        mid_line = bool(self._events) and self._events[-1] != ENTER
        self._events.clear()
        self.decoder.reset()
        self._discarding = False
        last = time.monotonic()
        deadline = last + QUIET_LIMIT
        while True:
            now = time.monotonic()
            wait = last + QUIET_WINDOW - now
            cut = now + wait > deadline
            if cut:
                wait = deadline - now
            data = self.term.read(max(0.0, wait)) if wait > 0 else None
            if data is None:
                if cut and not cancelled:   # after a Ctrl-C nothing half-read is dropped on
                    self._discarding = mid_line
                return "cancel" if cancelled else "busy" if cut else "quiet"
            if data == b"":
                raise InputClosed()
            cancelled = cancelled or b"\x03" in data  # never part of a UTF-8 sequence
            mid_line = data[-1:] not in (b"\r", b"\n")
            last = time.monotonic()

    def _reply(self, question: str) -> tuple[str | None, bool]:
        """Read the reply to `question`: (the reply or None for a no, whether the input
        came in a burst that should be dropped)."""
        line = _Line(self.term, question)
        line.start()
        while True:
            while not self._events:
                self._fill(None)
            while self._events:
                key = self._events.popleft()
                if key == ENTER:
                    line.finish()
                    if self._events or self._more_input(BURST_GAP):
                        self.term.write("ignored: the reply came with more input\n")
                        return None, True
                    return line.text, False
                if key == CTRL_C or (key == CTRL_D and not line.chars):
                    line.refresh()
                    self.term.write("^C\n" if key == CTRL_C else "\n")
                    return None, bool(self._events)
                if key == NOISE:
                    line.finish()
                    self.term.write("ignored: the reply contained invalid characters\n")
                    return None, True
                if len(key) == 1 and len(line.chars) >= self.limit:
                    self._overflow(line)
                    return None, True
                line.apply(key)
            line.refresh()

    def _more_input(self, timeout: float) -> bool:
        """True when input arrives within `timeout` after an Enter (it is dropped: it is
        part of a burst). The LF of a CR LF Enter that comes in a read of its own is not
        more input."""
        deadline = time.monotonic() + timeout
        after_cr = self.decoder.after_cr
        while True:
            wait = deadline - time.monotonic()
            data = self.term.read(wait) if wait > 0 else None
            if not data:
                return False  # None: nothing came; b"": the end, seen again by the next read
            if after_cr and data.startswith(b"\n"):
                data = data[1:]
                self.decoder.reset()
            after_cr = False
            if data:
                return True

    # --- the editor -------------------------------------------------------------------

    def read_line(self, prompt: str, use_history: bool = True) -> str:
        """Edit one line after `prompt`; returns it without the newline.

        Raises Interrupted (Ctrl-C), EndOfInput (Ctrl-D on an empty line) and InputClosed.
        """
        line = _Line(self.term, prompt)
        hist = self.history.entries if (use_history and self.history) else []
        hist_index = len(hist)
        draft = ""
        line.start()
        if self.on_prompt is not None:
            hook, self.on_prompt = self.on_prompt, None
            hook()
        while True:
            while not self._events:
                self._fill(None)
            while self._events:
                key = self._events.popleft()
                if key == ENTER:
                    if line.overflowed:
                        line = _Line(self.term, prompt)
                        line.start()
                        continue
                    line.finish()
                    if line.noisy:
                        self.term.write(f"ignored: the line contained {line.noisy} invalid character(s)\n")
                        line = _Line(self.term, prompt)
                        line.start()
                        hist_index = len(hist)
                        continue
                    return line.text
                if key == CTRL_C:
                    line.refresh()
                    self.term.write("^C\n")
                    raise Interrupted()
                if key == CTRL_D and not line.chars:
                    line.refresh()
                    self.term.write("\n")
                    raise EndOfInput()
                if key in (UP, DOWN) and hist:
                    if hist_index == len(hist):
                        draft = line.text
                    hist_index = max(0, hist_index - 1) if key == UP else min(len(hist), hist_index + 1)
                    line.set_text(hist[hist_index] if hist_index < len(hist) else draft)
                    continue
                if len(key) == 1 and len(line.chars) >= self.limit:
                    self._overflow(line)
                    continue
                line.apply(key)
            line.refresh()

    def _overflow(self, line: "_Line") -> None:
        line.discard()
        self.term.write(f"line too long (limit {self.limit}), discarded\n")
        line.overflowed = True
        # Drop queued keys up to the next Enter; if there is none, drop raw input too.
        while self._events:
            if self._events[0] == ENTER:
                return
            self._events.popleft()
        self._discarding = True
        self.decoder.reset()


class _Line:
    """One line being edited, and what of it is on the screen."""

    def __init__(self, term, prompt: str):
        self.term = term
        self.ansi = term.ansi
        self.prompt = prompt
        self.chars: list[str] = []
        self.pos = 0
        self.noisy = 0
        self.overflowed = False
        self._offset = 0        # first character shown (horizontal scrolling)
        self._shown = ""        # text after the prompt now on the screen
        self._col = 0           # cursor column relative to the end of the prompt

    @property
    def text(self) -> str:
        return "".join(self.chars)

    def start(self) -> None:
        self._room = max(10, self.term.columns() - text_width(self.prompt) - 1)
        self.term.write(self.prompt)

    def finish(self) -> None:
        self.pos = len(self.chars)
        self.refresh()
        self.term.write("\n")

    def discard(self) -> None:
        """Drop the line: erased on an ANSI terminal, left as it is on a dumb one (erasing
        thousands of characters one BS SP BS at a time would only cost serial time)."""
        self.chars, self.pos = [], 0
        if self.ansi:
            self.refresh()
        self._shown, self._col = "", 0
        self.term.write("\n")

    def set_text(self, text: str) -> None:
        self.chars = list(text)
        self.pos = len(self.chars)
        self.noisy = 0

    def apply(self, key: str) -> None:
        chars, pos = self.chars, self.pos
        if len(key) == 1:
            chars.insert(pos, key)
            self.pos += 1
        elif key == NOISE:
            self.noisy += 1
        elif key == BACKSPACE:
            if pos > 0:
                del chars[pos - 1]
                self.pos -= 1
        elif key in (DELETE, CTRL_D):
            if pos < len(chars):
                del chars[pos]
        elif key == CTRL_U:
            self.chars, self.pos, self.noisy = [], 0, 0
        elif key == CTRL_L:
            self._redraw_all()
        elif not self.ansi:
            return  # no cursor movement on a dumb terminal
        elif key == LEFT:
            self.pos = max(0, pos - 1)
        elif key == RIGHT:
            self.pos = min(len(chars), pos + 1)
        elif key == HOME:
            self.pos = 0
        elif key == END:
            self.pos = len(chars)
        elif key == CTRL_K:
            del chars[pos:]
        elif key == CTRL_W:
            start = pos
            while start > 0 and chars[start - 1] == " ":
                start -= 1
            while start > 0 and chars[start - 1] != " ":
                start -= 1
            del chars[start:pos]
            self.pos = start

    def _redraw_all(self) -> None:
        if self.ansi:
            self.term.write("\x1b[H\x1b[2J")
        else:
            self.term.write("\n")
        self.start()
        self._shown, self._col = "", 0

    # --- drawing ---------------------------------------------------------------------

    def _window(self) -> tuple[str, int]:
        """The visible part of the line and the cursor column within it."""
        if not self.ansi:
            return self.text, text_width(self.text)
        chars, room = self.chars, self._room
        if self.pos < self._offset:
            self._offset = max(0, self.pos - room // 3)
        # Scroll right when the cursor would pass the right edge, leaving room to type.
        if text_width("".join(chars[self._offset:self.pos])) >= room:
            start, width = self.pos, 0
            while start > 0 and width + char_width(chars[start - 1]) < room * 2 // 3:
                start -= 1
                width += char_width(chars[start])
            self._offset = start
        out, width = [], 0
        for ch in chars[self._offset:]:
            w = char_width(ch)
            if width + w > room:
                break
            out.append(ch)
            width += w
        return "".join(out), text_width("".join(chars[self._offset:self.pos]))

    def refresh(self) -> None:
        want, want_col = self._window()
        shown = self._shown
        k = 0
        limit = min(len(shown), len(want))
        while k < limit and shown[k] == want[k]:
            k += 1
        out = []
        if self.ansi:
            out.append(_move(self._col, text_width(want[:k])))
            out.append(want[k:])
            if text_width(shown) > text_width(want):
                out.append("\x1b[K")
            out.append(_move(text_width(want), want_col))
        else:
            erase = text_width(shown[k:])
            out.append("\b" * erase + " " * erase + "\b" * erase)
            out.append(want[k:])
        self.term.write("".join(out))
        self._shown, self._col = want, want_col


def _move(src: int, dst: int) -> str:
    if dst == src:
        return ""
    if dst == src - 1:
        return "\b"
    if dst < src:
        return f"\x1b[{src - dst}D"
    return f"\x1b[{dst - src}C"
