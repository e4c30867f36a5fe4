"""`python -m llmos_init console --sandbox DIR --no-model` driven through a real pty.

The deterministic planner (no model) and the real executor run against a temporary
sandbox; the bytes typed are exactly what a serial line could deliver."""
from __future__ import annotations

import os
import random
import re
import sys
import threading
import time

import pytest

pexpect = pytest.importorskip("pexpect")
try:
    from llmos_init.planner import Planner  # noqa: F401
    from llmos_init.tools.executor import Executor  # noqa: F401
except Exception as exc:  # pragma: no cover - collaborators not there yet
    pytest.skip(f"planner/executor not importable: {exc}", allow_module_level=True)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROMPT = re.compile(rb"[^\r\n]*:/[^\r\n]*> $")
CONFIRM = re.compile(rb"\[y/N\] $")


class Console:
    def __init__(self, sandbox, *extra, term="xterm"):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": term,
               "PYTHONPATH": ROOT, "HOME": str(sandbox)}
        self.c = pexpect.spawn(sys.executable, ["-m", "llmos_init", "console", "--sandbox",
                                                str(sandbox), "--no-model", *extra],
                               env=env, cwd=ROOT, timeout=15, dimensions=(24, 80))
        self.log = b""
        self.prompt()

    def _take(self):
        self.log += self.c.before + (self.c.after if isinstance(self.c.after, bytes) else b"")

    def prompt(self, timeout=15) -> bytes:
        self.c.expect(PROMPT, timeout=timeout)
        self._take()
        return self.c.before

    def ask(self, line: bytes | str, then=PROMPT, timeout=15) -> bytes:
        self.c.send(line.encode() if isinstance(line, str) else line)
        self.c.expect(then, timeout=timeout)
        self._take()
        return self.c.before

    def request(self, text: str) -> bytes:
        return self.ask(text + "\r")

    def blast(self, data: bytes, chunk=1024):
        """Write a lot while draining the output, as a serial line would (no deadlock)."""
        fd = self.c.child_fd

        def writer():
            for i in range(0, len(data), chunk):
                os.write(fd, data[i:i + chunk])

        t = threading.Thread(target=writer)
        t.start()
        while t.is_alive():
            try:
                self.log += self.c.read_nonblocking(1 << 16, timeout=0.05)
            except pexpect.TIMEOUT:
                pass
        t.join()

    def close(self):
        self.c.close(force=True)


@pytest.fixture
def sandbox(tmp_path):
    return tmp_path / "sb"


@pytest.fixture
def con(sandbox):
    c = Console(sandbox)
    yield c
    c.close()


def test_banner_prompt_and_a_request(con, sandbox):
    assert b"llmos on " in con.log and b"model: none" in con.log
    assert con.log.endswith(b":/data> ")
    (sandbox / "data" / "a.txt").write_text("x")
    out = con.request("list /data")
    assert b"list_dir /data" in out and b"a.txt" in out
    # it never asks the terminal anything (no size or cursor query to wait for)
    assert b"\x1b[6n" not in con.log and b"\x1b[18t" not in con.log and b"\x1b[c" not in con.log


def test_confirmation_yes_no_enter_ctrl_c(con, sandbox):
    data = sandbox / "data"
    out = con.ask("create notes.txt with the text hello\r", CONFIRM)
    assert b"write_file /data/notes.txt" in out
    con.ask("y\r")
    assert (data / "notes.txt").read_text().startswith("hello")
    for answer in (b"n\r", b"\r", b"\x03", b"yes?\r"):
        con.ask("delete notes.txt\r", CONFIRM)
        out = con.ask(answer)
        assert b"nothing changed" in out
        assert (data / "notes.txt").exists()
    con.ask("delete notes.txt\r", CONFIRM)
    con.ask("yes\r")
    assert not (data / "notes.txt").exists()


def test_editing_keys(con, sandbox):
    (sandbox / "data" / "b.txt").write_text("x")
    # "lst /dta": Home, right, insert i; End, left x3, insert a after d? build "list /data"
    out = con.ask(b"lst /dta" + b"\x1b[H\x1b[Ci" + b"\x1b[F\x1b[D\x1b[D" + b"a\r")
    assert b"list_dir /data" in out
    # backspaces (both codes), Delete, SS3 arrows, Ctrl-U
    out = con.ask(b"garbage\x15list /dataXY\x7f\x08\r")
    assert b"list_dir /data" in out
    out = con.ask(b"list /datx\x1bOD\x1b[3~a\r")
    assert b"list_dir /data" in out


def test_history_up_down_and_persistence(con, sandbox):
    con.request("list /data")
    con.request("help")
    out = con.ask(b"\x1b[A\x1b[A\r")           # up twice: "list /data"
    assert b"list_dir /data" in out
    con.close()
    hist = (sandbox / "data" / ".history").read_text().splitlines()
    assert hist[-3:] == ["list /data", "help", "list /data"]
    again = Console(sandbox)
    try:
        out = again.ask(b"\x1b[A\x1b[A\x1b[B\r")  # up, up, down: the newest, "list /data"
        assert b"list_dir /data" in out
    finally:
        again.close()


def test_ctrl_c_and_ctrl_l(con):
    out = con.ask(b"delete everything\x03")
    assert b"^C" in out
    con.ask(b"list /da\x0c", re.compile(rb"\x1b\[H\x1b\[2J[^\r\n]*:/data> list /da$"))
    out = con.ask(b"ta\r")
    assert b"list_dir /data" in out


def test_invalid_utf8_nul_and_unknown_escapes(con):
    out = con.ask(b"list \xff\xfe/da\x00ta\r")
    assert b"ignored: the line contained" in out
    out = con.ask(b"\x1b[99;99Zlist \x1b]0;title\x07/data\x1b[?1049h\x1bP+q544e\x1b\\\r")
    assert b"list_dir /data" in out
    out = con.ask("list /data/caf\u00e9\r".encode())
    assert "caf\u00e9".encode() in out


def test_random_bytes_then_a_working_prompt(con, sandbox):
    rng = random.Random(1234)
    garbage = bytes(rng.getrandbits(8) for _ in range(100_000))
    t = time.monotonic()
    con.blast(garbage)
    # whatever state the garbage left (a line, a confirmation, a discarded long line):
    # Ctrl-C, then Ctrl-U, then Enter give a fresh prompt
    con.c.send(b"\x03\x15\r")
    con.c.expect(PROMPT, timeout=30)
    time.sleep(0.5)
    con.c.send(b"\x15")
    out = con.ask(b"list /data\r", timeout=30)
    assert b"list_dir /data" in out
    assert time.monotonic() - t < 40
    assert con.c.isalive()
    assert b"ignored: the line contained" in con.log  # the garbage was read, not swallowed


def test_one_megabyte_line_is_refused(con):
    t = time.monotonic()
    con.blast(b"a" * (1 << 20), chunk=8192)
    out = con.ask(b"\r", timeout=30)
    elapsed = time.monotonic() - t
    assert b"line too long (limit 4096), discarded" in con.log
    out = con.request("list /data")
    assert b"list_dir /data" in out
    assert elapsed < 20
    assert len(con.log) < 200_000   # the discarded megabyte is not echoed


def test_dumb_terminal_gets_no_escape_bytes(sandbox):
    for args, term in ((("--dumb",), "xterm"), ((), "dumb")):
        c = Console(sandbox, *args, term=term)
        try:
            c.ask(b"lisx\x7ft /da\x1b[Dta\r")      # the arrow is ignored when dumb
            c.ask(b"delete nothing-here\r")
            c.ask(b"\x1b[A\x03")
            c.ask(b"list /data\x0c\r")
            c.request("hello")
            assert b"\x1b" not in c.log
            assert b"list_dir /data" in c.log
        finally:
            c.close()


def test_ctrl_d_asks_before_leaving(con):
    out = con.ask(b"\x04", CONFIRM)
    assert b"exit? [y/N]" in con.log
    con.ask(b"n\r")
    con.c.send(b"\x04")
    con.c.expect(CONFIRM)
    con.c.send(b"y\r")
    con.c.expect(pexpect.EOF, timeout=10)
    con.c.close()
    assert con.c.exitstatus == 0


def test_sigterm_restores_the_terminal(con):
    import signal
    import termios
    assert not termios.tcgetattr(con.c.child_fd)[3] & termios.ICANON   # raw while running
    con.c.kill(signal.SIGTERM)
    con.c.expect(pexpect.EOF, timeout=10)
    assert termios.tcgetattr(con.c.child_fd)[3] & termios.ICANON
    con.c.close()
    assert con.c.exitstatus == 128 + signal.SIGTERM


# --- a confirmation only a person can answer (issue 17) ----------------------------------

CONTROLS = bytes(b for b in range(1, 32) if b not in b"\r\n\x03\x04")
LONG = {"letters": b"a" * 60_000, "controls": (CONTROLS * 3000)[:60_000]}


def _after_burst(con):
    """The console either asks once the line has gone quiet, or says no without asking.
    A question shown is left alone a moment (a typed-ahead y would act by then), then
    refused with Ctrl-C; either way a prompt follows."""
    i = con.c.expect([CONFIRM, PROMPT], timeout=15)
    con._take()
    if i == 0:
        time.sleep(0.5)
        con.ask(b"\x03")


@pytest.mark.parametrize("kind", sorted(LONG))
def test_a_long_line_typed_ahead_does_not_answer_proceed(con, sandbox, kind):
    victim = sandbox / "data" / "victim.txt"
    victim.write_text("x")
    con.blast(b"delete victim.txt\r" + LONG[kind] + b"\ry\r")
    _after_burst(con)
    assert victim.exists()
    assert b"nothing changed" in con.log and b"removed" not in con.log
    # the console still works, and a y typed after the question still confirms
    con.ask("delete victim.txt\r", CONFIRM)
    con.ask("y\r")
    assert not victim.exists()


def test_request_and_y_in_one_write_does_not_confirm(con, sandbox):
    victim = sandbox / "data" / "victim.txt"
    victim.write_text("x")
    con.c.send(b"delete victim.txt\ry\r")
    _after_burst(con)
    assert victim.exists()
    assert b"nothing changed" in con.log and b"removed" not in con.log


@pytest.mark.parametrize("kind", sorted(LONG))
def test_a_long_line_typed_ahead_does_not_answer_the_ctrl_d_question(con, kind):
    con.blast(b"\x04" + LONG[kind] + b"\ry\r")
    _after_burst(con)
    assert con.c.isalive()
    assert b"exit? [y/N]" in con.log
    out = con.request("list /data")
    assert b"list_dir /data" in out and con.c.isalive()


@pytest.mark.parametrize("paste", [LONG["letters"] + b"\ry\r", LONG["controls"] + b"\ry\r",
                                   b"y\rlist /data\r"], ids=["long", "controls", "y-and-more"])
def test_a_paste_at_the_question_is_no(con, sandbox, paste):
    victim = sandbox / "data" / "victim.txt"
    victim.write_text("x")
    con.ask("delete victim.txt\r", CONFIRM)
    con.blast(paste)
    con.c.expect(PROMPT, timeout=15)
    con._take()
    assert victim.exists()
    assert b"nothing changed" in con.log and b"removed" not in con.log


def test_typeahead_does_not_confirm_on_a_dumb_terminal(sandbox):
    victim = sandbox / "data" / "victim.txt"
    c = Console(sandbox, "--dumb")
    try:
        victim.write_text("x")
        c.blast(b"delete victim.txt\r" + LONG["letters"] + b"\ry\r")
        _after_burst(c)
        assert victim.exists() and b"nothing changed" in c.log
        c.ask("delete victim.txt\r", CONFIRM)
        c.ask("y\r")
        assert not victim.exists()
        assert b"\x1b" not in c.log
    finally:
        c.close()
