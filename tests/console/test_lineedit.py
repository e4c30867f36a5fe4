"""The line editor fed raw byte streams through a scripted terminal."""
from __future__ import annotations

import os
import random
import time

import pytest

from llmos_init.console.history import History
from llmos_init.console.lineedit import (CTRL_C, EndOfInput, InputClosed, Interrupted, KeyDecoder,
                                         LineEditor)

from .fakes import FakeTerm, Typeahead, babble

P = "h:/data> "


def read(chunks, ansi=True, history=None, limit=4096, columns=80):
    term = FakeTerm(chunks, ansi=ansi, columns=columns)
    ed = LineEditor(term, history, limit=limit)
    return ed, term


def lines(chunks, n, **kw):
    ed, term = read(chunks, **kw)
    return [ed.read_line(P) for _ in range(n)], term


def test_plain_line_and_echo():
    (line,), term = lines([b"list files\r"], 1)
    assert line == "list files"
    assert term.output == P + "list files\n"


def test_crlf_is_one_enter_and_lf_alone_works():
    ed, term = read([b"a\r\nb\nc\r"])
    assert [ed.read_line(P) for _ in range(3)] == ["a", "b", "c"]


@pytest.mark.parametrize("bs", [b"\x7f", b"\x08"])
def test_backspace(bs):
    (line,), term = lines([b"abx" + bs + b"c\r"], 1)
    assert line == "abc"


def test_arrows_home_end_delete_edit_the_middle():
    # "acd", left left, insert b -> "abcd"; Home, Delete -> "bcd"; End, "e" -> "bcde";
    # ESC O D (SS3 left) then "X" -> "bcdXe"; ESC [ C right then backspace: removes e.
    seq = b"acd\x1b[D\x1b[Db\x1b[H\x1b[3~\x1b[Fe\x1bODX\x1b[C\x7f\r"
    (line,), term = lines([seq], 1)
    assert line == "bcdX"


def test_home_end_variants():
    seq = b"bc\x1b[1~a\x1b[4~d\x1bOHz\x1b[7~y\r"
    (line,), _ = lines([seq], 1)
    assert line == "yzabcd"


def test_ctrl_keys_emacs_style():
    # ^A home, ^E end, ^B left, ^F right, ^K kill to end, ^W kill word
    (line,), _ = lines([b"two words\x01X\x05Y\x02\x02\x0b\x17Z\r"], 1)
    assert line == "Xtwo Z"


def test_ctrl_u_kills_the_line():
    (line,), _ = lines([b"rm everything\x15ls\r"], 1)
    assert line == "ls"


def test_ctrl_c_cancels_the_line():
    ed, term = read([b"rm -rf\x03ls\r"])
    with pytest.raises(Interrupted):
        ed.read_line(P)
    assert term.output.endswith("^C\n")
    assert ed.read_line(P) == "ls"  # the keys after ^C are kept for the next line


def test_ctrl_d_on_empty_line_and_in_a_line():
    ed, _ = read([b"\x04"])
    with pytest.raises(EndOfInput):
        ed.read_line(P)
    ed, _ = read([b"ab\x1b[D\x04\r"])  # in a line it deletes under the cursor
    assert ed.read_line(P) == "a"


def test_end_of_input():
    ed, _ = read([b"abc"])
    with pytest.raises(InputClosed):
        ed.read_line(P)


def test_ctrl_l_clears_and_redraws():
    (line,), term = lines([b"ab\x0cc\r"], 1)
    assert line == "abc"
    out = term.output
    assert "\x1b[2J" in out
    after = out.split("\x1b[2J", 1)[1]
    assert after.startswith(P) and "ab" in after


def test_history_up_down(tmp_path):
    h = History(str(tmp_path / ".history"))
    h.add("first")
    h.add("second")
    ed, _ = read([b"\x1b[A\x1b[A\r", b"dra\x1b[A\x1b[B\r", b"\x1b[A\x1b[A\x1b[B\r"], history=h)
    assert ed.read_line(P) == "first"
    assert ed.read_line(P) == "dra"            # down past the newest returns the draft
    assert ed.read_line(P) == "second"
    ed2, _ = read([b"x\x1b[A\r"], history=h)
    assert ed2.read_line(P, use_history=False) == "x"


def test_invalid_utf8_and_nul_make_the_line_noise_and_next_line_works():
    ed, term = read([b"ls \xff\xfe\x00\xc3\r", b"ls\r"])
    assert ed.read_line(P) == "ls"
    assert "ignored: the line contained" in term.output


def test_valid_utf8_split_across_reads():
    data = "café 日本".encode()
    ed, _ = read([data[:4], data[4:6], data[6:], b"\r"])
    assert ed.read_line(P) == "café 日本"


@pytest.mark.parametrize("seq", [
    b"\x1b[12;34X", b"\x1b[?25h", b"\x1b[>0c", b"\x1b]0;evil title\x07", b"\x1b]52;c;Zm9v\x1b\\",
    b"\x1bP1$qm\x1b\\", b"\x1b_apc\x1b\\", b"\x1b[200~", b"\x1b[24;80R", b"\x1bOP", b"\x1b[15~",
    b"\x1bx", "\u009b2J".encode(), b"\x1b[1;5D",
])
def test_unknown_escape_sequences_are_consumed(seq):
    ed, term = read([b"ab" + seq + b"c\r"])
    line = ed.read_line(P)
    # ESC [ 1;5 D is ctrl-left: a cursor move, so c lands before b
    assert line == ("acb" if seq == b"\x1b[1;5D" else "abc")


def test_unterminated_osc_ends_at_newline_and_csi_is_bounded():
    ed, _ = read([b"\x1b]0;never ends\r", b"ls\r"])
    assert ed.read_line(P) == ""
    assert ed.read_line(P) == "ls"
    ed, term = read([b"\x1b[" + b"1;" * 100 + b"\r", b"ls\r"])
    # the over-long CSI is cut off as noise, so that line is not a request
    assert ed.read_line(P) == "ls"
    assert "ignored: the line contained" in term.output


@pytest.mark.parametrize("start", [b"\x1b]0;", b"\x1bP", b"\x1b_", "\u009d".encode()])
def test_ctrl_c_inside_an_unterminated_string_is_still_a_ctrl_c(start):
    # Line noise can open an OSC/DCS string and never end it: a Ctrl-C typed after that
    # must still reach the console (it was counted as string content before)
    d = KeyDecoder()
    assert d.feed(start + b"garbage") == []
    assert d.feed(b"\x03") == [CTRL_C]
    assert d.feed(b"x") == ["x"]
    ed, term = read([start + b"noise", b"\x03"])
    with pytest.raises(Interrupted):
        ed.read_line(P)


def test_lone_escape_key_times_out_and_next_key_is_kept():
    ed, _ = read([b"a\x1b", None, b"b\r"])
    assert ed.read_line(P) == "ab"


def test_one_megabyte_line_is_refused_then_prompt_works():
    big = b"x" * (1 << 20)
    chunks = [big[i:i + 4096] for i in range(0, len(big), 4096)] + [b"\r", b"ls\r"]
    ed, term = read(chunks)
    t = time.monotonic()
    line = ed.read_line(P)
    elapsed = time.monotonic() - t
    assert line == "ls"
    assert "line too long (limit 4096), discarded" in term.output
    assert elapsed < 2.0
    assert len(term.output) < 20000      # no quadratic redraw, no echo of the discarded part
    assert term.output.rstrip().endswith(P + "ls")


def test_long_line_within_limit_scrolls_in_one_row():
    text = b"y" * 300
    (line,), term = lines([text + b"\r"], 1, columns=40)
    assert line == "y" * 300
    assert "\n" not in term.output[:-1]
    ed, term = read([text + b"\x1b[H" + b"\r"], columns=40)  # Home scrolls back to the start
    assert ed.read_line(P) == "y" * 300


def test_paste_is_one_redraw():
    (line,), term = lines([b"hello world, this is pasted\r"], 1)
    assert len(term.out) <= 4


def test_wide_characters_move_by_two_columns():
    (line,), term = lines(["日本".encode(), b"\x1b[D", b"\x7f", b"\r"], 1)
    assert line == "本"
    assert "\x1b[2D" in term.output   # left over one wide character


def test_dumb_mode_writes_no_escape_bytes():
    chunks = [b"ab", b"\x1b[D", b"c", b"\x7f", b"\x08x", b"\x0c", b"\x1b[A", b"\x1b[3~", b"y\r",
              b"\x03", b"z\r"]
    h = History(None)
    h.add("older")
    ed, term = read(chunks, ansi=False, history=h)
    assert ed.read_line(P) == "oldery"
    with pytest.raises(Interrupted):
        ed.read_line(P)
    assert ed.read_line(P) == "z"
    assert "\x1b" not in term.output
    assert "\b \b" in term.output


def test_random_bytes_never_crash_and_a_prompt_follows():
    rng = random.Random(5)
    garbage = bytes(rng.getrandbits(8) for _ in range(100_000))
    chunks = [garbage[i:i + 997] for i in range(0, len(garbage), 997)] + [b"\x15\r", b"list files\r"]
    ed, term = read(chunks)
    got = []
    t = time.monotonic()
    while True:
        try:
            got.append(ed.read_line(P))
        except (Interrupted, EndOfInput):
            continue
        if got[-1] == "list files":
            break
    assert time.monotonic() - t < 5
    for line in got:
        assert all(c.isprintable() for c in line)


def test_poll_interrupt_takes_ctrl_c_and_keeps_the_rest():
    ed, _ = read([Typeahead(b"ab\x03cd")])
    assert ed.poll_interrupt(0) is True
    ed.term.feed(b"\r")
    assert ed.read_line(P) == "abcd"
    ed, _ = read([])
    assert ed.poll_interrupt(0) is False


def test_decoder_keeps_state_across_chunks():
    d = KeyDecoder()
    assert d.feed(b"\x1b") == []
    assert d.feed(b"[") == []
    assert d.feed(b"A") == ["<up>"]
    assert d.feed(b"\x1b]0;t") == []
    assert d.feed(b"itle\x1b") == []
    assert d.feed(b"\\z") == ["z"]


def test_through_a_real_pipe(tmp_path):
    from llmos_init.console.term import Terminal
    r, w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        os.write(w, b"l\xffs\r" + b"ls\x1b[Dx\r")
        os.close(w)
        term = Terminal(r, out_w)
        assert term.dumb  # not a tty
        ed = LineEditor(term)
        # the first line holds invalid UTF-8 and is skipped; arrows do nothing when dumb
        assert ed.read_line(P) == "lsx"
        with pytest.raises(InputClosed):
            ed.read_line(P)
        os.close(out_w)
        out_w = -1
        out = os.read(out_r, 65536)
        assert b"ignored" in out and b"\x1b" not in out
    finally:
        os.close(r)
        if out_w >= 0:
            os.close(out_w)
        os.close(out_r)


def test_one_megabyte_line_on_a_dumb_terminal():
    big = b"z" * (1 << 20)
    chunks = [big[i:i + 4096] for i in range(0, len(big), 4096)] + [b"\r", b"\nok\r"]
    ed, term = read(chunks, ansi=False)
    assert ed.read_line(P) == "ok"
    assert term.output.count(P) == 2       # CR, then LF in the next read: one Enter
    assert "line too long (limit 4096), discarded" in term.output
    assert len(term.output) < 4096 + 200 and "\x1b" not in term.output


# --- questions: only a person answers them (issue 17) ------------------------------------

Q = "Proceed? [y/N] "
CONTROLS = bytes(b for b in range(1, 32) if b not in b"\r\n\x03\x04")


def answer(chunks, **kw):
    ed, term = read(chunks, **kw)
    return ed.read_answer(Q), ed, term


@pytest.mark.parametrize("reply", [b"y\r", b"Y\r", b" yes \r", b"YES\n", b"y\r\n", b"x\x7fy\r"])
@pytest.mark.parametrize("ansi", [True, False])
def test_answer_typed_after_the_question_is_yes(reply, ansi):
    ok, ed, term = answer([reply], ansi=ansi)
    assert ok is True
    assert term.output.startswith(Q)
    if not ansi:
        assert "\x1b" not in term.output


@pytest.mark.parametrize("reply", [b"n\r", b"\r", b"yes please\r", b"\x03", b"\x04", b"ye\r"])
def test_answer_anything_else_is_no(reply):
    ok, _, _ = answer([reply])
    assert ok is False


def test_answer_at_end_of_input_is_no():
    assert answer([])[0] is False
    assert answer([Typeahead(b"y\r")])[0] is False   # typed ahead, then the input ended


def test_answer_typeahead_is_dropped_and_the_typed_reply_counts():
    ok, ed, term = answer([Typeahead(b"y\r"), Typeahead(b"yes\r"), b"n\r"])
    assert ok is False
    ok, ed, term = answer([Typeahead(b"n\r" + b"a" * 10_000), b"y\r"])
    assert ok is True
    assert term.output == Q + "y\n"          # nothing of the typeahead was echoed


@pytest.mark.parametrize("ansi", [True, False])
def test_answer_overflow_is_no(ansi):
    ok, ed, term = answer([b"y" * 100 + b"\ry\r"], limit=64, ansi=ansi)
    assert ok is False
    assert "line too long (limit 64), discarded" in term.output
    with pytest.raises(InputClosed):          # the rest of that burst was dropped
        ed.read_line(P)
    ok, ed, term = answer([b"y" * 40, b"y" * 40, b"\r", b"y\r"], limit=64, ansi=ansi)
    assert ok is False                        # the question ends at the overflow...
    assert ed.read_line(P) == ""              # ...it does not read on into the next line
    if not ansi:
        assert "\x1b" not in term.output


@pytest.mark.parametrize("reply", [b"y\x00\r", b"\xffy\r", b"y\x07\r", b"\x00\x15y\r",
                                   b"y\x1f\x7f\r", CONTROLS * 100 + b"\ry\r"])
def test_answer_noisy_line_is_no(reply):
    ok, ed, term = answer([reply])
    assert ok is False
    assert "ignored: the reply contained invalid characters" in term.output
    with pytest.raises(InputClosed):
        ed.read_line(P)


@pytest.mark.parametrize("chunks", [[b"y\rls\r"], [b"y\r\x1b[A"], [b"yes\r\r"],
                                    [b"y\r", Typeahead(b"ls\r")]])
def test_answer_with_more_input_in_the_same_burst_is_no(chunks):
    ok, ed, term = answer(chunks)
    assert ok is False
    assert "ignored: the reply came with more input" in term.output
    with pytest.raises(InputClosed):          # the rest of the burst is not a request
        ed.read_line(P)


def test_answer_crlf_split_across_reads_is_one_enter():
    ok, ed, term = answer([b"y\r", Typeahead(b"\n")])
    assert ok is True
    ok, ed, term = answer([b"y\r", Typeahead(b"\nls\r")])
    assert ok is False


def test_answer_ctrl_c_typed_ahead_is_a_no():
    ok, ed, term = answer([Typeahead(b"junk\x03ls"), Typeahead(b"\ry\r"), b"\r"])
    assert ok is False
    assert term.output == Q + "^C\n"
    assert ed.read_line(P) == ""              # what came with the Ctrl-C was dropped too


def test_answer_is_not_asked_when_the_line_never_goes_quiet(monkeypatch):
    from llmos_init.console import lineedit
    monkeypatch.setattr(lineedit, "QUIET_LIMIT", 0.5)
    chunks = babble(100, 0.05, b"y\r") + [b"y\r"]
    t = time.monotonic()
    ok, ed, term = answer(chunks)
    assert ok is False
    assert time.monotonic() - t < 1.5
    assert "the line is still sending" in term.output and Q not in term.output
    assert len(term.chunks) > 50              # it did not wait for the line to stop
    # cut off in the middle of a line: the rest of that line is not a request
    ok, ed, term = answer(babble(15, 0.05, b"x" * 10) + [b"rest\r", b"ls\r"])
    assert ok is False
    assert ed.read_line(P) == "" and ed.read_line(P) == "ls"


def test_answer_is_asked_once_a_burst_stops(monkeypatch):
    ok, ed, term = answer(babble(5, 0.02, b"y\r" + b"z" * 5000) + [b"y\r"])
    assert ok is True and term.output == Q + "y\n"


def test_answer_resets_a_half_escape_sequence_and_the_discard_state():
    ed, term = read([b"ls\r\x1b[", b"y\r"])
    assert ed.read_line(P) == "ls"            # the decoder is now inside "ESC ["
    assert ed.read_answer(Q) is True          # the y is not eaten as its final byte
    ed, term = read([b"y\r"])
    ed._discarding = True                     # an overlong line was being dropped
    assert ed.read_answer(Q) is True


def test_ctrl_c_gets_through_while_a_long_line_is_dropped():
    """After an overlong line the rest of it is dropped up to its newline, but a Ctrl-C is
    never dropped: the user gets the prompt back without pressing Enter."""
    big = b"x" * 5000
    ed, term = read([big, b"more junk without an end", b"\x03", b"ls\r"])
    with pytest.raises(Interrupted):
        ed.read_line(P)
    assert ed.read_line(P) == "ls"


def test_a_ctrl_c_among_input_that_never_goes_quiet_leaves_nothing_dropped():
    """A confirmation while a line keeps sending (random bytes on the serial line) with a
    Ctrl-C in it: a no, and the next prompt takes the next Ctrl-C at once, not as the rest
    of a half-read line (this hung the console after line noise)."""
    from .fakes import later
    ok, ed, term = answer([later(0.1, b"zz\x03zz")] + babble(34, 0.1, b"zzz") + [b"\x03", b"ls\r"])
    assert ok is False
    with pytest.raises(Interrupted):
        ed.read_line(P)
    assert ed.read_line(P) == "ls"
