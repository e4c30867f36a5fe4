"""File executors against a sandbox directory."""
from __future__ import annotations

import os
import stat

from .conftest import run, write


def test_list_dir_aligned_dirs_first(ex, sandbox):
    write(sandbox / "data/b.txt", "x" * 1500)
    write(sandbox / "data/a.txt", "hi")
    (sandbox / "data/zdir").mkdir()
    os.symlink("a.txt", sandbox / "data/link")
    r = run(ex, "list_dir", path="/data")
    assert r.ok
    lines = r.text.splitlines()
    assert lines[0] == "/data: 4 entries"
    assert lines[1].split() == ["TYPE", "SIZE", "MODIFIED", "NAME"]
    assert lines[2].startswith("dir") and lines[2].endswith("zdir/")
    assert [line.split()[-1] for line in lines[3:]] == ["a.txt", "b.txt", "a.txt"]  # link -> a.txt
    assert "1.5 KiB" in r.text and "link -> a.txt" in r.text
    name_col = lines[1].index("NAME")
    assert all(line[name_col - 2:name_col] == "  " for line in lines[2:])  # aligned


def test_list_dir_errors_and_empty(ex, sandbox):
    write(sandbox / "data/f", "x")
    (sandbox / "data/empty").mkdir()
    assert run(ex, "list_dir", path="empty").text == "/data/empty is empty"
    r = run(ex, "list_dir", path="f")
    assert not r.ok and "not a directory" in r.text
    r = run(ex, "list_dir", path="/nope")
    assert not r.ok and "does not exist" in r.text


def test_list_dir_weird_names_are_printable(ex, sandbox):
    os.close(os.open(os.path.join(os.fsencode(sandbox), b"data", b"bad\xff\x1b[2Jname"), os.O_CREAT | os.O_WRONLY))
    r = run(ex, "list_dir", path="/data")
    assert r.ok and "\x1b" not in r.text and "bad\ufffd^[[2Jname" in r.text


def test_read_file_bounded_with_more(ex, sandbox):
    write(sandbox / "data/long.txt", "".join(f"line {i}\n" for i in range(1, 101)))
    r = run(ex, "read_file", path="long.txt")
    lines = r.text.splitlines()
    assert lines[0] == "line 1" and lines[39] == "line 40"
    assert lines[-1] == "… 60 more lines; say 'show more of /data/long.txt'"
    r = run(ex, "read_file", path="/data/long.txt")  # "show more of" continues
    lines = r.text.splitlines()
    assert lines[0] == "(/data/long.txt, lines 41–80 of 100)" and lines[1] == "line 41"
    r = run(ex, "read_file", path="/data/long.txt")
    assert r.text.splitlines()[-1] == "line 100" and "more" not in r.text
    r = run(ex, "read_file", path="/data/long.txt")  # after the end: from the top again
    assert r.text.startswith("line 1\n")


def test_read_file_text_is_sanitised(ex, sandbox):
    write(sandbox / "data/t.txt", b"ok \x1b]0;pwned\x07 caf\xc3\xa9 bad\xff\r\nsecond\tcol\n")
    r = run(ex, "read_file", path="t.txt")
    assert r.ok
    assert r.text.splitlines() == ["ok ^[]0;pwned^G café bad\ufffd", "second    col"]


def test_read_file_long_line_is_cut(ex, sandbox):
    write(sandbox / "data/one.txt", "a" * 100_000 + "\nnext\n")
    r = run(ex, "read_file", path="one.txt")
    first, second = r.text.splitlines()[:2]
    assert first.endswith(" …") and len(first) < 1100 and second == "next"


def test_read_file_binary_summarised(ex, sandbox):
    elf = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + (3).to_bytes(2, "little") + (62).to_bytes(2, "little")
    write(sandbox / "data/prog", elf + b"\0\xff" * 600_000)
    r = run(ex, "read_file", path="prog")
    assert r.ok and r.text == "/data/prog: binary file, 1.1 MiB, ELF 64-bit shared object or PIE executable (x86-64); not shown"
    write(sandbox / "data/pic.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    assert "PNG image" in run(ex, "read_file", path="pic.png").text


def test_read_file_refuses_dirs_devices_and_empty(ex, sandbox):
    assert "is a directory" in run(ex, "read_file", path="/data").text
    os.mkfifo(sandbox / "data/fifo")
    r = run(ex, "read_file", path="fifo")  # would block forever if opened
    assert not r.ok and "named pipe" in r.text
    write(sandbox / "data/e", "")
    assert run(ex, "read_file", path="e").text == "/data/e is empty"


def test_write_file_create_and_overwrite_keeps_mode(ex, sandbox):
    r = run(ex, "write_file", path="notes.txt", text="meeting at 5")
    assert r.ok and (sandbox / "data/notes.txt").read_text() == "meeting at 5\n"
    os.chmod(sandbox / "data/notes.txt", 0o600)
    r = run(ex, "write_file", path="notes.txt", text="")
    assert r.ok and (sandbox / "data/notes.txt").read_bytes() == b""
    assert stat.S_IMODE(os.stat(sandbox / "data/notes.txt").st_mode) == 0o600
    assert not [n for n in os.listdir(sandbox / "data") if ".tmp-" in n]


def test_write_file_creates_parents_refuses_dirs(ex, sandbox):
    assert run(ex, "write_file", path="a/b/c.txt", text="x").ok
    assert (sandbox / "data/a/b/c.txt").read_text() == "x\n"
    r = run(ex, "write_file", path="/data/a", text="x")
    assert not r.ok and "directory" in r.text


def test_append_file_adds_a_line(ex, sandbox):
    write(sandbox / "data/list.txt", "milk")  # no trailing newline
    assert run(ex, "append_file", path="list.txt", text="eggs").ok
    assert (sandbox / "data/list.txt").read_text() == "milk\neggs\n"
    assert run(ex, "append_file", path="new.txt", text="first").ok
    assert (sandbox / "data/new.txt").read_text() == "first\n"


def test_make_dir(ex, sandbox):
    r = run(ex, "make_dir", path="x/y/z")
    assert r.ok and (sandbox / "data/x/y/z").is_dir()
    assert run(ex, "make_dir", path="x").text == "/data/x already exists"
    write(sandbox / "data/f", "")
    assert not run(ex, "make_dir", path="f").ok


def test_remove_goes_to_trash(ex, sandbox):
    write(sandbox / "data/d/a.txt", "12345")
    r = run(ex, "remove", path="/data/d")
    assert r.ok and not (sandbox / "data/d").exists()
    item = r.data["trash"]
    assert item.startswith(str(sandbox / "data/trash")) and open(os.path.join(item, "a.txt")).read() == "12345"
    assert os.path.exists(os.path.join(os.path.dirname(item), "meta.json"))
    assert not run(ex, "remove", path="/data/d").ok


def test_remove_of_cwd_moves_cwd_up(ex, sandbox):
    (sandbox / "data/w/sub").mkdir(parents=True)
    run(ex, "change_dir", path="/data/w/sub")
    r = run(ex, "remove", path="/data/w")
    assert r.ok and r.changed_cwd == "/data" and ex.ctx.cwd == "/data"


def test_remove_symlink_removes_the_link_only(ex, sandbox):
    write(sandbox / "data/target.txt", "keep")
    os.symlink("target.txt", sandbox / "data/l")
    assert run(ex, "remove", path="l").ok
    assert (sandbox / "data/target.txt").read_text() == "keep"


def test_move_rename_into_dir_and_replace(ex, sandbox):
    write(sandbox / "data/a.txt", "A")
    (sandbox / "data/dir").mkdir()
    assert run(ex, "move", src="a.txt", dst="b.txt").ok
    assert (sandbox / "data/b.txt").read_text() == "A"
    assert run(ex, "move", src="b.txt", dst="dir").ok
    assert (sandbox / "data/dir/b.txt").read_text() == "A"
    write(sandbox / "data/c.txt", "C")
    r = run(ex, "move", src="c.txt", dst="dir/b.txt")
    assert r.ok and "trash" in r.text and (sandbox / "data/dir/b.txt").read_text() == "C"
    assert "replaces /data/dir/b.txt" not in ex.preview({"tool": "move", "args": {"src": "dir/b.txt", "dst": "x"}})
    r = run(ex, "move", src="/data/dir", dst="/data/dir/inner")
    assert not r.ok and "into itself" in r.text
    assert not run(ex, "move", src="nope", dst="x").ok


def test_copy_file_and_dir_never_overwrites(ex, sandbox):
    write(sandbox / "data/a.txt", "A")
    write(sandbox / "data/d/x/y.txt", "Y")
    os.symlink("/etc/passwd", sandbox / "data/d/outside")
    assert run(ex, "copy", src="a.txt", dst="a.bak").ok
    assert (sandbox / "data/a.bak").read_text() == "A"
    r = run(ex, "copy", src="a.txt", dst="a.bak")
    assert not r.ok and "never overwrites" in r.text
    assert run(ex, "copy", src="d", dst="d2").ok
    assert (sandbox / "data/d2/x/y.txt").read_text() == "Y"
    assert os.readlink(sandbox / "data/d2/outside") == "/etc/passwd"  # copied as a link, not read
    assert not run(ex, "copy", src="d", dst="d/x").ok
    assert not [n for n in os.listdir(sandbox / "data") if ".tmp-" in n]


def test_file_info(ex, sandbox):
    write(sandbox / "data/a.txt", "hello")
    r = run(ex, "file_info", path="a.txt")
    assert r.ok and r.data["type"] == "file" and "5 B (5 bytes)" in r.text and "-rw-" in r.text
    os.symlink("gone", sandbox / "data/dangling")
    assert "gone (missing)" in run(ex, "file_info", path="dangling").text


def test_find_files(ex, sandbox):
    write(sandbox / "data/logs/a.log", "")
    write(sandbox / "data/logs/deep/b.log", "")
    write(sandbox / "data/c.txt", "")
    r = run(ex, "find_files", pattern="*.log", path="/data")
    assert r.ok and r.data == ["/data/logs/a.log", "/data/logs/deep/b.log"]
    assert run(ex, "find_files", pattern="C.TXT", path="/").data == ["/data/c.txt"]  # plain word: substring
    assert "no match" in run(ex, "find_files", pattern="*.iso", path="/data").text
    ex.ctx.list_limit = 1
    assert "stopped early" in run(ex, "find_files", pattern="*.log", path="/data").text


def test_change_dir(ex, sandbox):
    (sandbox / "data/docs").mkdir()
    r = run(ex, "change_dir", path="docs")
    assert r.ok and r.changed_cwd == "/data/docs" and ex.ctx.cwd == "/data/docs"
    assert run(ex, "change_dir", path="..").changed_cwd == "/data"
    assert not run(ex, "change_dir", path="nope").ok
    write(sandbox / "data/f", "")
    assert not run(ex, "change_dir", path="f").ok and ex.ctx.cwd == "/data"


class _CtrlCAfter:
    """Stands in for Executor.cancel: 'set' from the n-th look on (run() clears it first,
    as the console's worker starts; the user's Ctrl-C comes while the tool works)."""

    def __init__(self, n: int):
        self.n = n

    def clear(self):
        pass

    def set(self):
        self.n = 0

    def is_set(self):
        self.n -= 1
        return self.n < 0


def test_ctrl_c_stops_a_copy_and_leaves_nothing(ex, sandbox, monkeypatch):
    from llmos_init.tools import files
    monkeypatch.setattr(files, "COPY_CHUNK", 1024)
    write(sandbox / "data/big.bin", "x" * 100_000)
    ex.cancel = _CtrlCAfter(5)
    r = run(ex, "copy", src="big.bin", dst="copy.bin")
    assert not r.ok and r.text == "copy cancelled (Ctrl-C): /data/copy.bin was not created"
    assert sorted(os.listdir(sandbox / "data")) == ["big.bin", "log"]   # no temp file left
    (sandbox / "data/tree/sub").mkdir(parents=True)
    for i in range(5):
        write(sandbox / f"data/tree/sub/f{i}", "y" * 5000)
    ex.cancel = _CtrlCAfter(3)
    r = run(ex, "copy", src="tree", dst="tree2")
    assert not r.ok and "cancelled" in r.text and not (sandbox / "data/tree2").exists()
    assert not [n for n in os.listdir(sandbox / "data") if n.startswith(".")]
    ex.cancel = _CtrlCAfter(10**9)                       # no Ctrl-C: a whole, equal copy
    assert run(ex, "copy", src="big.bin", dst="copy.bin").ok
    assert (sandbox / "data/copy.bin").read_bytes() == (sandbox / "data/big.bin").read_bytes()


def test_ctrl_c_stops_find_files_with_what_it_found(ex, sandbox):
    for i in range(6):
        write(sandbox / f"data/d{i}/match{i}.log", "z")
    ex.cancel = _CtrlCAfter(3)
    r = run(ex, "find_files", pattern="*.log", path="/data")
    assert r.ok and "search cancelled (Ctrl-C)" in r.text
    assert 0 < r.text.count(".log") < 6
