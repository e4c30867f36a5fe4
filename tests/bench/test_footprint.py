import json

import pytest

from bench.footprint import sizes, smallest_passing
from bench.guest import rss_of


def test_bisection_finds_the_threshold_with_few_calls():
    calls = []

    def passes(mb):
        calls.append(mb)
        return mb >= 256

    small, tried = smallest_passing([512, 128, 160, 192, 256, 320, 384], passes)
    assert small == 256
    assert len(calls) <= 4 and len(set(calls)) == len(calls)
    assert tried[512] is True and tried[256] is True and all(not tried[m] for m in tried if m < 256)


def test_bisection_when_nothing_or_everything_passes():
    assert smallest_passing([128, 256], lambda mb: False) == (None, {256: False})
    small, _ = smallest_passing([128, 256, 512], lambda mb: True)
    assert small == 128
    with pytest.raises(ValueError):
        smallest_passing([], lambda mb: True)


def test_sizes_from_an_image_dir(tmp_path):
    (tmp_path / "bzImage").write_bytes(b"k" * 300)
    (tmp_path / "rootfs.squashfs").write_bytes(b"r" * 2000)
    (tmp_path / "model.squashfs").write_bytes(b"m" * 5000)
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"kernel": {"file": "bzImage"}, "model": {"file": "x.gguf", "bytes": 4900}}))
    s = sizes(tmp_path)
    assert (s["kernel"], s["root"], s["model"], s["total"]) == (300, 2000, 5000, 7300)
    assert s["data"] is None and s["gguf"] == 4900 and s["gguf_file"] == "x.gguf"


def test_rss_of_picks_pid1_and_the_console():
    rows = [{"pid": 1, "rss": 10, "command": "/usr/bin/python3.11 -IXutf8 /sbin/init"},
            {"pid": 38, "rss": 200, "command": "/usr/bin/python3.11 -I -m llmos_init console"},
            {"pid": 50, "rss": 5, "command": "/bin/other"}]
    assert rss_of(rows) == {"pid1": 10, "console": 200}
    assert rss_of([]) == {"pid1": None, "console": None}
