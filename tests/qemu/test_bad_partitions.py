"""Bad disks never cost data or the console: a corrupt data partition, a corrupt model."""
from __future__ import annotations

import os

from mkimage import cache


def test_unmountable_data_partition_is_left_untouched_and_warned_about(guest_factory, tmp_path):
    """Garbage where the data partition should be: tmpfs in its place, a loud warning,
    a working console, and not one byte of the disk changed (never format user data)."""
    disk = tmp_path / "garbage.img"
    disk.write_bytes(os.urandom(8 << 20))
    before = cache.file_digest(disk)
    g = guest_factory(disk)
    g.boot()
    log = g.log_text()
    assert "WARNING" in log and "/data" in log
    out = g.ask("create /data/scratch.txt with the text on tmpfs", confirm="y")
    assert "scratch.txt" in out
    assert "on tmpfs" in g.ask("show /data/scratch.txt")
    assert g.poweroff() == 0
    assert cache.file_digest(disk) == before


def test_corrupt_model_leaves_the_console_working_on_the_parser(guest_factory, data_disk, tmp_path):
    model = tmp_path / "model.img"
    model.write_bytes(os.urandom(4 << 20))
    g = guest_factory(data_disk, env={"MODEL_IMAGE": str(model)})
    g.boot()
    out = g.ask("make a folder /data/stillworks and list it")
    assert "stillworks" in out
    out = g.ask("list /data")
    assert "stillworks" in out
    assert "Traceback" not in g.log_text()
    assert g.poweroff() == 0
