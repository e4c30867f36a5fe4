"""The trash and undo of every undoable action (also across a console restart), and
atomic writes under injected crashes."""
from __future__ import annotations

import json
import os
import signal

import pytest

from llmos_init.tools import fsio
from llmos_init.tools.trash import Trash, UndoError
from llmos_init.tools.executor import Executor
from llmos_init.tools.text import human_size

from .conftest import run, write


def restart(ex):
    """A new console: same context, a fresh Trash reading the state on /data."""
    return Executor(ex.ctx, Trash(ex.ctx.real_data_dir))


def test_undo_remove_file_and_dir_after_restart(ex, sandbox):
    write(sandbox / "data/d/x.txt", "x")
    write(sandbox / "data/a.txt", "a")
    assert run(ex, "remove", path="d").ok
    assert run(ex, "remove", path="a.txt").ok
    ex2 = restart(ex)
    r = run(ex2, "undo")
    assert r.ok and r.text == "restored /data/a.txt from the trash"
    assert (sandbox / "data/a.txt").read_text() == "a"
    r = run(restart(ex2), "undo")
    assert r.ok and (sandbox / "data/d/x.txt").read_text() == "x"
    assert os.listdir(sandbox / "data/trash") == []  # restored slots are cleaned up
    assert run(ex, "undo").text == "nothing to undo"


def test_undo_remove_refuses_to_overwrite(ex, sandbox):
    write(sandbox / "data/a.txt", "old")
    run(ex, "remove", path="a.txt")
    write(sandbox / "data/a.txt", "new")
    r = run(ex, "undo")
    assert not r.ok and "exists again" in r.text
    assert (sandbox / "data/a.txt").read_text() == "new"
    os.unlink(sandbox / "data/a.txt")
    assert run(ex, "undo").ok  # the entry was kept: fixing the obstacle lets undo finish
    assert (sandbox / "data/a.txt").read_text() == "old"


def test_undo_move_and_replaced_file(ex, sandbox):
    write(sandbox / "data/a.txt", "A")
    write(sandbox / "data/b.txt", "B")
    assert run(ex, "move", src="a.txt", dst="b.txt").ok
    assert (sandbox / "data/b.txt").read_text() == "A"
    r = run(restart(ex), "undo")
    assert r.ok and "restored the previous /data/b.txt" in r.text
    assert (sandbox / "data/a.txt").read_text() == "A" and (sandbox / "data/b.txt").read_text() == "B"


def test_undo_move_refuses_when_source_occupied(ex, sandbox):
    write(sandbox / "data/a.txt", "A")
    run(ex, "move", src="a.txt", dst="c.txt")
    write(sandbox / "data/a.txt", "someone else")
    r = run(ex, "undo")
    assert not r.ok and "occupied" in r.text
    assert (sandbox / "data/a.txt").read_text() == "someone else"
    assert (sandbox / "data/c.txt").read_text() == "A"


def test_undo_move_when_destination_gone_is_dropped(ex, sandbox):
    write(sandbox / "data/a.txt", "A")
    run(ex, "move", src="a.txt", dst="c.txt")
    os.unlink(sandbox / "data/c.txt")
    r = run(ex, "undo")
    assert not r.ok and "dropped" in r.text
    assert run(ex, "undo").text == "nothing to undo"


def test_undo_write_restores_previous_or_trashes_new(ex, sandbox):
    write(sandbox / "data/a.txt", "v1\n")
    run(ex, "write_file", path="a.txt", text="v2")
    run(ex, "write_file", path="new.txt", text="fresh")
    ex2 = restart(ex)
    r = run(ex2, "undo")
    assert r.ok and "did not exist before" in r.text and not (sandbox / "data/new.txt").exists()
    r = run(ex2, "undo")
    assert r.ok and (sandbox / "data/a.txt").read_text() == "v1\n"


def test_undo_write_keeps_later_edits_in_trash(ex, sandbox):
    write(sandbox / "data/a.txt", "v1\n")
    run(ex, "write_file", path="a.txt", text="v2")
    write(sandbox / "data/a.txt", "edited by hand\n")
    r = run(ex, "undo")
    assert r.ok and "changed since" in r.text
    assert (sandbox / "data/a.txt").read_text() == "v1\n"
    kept = [os.path.join(dp, f) for dp, _, fs in os.walk(sandbox / "data/trash") for f in fs if f == "a.txt"]
    assert [open(k).read() for k in kept] == ["edited by hand\n"]


def test_undo_append_truncates_back(ex, sandbox):
    write(sandbox / "data/list.txt", "milk")
    run(ex, "append_file", path="list.txt", text="eggs")
    assert run(restart(ex), "undo").ok
    assert (sandbox / "data/list.txt").read_bytes() == b"milk"


def test_undo_append_refuses_after_changes(ex, sandbox):
    write(sandbox / "data/list.txt", "milk\n")
    run(ex, "append_file", path="list.txt", text="eggs")
    write(sandbox / "data/list.txt", "milk\nEGGS\n")  # same size, different bytes
    r = run(ex, "undo")
    assert not r.ok and "changed since" in r.text
    assert (sandbox / "data/list.txt").read_text() == "milk\nEGGS\n"


def test_undo_append_of_new_file(ex, sandbox):
    run(ex, "append_file", path="fresh.txt", text="one")
    assert run(ex, "undo").ok and not (sandbox / "data/fresh.txt").exists()


def test_undo_api_directly(tmp_path):
    j = Trash(str(tmp_path))
    assert j.undo() == "nothing to undo"
    j.push_undo({"kind": "bogus"})
    with pytest.raises(UndoError):
        j.undo()
    assert j.peek_undo() is None


def test_atomic_write_crash_before_rename_keeps_original(ex, sandbox, monkeypatch):
    write(sandbox / "data/a.txt", "original\n")

    def crash(src, dst):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(fsio.os, "replace", crash)
    r = run(ex, "write_file", path="a.txt", text="new content")
    assert not r.ok and "Input/output error" in r.text
    assert (sandbox / "data/a.txt").read_text() == "original\n"
    assert [n for n in os.listdir(sandbox / "data") if n != "log" and n != "trash"] == ["a.txt"]
    r = run(ex, "append_file", path="a.txt", text="more")
    assert not r.ok and (sandbox / "data/a.txt").read_text() == "original\n"


def test_atomic_write_killed_between_write_and_rename(tmp_path):
    """A process SIGKILLed after writing the temp file, before the rename (a power cut
    at the worst moment): the final name still holds the old content, never a part."""
    target = tmp_path / "f.txt"
    target.write_text("old\n")
    pid = os.fork()
    if pid == 0:
        try:
            fsio.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
            fsio.atomic_write(str(target), b"new " * 100_000)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert target.read_text() == "old\n"
    leftovers = [n for n in os.listdir(tmp_path) if n != "f.txt"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".f.txt.tmp-")  # only a hidden temp


def test_atomic_write_fsyncs_file_and_dir(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(fsio.os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real(fd)))
    fsio.atomic_write(str(tmp_path / "g"), b"data")
    assert synced[0].startswith(str(tmp_path / ".g.tmp-")) and synced[-1] == str(tmp_path)


class _Disk:
    """statvfs of a pretend /data: `free` blocks of 100, grown by what the trash frees."""

    def __init__(self, free: int):
        self.free = free

    def __call__(self, path):
        return os.statvfs_result((4096, 4096, 100, self.free, self.free, 0, 0, 0, 0, 255))


def _slot_bytes(item):
    from llmos_init.tools.fsio import tree_bytes
    return tree_bytes(os.path.dirname(item))


def test_full_disk_takes_only_what_the_new_item_needs(tmp_path):
    disk = _Disk(free=50)
    j = Trash(str(tmp_path), statvfs=disk)
    items = []
    for name in ("a", "b", "c"):
        p = tmp_path / name
        p.write_text(name * 5000)                  # each slot takes a few blocks
        items.append(j.to_trash(str(p), f"/data/{name}"))
    assert j.plan_eviction(trash_bytes=10_000).items == []      # 50 % free: nothing goes
    disk.free = 5                                  # the disk fills up (5 % free of 100 blocks)
    need = _slot_bytes(items[0]) + 1               # a bit more than the oldest slot holds
    ev = j.plan_eviction(trash_bytes=need)
    assert [o for _, o, _, _ in ev.items] == ["/data/a", "/data/b"]   # oldest first, no more
    assert "will be deleted for good: /data/a (" in ev.note() and "/data/b (" in ev.note()
    ev = j.plan_eviction(trash_bytes=10)           # a 10-byte item: one slot pays for it
    assert [o for _, o, _, _ in ev.items] == ["/data/a"]
    # the shortfall below 10 % bounds it too: 9 % free and 1 block short → one slot
    disk.free = 9
    assert [o for _, o, _, _ in j.plan_eviction(trash_bytes=10**9).items] == ["/data/a"]
    # commit deletes exactly the plan, never the newest (keep), and says so
    disk.free = 5
    (tmp_path / "d").write_text("d")
    newest = j.to_trash(str(tmp_path / "d"), "/data/d")
    size_a = human_size(_slot_bytes(items[0]))
    note = j.commit(None, trash_bytes=10, keep=newest)
    assert note == f"; /data is nearly full, so the oldest trash item(s) were deleted for good: /data/a ({size_a})"
    assert not os.path.exists(items[0]) and all(os.path.exists(i) for i in items[1:] + [newest])
    only_newest = Trash(str(tmp_path / "x"), statvfs=_Disk(free=1))
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "n").write_text("n")
    item = only_newest.to_trash(str(tmp_path / "x" / "n"), "/data/n")
    assert only_newest.plan_eviction(trash_bytes=10**6, keep=item).items == []  # never the newest


def test_undo_of_an_evicted_item_says_so(tmp_path):
    disk = _Disk(free=50)
    j = Trash(str(tmp_path), statvfs=disk)
    (tmp_path / "a").write_text("a")
    item = j.to_trash(str(tmp_path / "a"), "/data/a")
    j.push_undo({"kind": "remove", "path": str(tmp_path / "a"), "shown": "/data/a", "trash": item})
    disk.free = 1
    assert "/data/a" in j.evict(j.plan_eviction(trash_bytes=1))
    with pytest.raises(UndoError, match="no longer in the trash"):
        j.undo()


def test_trash_eviction_never_crosses_a_filesystem_boundary(tmp_path):
    """A slot that holds a mount point (a stick mounted below a removed directory, in an
    older version) loses its own files only; the mounted tree stays whole."""
    j = Trash(str(tmp_path / "data"), statvfs=_Disk(free=1),
                mountinfo=str(tmp_path / "mountinfo"))
    (tmp_path / "data").mkdir()
    d = tmp_path / "data" / "media"
    (d / "usb").mkdir(parents=True)
    (d / "usb" / "photo.jpg").write_text("on the stick")
    (d / "local.txt").write_text("local")
    item = j.to_trash(str(d), "/data/media")
    (tmp_path / "mountinfo").write_text(
        f"30 21 8:1 / {item}/usb rw - vfat /dev/sda1 rw\n")
    note = j.evict(j.plan_eviction(trash_bytes=1))
    assert "/data/media" in note and "another filesystem" in note and f"{item}/usb" in note
    assert (tmp_path / f"{item}/usb/photo.jpg").read_text() == "on the stick"
    assert not os.path.exists(f"{item}/local.txt")


def test_undo_stack_overflow_drops_its_trash(tmp_path):
    j = Trash(str(tmp_path), max_undo=2)
    items = []
    for name in ("a", "b", "c"):
        p = tmp_path / name
        p.write_text(name)
        item = j.to_trash(str(p), name)
        items.append(item)
        j.push_undo({"kind": "remove", "path": str(p), "shown": name, "trash": item})
    assert not os.path.exists(os.path.dirname(items[0]))     # fell off the stack
    assert all(os.path.exists(i) for i in items[1:])
    assert j.undo() == "restored c from the trash" and j.undo() == "restored b from the trash"
    assert j.undo() == "nothing to undo"


def test_drop_trash_stays_inside_the_trash(tmp_path):
    j = Trash(str(tmp_path))
    keep = tmp_path / "keep.txt"
    keep.write_text("precious")
    for hostile in (str(tmp_path / "trash" / ".." / "x"), str(tmp_path / "trash" / "x"),
                    str(tmp_path / "keep.txt"), "/"):
        j.drop_trash(hostile)
    assert keep.read_text() == "precious"


def test_remove_names_what_a_full_disk_takes_before_and_after(ex, sandbox):
    from llmos_init.tools.trash import Trash as J
    disk = _Disk(free=50)
    ex.trash = J(ex.ctx.real_data_dir, statvfs=disk)
    write(sandbox / "data/old.txt", "old")
    write(sandbox / "data/older.txt", "older")
    write(sandbox / "data/new.txt", "new")
    assert "nearly full" not in run(ex, "remove", path="older.txt").text
    assert "nearly full" not in run(ex, "remove", path="old.txt").text
    disk.free = 2
    preview = ex.preview({"tool": "remove", "args": {"path": "new.txt"}})
    assert "/data is nearly full, so the oldest trash item(s) will be deleted for good: /data/older.txt (" in preview
    assert "/data/old.txt" not in preview                # only what the new item needs
    r = run(ex, "remove", path="new.txt")
    assert r.ok and "were deleted for good: /data/older.txt (" in r.text and "/data/old.txt" not in r.text
    assert run(ex, "undo").text == "restored /data/new.txt from the trash"
    assert run(ex, "undo").text == "restored /data/old.txt from the trash"
    r = run(ex, "undo")
    assert not r.ok and "no longer in the trash" in r.text


def test_the_change_that_overflows_the_undo_list_names_what_it_deletes(ex, sandbox):
    ex.trash = Trash(ex.ctx.real_data_dir, max_undo=2)
    for name in ("a", "b"):
        write(sandbox / f"data/{name}.txt", name)
        assert run(ex, "remove", path=f"{name}.txt").ok
    write(sandbox / "data/c.txt", "c")
    preview = ex.preview({"tool": "remove", "args": {"path": "c.txt"}})
    assert "the undo list keeps the last 2 changes, so the trash item(s) of the oldest will be " \
           "deleted for good: /data/a.txt (" in preview
    r = run(ex, "remove", path="c.txt")
    assert "were deleted for good: /data/a.txt (" in r.text
    # an append adds an undo entry too: it says what falls off
    write(sandbox / "data/list.txt", "x")
    assert "/data/b.txt" in ex.preview({"tool": "append_file", "args": {"path": "list.txt", "text": "y"}})
    assert "/data/b.txt" in run(ex, "append_file", path="list.txt", text="y").text
    # nothing is left over for the next action to report
    write(sandbox / "data/d.txt", "d")
    assert "deleted for good: /data/c.txt" in run(ex, "remove", path="d.txt").text


def test_an_eviction_caused_by_undo_is_reported_by_undo(ex, sandbox):
    disk = _Disk(free=50)
    ex.trash = Trash(ex.ctx.real_data_dir, statvfs=disk)
    write(sandbox / "data/old.txt", "old")
    assert run(ex, "remove", path="old.txt").ok
    assert run(ex, "write_file", path="new.txt", text="new").ok
    disk.free = 2
    step = ex.preview({"tool": "undo", "args": {}})
    assert step.startswith("undo: remove /data/new.txt, created by write_file") and "/data/old.txt (" in step
    assert ex.needs_confirmation({"tool": "undo", "args": {}})      # it takes a file away
    r = run(ex, "undo")
    assert r.ok and "were deleted for good: /data/old.txt (" in r.text
    write(sandbox / "data/x.txt", "x")
    assert "old.txt" not in run(ex, "remove", path="x.txt").text  # reported once, by undo


def test_undo_shows_what_it_reverts_and_asks_when_it_moves_or_overwrites(ex, sandbox):
    assert ex.preview({"tool": "undo", "args": {}}) == "undo: nothing to undo"
    assert not ex.needs_confirmation({"tool": "undo", "args": {}})
    write(sandbox / "data/a.txt", "A")
    assert run(ex, "remove", path="a.txt").ok
    assert ex.preview({"tool": "undo", "args": {}}).startswith("undo: restore /data/a.txt from the trash (removed ")
    assert not ex.needs_confirmation({"tool": "undo", "args": {}})  # it only puts a file back
    assert ex.announce({"tool": "undo", "args": {}}).startswith("undo: restore /data/a.txt")
    assert run(ex, "undo").ok
    assert run(ex, "move", src="a.txt", dst="b.txt").ok
    assert ex.preview({"tool": "undo", "args": {}}).startswith("undo: move /data/b.txt back to /data/a.txt")
    assert ex.needs_confirmation({"tool": "undo", "args": {}}) and ex.announce({"tool": "undo", "args": {}}) is None
    assert run(ex, "undo").ok
    assert run(ex, "append_file", path="a.txt", text="more").ok
    assert "off the end of /data/a.txt" in ex.preview({"tool": "undo", "args": {}})
    assert ex.needs_confirmation({"tool": "undo", "args": {}})


def test_undo_obeys_the_path_rails(ex, sandbox, tmp_path):
    """A directory swapped for a symbolic link to a place outside the sandbox: undo must
    neither take a file from there into the trash nor write one there."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "n.txt").write_text("not yours")
    write(sandbox / "data/docs/n.txt", "mine")
    assert run(ex, "write_file", path="docs/n.txt", text="new").ok     # undo: put back "mine"
    import shutil
    shutil.rmtree(sandbox / "data/docs")
    os.symlink(outside, sandbox / "data/docs")
    r = run(ex, "undo")
    assert not r.ok and ("outside the sandbox" in r.text or "undo refused" in r.text), r.text
    assert (outside / "n.txt").read_text() == "not yours" and os.listdir(outside) == ["n.txt"]
    # a parent swapped for a link that stays inside the sandbox is refused too
    os.unlink(sandbox / "data/docs")
    (sandbox / "data/elsewhere").mkdir()
    os.symlink(sandbox / "data/elsewhere", sandbox / "data/docs")
    r = run(ex, "undo")
    assert not r.ok and "undo refused" in r.text and os.listdir(sandbox / "data/elsewhere") == []


def test_undo_entry_pointing_outside_the_trash_is_dropped(ex, sandbox, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    write(sandbox / "data/a.txt", "a")
    assert run(ex, "remove", path="a.txt").ok
    stack = json.loads((sandbox / "data/log/undo.json").read_text())
    stack[-1]["trash"] = str(victim)                   # an undo.json edited by hand
    (sandbox / "data/log/undo.json").write_text(json.dumps(stack))
    r = run(ex, "undo")
    assert not r.ok and "not in the trash" in r.text
    assert victim.read_text() == "keep" and not (sandbox / "data/a.txt").exists()
