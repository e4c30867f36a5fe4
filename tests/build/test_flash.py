"""`make flash`: refusals decided from fake /sys and /proc trees; writing a regular file."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from mkimage import flash

MiB = 1 << 20


def fake_disk(root: Path, name: str = "sdz", *, removable: str = "1", ro: str = "0",
              sectors: int = 2 * MiB // 512 * 64, major: int = 8, partitions: int = 2,
              mmc_type: str | None = None, holders: list[str] = ()) -> tuple[Path, Path]:
    """A /sys with one disk (and partitions) plus an empty /proc; returns (sys, proc)."""
    sys_root, proc = root / "sys", root / "proc"
    blk = sys_root / "block" / name
    (blk / "device").mkdir(parents=True)
    (blk / "holders").mkdir()
    for h in holders:
        (blk / "holders" / h).mkdir()
    (blk / "removable").write_text(removable + "\n")
    (blk / "ro").write_text(ro + "\n")
    (blk / "size").write_text(f"{sectors}\n")
    (blk / "dev").write_text(f"{major}:0\n")
    (blk / "device/vendor").write_text("Generic \n")
    (blk / "device/model").write_text("SD Reader\n")
    if mmc_type:
        (blk / "device/type").write_text(mmc_type + "\n")
    (sys_root / "class/block").mkdir(parents=True)
    os.symlink(blk, sys_root / "class/block" / name)
    sep = "p" if name[-1].isdigit() else ""
    for i in range(1, partitions + 1):
        part = blk / f"{name}{sep}{i}"
        (part / "holders").mkdir(parents=True)
        (part / "partition").write_text(f"{i}\n")
        (part / "dev").write_text(f"{major}:{i}\n")
        os.symlink(part, sys_root / "class/block" / part.name)
    (proc / "self").mkdir(parents=True)
    (proc / "self/mountinfo").write_text(
        "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
        "23 22 0:21 / /proc rw,nosuid shared:2 - proc proc rw\n")
    (proc / "swaps").write_text("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")
    return sys_root, proc


@pytest.fixture
def image(tmp_path) -> Path:
    img = tmp_path / "sdcard.img"
    img.write_bytes(os.urandom(3 * MiB + 123))
    return img


@pytest.fixture
def target(tmp_path) -> Path:
    """The 'device': a regular file named like the fake disk, holding precious data."""
    t = tmp_path / "dev" / "sdz"
    t.parent.mkdir()
    t.write_bytes(b"precious" * 1000)
    return t


def untouched(target: Path) -> bool:
    return target.read_bytes() == b"precious" * 1000


def never_asked(prompt: str) -> str:
    raise AssertionError("asked for confirmation although the device was refused")


def test_refuses_a_non_removable_disk(tmp_path, image, target):
    sys_root, proc = fake_disk(tmp_path, removable="0")
    with pytest.raises(flash.Refused, match="not a removable disk"):
        flash.flash(str(target), image, sys_root=sys_root, proc_root=proc, ask=never_asked,
                    require_block_device=False)
    assert untouched(target)


def test_refuses_a_mounted_partition_by_device_number(tmp_path, image, target):
    sys_root, proc = fake_disk(tmp_path)
    with open(proc / "self/mountinfo", "a") as f:
        f.write("40 22 8:2 / /media/me/My\\040Card rw,nosuid shared:9 - vfat /dev/sdz2 rw\n")
    with pytest.raises(flash.Refused, match=r"in use: /dev/sdz2 on /media/me/My Card"):
        flash.flash(str(target), image, sys_root=sys_root, proc_root=proc, ask=never_asked,
                    require_block_device=False)
    assert untouched(target)


def test_refuses_a_mounted_device_by_name_and_a_swap(tmp_path, image, target):
    sys_root, proc = fake_disk(tmp_path)
    # a mount whose device number we do not list (e.g. through a mapper) but named sdz1
    (proc / "self/mountinfo").write_text("40 22 0:99 / /mnt rw - ext4 /dev/sdz1 rw\n")
    with pytest.raises(flash.Refused, match="/dev/sdz1 on /mnt"):
        flash.check(str(target), image, sys_root, proc)
    (proc / "self/mountinfo").write_text("")
    (proc / "swaps").write_text("Filename Type Size Used Priority\n/dev/sdz2 partition 1024 0 -2\n")
    with pytest.raises(flash.Refused, match="/dev/sdz2 as swap"):
        flash.check(str(target), image, sys_root, proc)


def test_refuses_a_partition_a_held_disk_a_read_only_card_and_a_small_one(tmp_path, image):
    sys_root, proc = fake_disk(tmp_path / "a")
    with pytest.raises(flash.Refused, match=r"is a partition: give the whole disk \(/dev/sdz\)"):
        flash.inspect("/dev/sdz1", sys_root)
    with pytest.raises(flash.Refused, match="not a block device the kernel knows"):
        flash.inspect("/dev/sdq", sys_root)
    sys_root, proc = fake_disk(tmp_path / "b", holders=["dm-0"])
    with pytest.raises(flash.Refused, match="in use by dm-0"):
        flash.inspect("/dev/sdz", sys_root)
    sys_root, proc = fake_disk(tmp_path / "c", ro="1")
    with pytest.raises(flash.Refused, match="read-only"):
        flash.inspect("/dev/sdz", sys_root)
    sys_root, proc = fake_disk(tmp_path / "d", sectors=4096)   # 2 MiB < 3 MiB image
    with pytest.raises(flash.Refused, match="smaller than the image"):
        flash.check("/dev/sdz", image, sys_root, proc)
    sys_root, proc = fake_disk(tmp_path / "e", sectors=0)
    with pytest.raises(flash.Refused, match="no medium"):
        flash.inspect("/dev/sdz", sys_root)


def test_an_sd_card_in_a_built_in_reader_counts_as_removable_but_emmc_does_not(tmp_path):
    sys_root, _ = fake_disk(tmp_path / "a", "mmcblk0", removable="0", major=179, mmc_type="SD")
    disk = flash.inspect("/dev/mmcblk0", sys_root)
    assert disk.partitions == ["mmcblk0p1", "mmcblk0p2"]
    assert disk.devnums == {"179:0": "mmcblk0", "179:1": "mmcblk0p1", "179:2": "mmcblk0p2"}
    sys_root, _ = fake_disk(tmp_path / "b", "mmcblk0", removable="0", major=179, mmc_type="MMC")
    with pytest.raises(flash.Refused, match="not a removable disk"):
        flash.inspect("/dev/mmcblk0", sys_root)


def test_nothing_is_written_unless_the_device_name_is_typed(tmp_path, image, target, capsys):
    sys_root, proc = fake_disk(tmp_path)
    prompts = []
    with pytest.raises(flash.Refused, match="not confirmed"):
        flash.flash(str(target), image, sys_root=sys_root, proc_root=proc,
                    ask=lambda p: prompts.append(p) or "y", require_block_device=False)
    assert untouched(target)
    shown = capsys.readouterr().err
    assert "Generic SD Reader" in shown and "134.2 MB" in shown and "sdz1, sdz2" in shown
    assert "(sdz)" in prompts[0]


def test_writes_syncs_and_verifies(tmp_path, image, target):
    sys_root, proc = fake_disk(tmp_path)
    digest = flash.flash(str(target), image, sys_root=sys_root, proc_root=proc,
                         ask=lambda p: "sdz", require_block_device=False)
    data = image.read_bytes()
    assert digest == hashlib.sha256(data).hexdigest()
    assert target.read_bytes() == data  # the old, shorter content is fully overwritten


def test_the_command_line_refuses_a_regular_file(tmp_path, image, target, capsys):
    """Against the real /sys: a file is not a disk the kernel knows."""
    assert flash.main(["--device", str(target), str(image)]) == 1
    assert "refused" in capsys.readouterr().err
    assert untouched(target)
    assert flash.main(["--device", "/dev/sdz", str(tmp_path / "missing.img")]) == 1
    assert "no such image" in capsys.readouterr().err


def test_verification_catches_a_device_that_loses_writes(image):
    """/dev/null accepts every write and reads back nothing: the check must notice."""
    with pytest.raises(OSError, match="short read"):
        flash.write_and_verify(image, "/dev/null", block=False, progress=lambda m: None)


def test_verification_catches_corrupted_read_back(tmp_path, image, monkeypatch):
    """A card that returns other bytes than it was given fails the hash comparison."""
    target = tmp_path / "card"
    target.write_bytes(b"")
    real_read = os.read

    def flaky_read(fd, n):
        buf = real_read(fd, n)
        return bytes([buf[0] ^ 1]) + buf[1:] if buf else buf

    monkeypatch.setattr(flash.os, "read", flaky_read)
    with pytest.raises(OSError, match="verification FAILED"):
        flash.write_and_verify(image, str(target), block=False, progress=lambda m: None)


def test_make_flash_writes_the_two_slot_card(tmp_path):
    """The built card (images/rpi4/sdcard.img) through flash.flash onto a card-sized fake
    disk: the card then has the two-slot table and autoboot.txt the firmware reads."""
    import json
    import subprocess

    from llmos_init.update import autoboot
    from mkimage import sdcard
    card = flash.DEFAULT_IMAGE
    if not card.exists():
        if os.environ.get("LLMOS_TARGET") == "rpi4":
            pytest.fail("images/rpi4/sdcard.img not built: run `make rpi4`")
        pytest.skip("images/rpi4/sdcard.img not built (make rpi4)")
    sys_root, proc = fake_disk(tmp_path, sectors=2 * card.stat().st_size // 512, partitions=9)
    dev = tmp_path / "dev" / "sdz"
    dev.parent.mkdir()
    dev.write_bytes(b"old card")
    flash.flash(str(dev), card, sys_root=sys_root, proc_root=proc, ask=lambda p: "sdz",
                require_block_device=False)
    t = json.loads(subprocess.run(["sfdisk", "-J", str(dev)], capture_output=True, text=True,
                                  check=True).stdout)["partitiontable"]
    manifest = json.loads((card.parent / "manifest.json").read_text())
    assert [(p["start"], p["size"], p["type"]) for p in t["partitions"]] == \
        [(p["start"], p["sectors"], p["type_id"]) for p in manifest["partitions"]]
    p1 = tmp_path / "p1"
    with open(dev, "rb") as f:
        f.seek(manifest["partitions"][0]["start"] * 512)
        p1.write_bytes(f.read(sdcard.card()["autoboot_mb"] << 20))
    assert autoboot.read(str(p1)) == (2, 3)
