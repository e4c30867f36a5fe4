"""History persisted on the data partition: bounded, appended with fsync, compacted atomically."""
import os

from llmos_init.console.history import History


def test_persists_across_sessions(tmp_path):
    path = str(tmp_path / ".history")
    h = History(path)
    for line in ["ls", "ls", "", "  ", "cd /data", "bad\x1bline"]:
        h.add(line)
    assert h.entries == ["ls", "cd /data"]
    assert History(path).entries == ["ls", "cd /data"]


def test_bounded_and_compacted(tmp_path):
    path = str(tmp_path / ".history")
    h = History(path, limit=10)
    for i in range(35):
        h.add(f"request {i}")
    assert h.entries == [f"request {i}" for i in range(25, 35)]
    with open(path) as f:
        on_disk = f.read().splitlines()
    assert len(on_disk) <= 20
    assert on_disk[-1] == "request 34"
    assert History(path, limit=10).entries == h.entries
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".history.tmp")]


def test_garbage_file_and_unwritable_place(tmp_path):
    path = tmp_path / ".history"
    path.write_bytes(b"ok\n\xff\xfe\x00bin\nfine\n")
    h = History(str(path))
    assert h.entries[0] == "ok" and h.entries[-1] == "fine"
    assert all("\x00" not in e for e in h.entries)
    nowhere = History(str(tmp_path / "missing-dir" / ".history"))
    nowhere.add("still works")
    assert nowhere.entries == ["still works"] and "cannot write" in nowhere.error
