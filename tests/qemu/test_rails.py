"""The rails in the guest (issue 17), over the serial line: a mount over the data partition
is refused and hides nothing; a USB stick (a second disk image, /dev/vdd) mounted below
/data survives a remove of the directory above it; undo shows what it reverts and asks
when it moves something.

One guest for the module; every request uses the deterministic parser's forms.
"""
from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from mkimage.image import make_data_image
from qemu_harness import Guest


def _stick(path: Path) -> None:
    """A 16 MiB ext4 "USB stick" holding photo.txt."""
    with tempfile.TemporaryDirectory() as d:
        Path(d, "photo.txt").write_text("holiday picture\n")
        with open(path, "wb") as f:
            f.truncate(16 << 20)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "stick", "-d", d, str(path)], check=True)


@pytest.fixture(scope="module")
def guest(image, tmp_path_factory):
    wd = tmp_path_factory.mktemp("rails")
    data = wd / "data.ext4"
    make_data_image(data, 64)
    stick = wd / "stick.ext4"
    _stick(stick)
    g = Guest(wd, data, extra_args=("-drive", f"file={stick},if=virtio,format=raw"))
    g.boot()
    yield g
    g.kill()


def _clean(out: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out).replace("\r", "")


def test_mount_over_the_data_partition_is_refused(guest):
    g = guest
    assert "created /data/precious.txt" in g.ask("echo keep me > /data/precious.txt", confirm="y")
    for target in ("/data", "/data/log", "/data/trash", "/"):
        out = _clean(g.ask(f"mount -t tmpfs tmpfs {target}"))   # refused before any question
        assert "refused" in out and "mounted" not in out, out
    assert "precious.txt" in g.ask("ls /data")
    assert "keep me" in g.ask("cat /data/precious.txt")
    log = _clean(g.ask("cat /data/log/actions.jsonl"))
    assert '"refused": true' in log and "would hide the data partition" in log, log[-2000:]


def test_remove_across_a_mounted_stick_is_refused(guest):
    g = guest
    assert "created directory /data/media/usb" in g.ask("mkdir /data/media/usb")
    out = _clean(g.ask("mount /dev/vdd at /data/media/usb", confirm="y"))
    assert "mount /dev/vdd (block device, 16 MiB) at /data/media/usb" in out, out
    assert re.search(r"mounted /dev/vdd \(ext[234]\) at /data/media/usb", out), out
    assert "holiday picture" in g.ask("cat /data/media/usb/photo.txt")
    # an empty-looking directory with the stick in it: remove and move refuse it whole
    for request in ("delete /data/media", "rm -r /data/media", "mv /data/media /data/old"):
        out = _clean(g.ask(request))
        assert "holds a mounted filesystem (/data/media/usb)" in out, out
    # a mount over the stick's mount point, which is in use, is refused too
    out = _clean(g.ask("mount -t tmpfs tmpfs /data/media/usb"))
    assert "already a mount point" in out, out
    assert "holiday picture" in g.ask("cat /data/media/usb/photo.txt")
    out = _clean(g.ask("unmount /data/media/usb", confirm="y"))
    assert "unmounted /data/media/usb" in out, out
    out = _clean(g.ask("delete /data/media", confirm="y"))
    assert "removed /data/media" in out, out
    # the stick still holds its file: mount it again elsewhere
    g.ask("mkdir /data/stick")
    g.ask("mount /dev/vdd /data/stick", confirm="y")
    assert "holiday picture" in g.ask("cat /data/stick/photo.txt")
    g.ask("unmount /data/stick", confirm="y")


def test_undo_shows_what_it_reverts_and_asks_before_moving(guest):
    g = guest
    g.ask("echo one > /data/u.txt", confirm="y")
    g.ask("rename /data/u.txt to /data/v.txt", confirm="y")
    out = _clean(g.ask("undo", confirm="n"))          # it would move v.txt back: it asks
    assert "undo: move /data/v.txt back to /data/u.txt" in out and "declined" in out, out
    assert "v.txt" in g.ask("ls /data")
    out = _clean(g.ask("undo", confirm="y"))
    assert "moved /data/v.txt back to /data/u.txt" in out, out
    g.ask("delete /data/u.txt", confirm="y")
    out = _clean(g.ask("undo"))                       # restoring asks nothing, but is shown
    assert "undo: restore /data/u.txt from the trash" in out and "restored /data/u.txt" in out, out
    log = _clean(g.ask("cat /data/log/actions.jsonl"))
    assert '"declined": true' in log, log[-2000:]
