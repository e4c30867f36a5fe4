"""The Raspberry Pi 4 SD card: layout rules on small inputs, then the built sdcard.img.

The second half checks images/rpi4/sdcard.img when it exists; with LLMOS_TARGET=rpi4 a
missing card image is a failure, otherwise those tests are skipped (building the card
needs the aarch64 cross build).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from mkimage import cache, image, sdcard, targets
from mkimage.targets import REPO

MiB = 1 << 20
RPI4 = targets.get("rpi4")
MTOOLS = dict(os.environ, MTOOLS_SKIP_CHECK="1")


def table(img: Path) -> dict:
    r = subprocess.run(["sfdisk", "-J", str(img)], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["partitiontable"]


def fat_ls(img: Path, offset: int = 0) -> set[str]:
    r = subprocess.run(["mdir", "-b", "-i", f"{img}@@{offset}", "::"], capture_output=True,
                       text=True, check=True, env=MTOOLS)
    return {line.removeprefix("::/") for line in r.stdout.split()}


def fat_read(img: Path, name: str, offset: int = 0) -> bytes:
    return subprocess.run(["mtype", "-i", f"{img}@@{offset}", f"::{name}"], capture_output=True,
                          check=True, env=MTOOLS).stdout


def blob(path: Path, size: int, seed: int) -> Path:
    """A file of `size` bytes with non-zero content and a zero hole (exercises sparse copy)."""
    period = bytes((i * 7 + seed) % 251 + 1 for i in range(251))
    data = bytearray((period * (size // 251 + 1))[:size])
    data[size // 3: size // 3 + 2 * MiB] = bytes(len(data[size // 3: size // 3 + 2 * MiB]))
    path.write_bytes(bytes(data))
    return path


# ---------------------------------------------------------------- rules, small inputs

def test_layout_numbers_types_alignment_and_data_last(tmp_path):
    src = {"boot": blob(tmp_path / "b", 5 * MiB, 1), "root": blob(tmp_path / "r", 3 * MiB + 1, 2),
           "model": blob(tmp_path / "m", 9 * MiB, 3), "data": blob(tmp_path / "d", 8 * MiB, 4)}
    parts = sdcard.layout(src)
    assert [(p.number, p.role, p.type_id) for p in parts] == [
        (1, "boot", "c"), (2, "root", "83"), (3, "data", "83"), (4, "model", "83")]
    by_start = sorted(parts, key=lambda p: p.start)
    assert [p.role for p in by_start] == ["boot", "root", "model", "data"]   # data grows last
    for a, b in zip(by_start, by_start[1:]):
        assert a.offset + a.size <= b.offset
    for p in parts:
        assert p.offset % sdcard.ALIGN == 0 and p.size % sdcard.ALIGN == 0
        assert p.size >= Path(p.source).stat().st_size
    assert by_start[0].offset == sdcard.ALIGN
    with pytest.raises(ValueError, match="layout needs"):
        sdcard.layout({"boot": src["boot"]})


def test_command_line_matches_run_qemu_and_names_the_cards_partitions(tmp_path):
    src = {r: blob(tmp_path / r, MiB, i) for i, r in enumerate(("boot", "root", "model", "data"))}
    line = sdcard.cmdline_txt(RPI4, sdcard.layout(src))
    assert line.endswith("\n") and line.count("\n") == 1   # the firmware reads one line
    args = dict(a.split("=", 1) if "=" in a else (a, "") for a in line.split())
    assert args["console"] == "ttyS1,115200"
    assert args["root"] == "/dev/mmcblk0p2" and args["rootfstype"] == "squashfs"
    assert args["llmos.data"] == "/dev/mmcblk0p3" and args["llmos.model"] == "/dev/mmcblk0p4"
    assert "rootwait" in args and "ro" in args
    # the same parameters as the QEMU command line, only the devices and console differ
    tpl = (REPO / "mkimage/templates/run-qemu.sh").read_text()
    qemu_line = re.search(r'-append "([^"]*)"', tpl).group(1).replace("${APPEND:-}", "")
    assert {a.split("=")[0] for a in qemu_line.split()} == set(args)


def test_config_txt_boots_the_64_bit_kernel_with_the_uart():
    lines = [ln for ln in sdcard.config_txt(RPI4).splitlines() if ln and not ln.startswith("#")]
    assert "arm_64bit=1" in lines and "enable_uart=1" in lines
    assert f"kernel={RPI4.kernel_image}" in lines


def test_boot_fs_is_fat32_with_the_files(tmp_path):
    fw = blob(tmp_path / "start4.elf", 300_000, 5)
    img = tmp_path / "boot.vfat"
    sdcard.make_boot_fs(img, {"start4.elf": fw, "config.txt": "arm_64bit=1\n",
                              "bcm2711-rpi-4-b.dtb": fw}, 128, "1234abcd")
    assert img.stat().st_size == 128 * MiB
    assert fat_ls(img) == {"start4.elf", "config.txt", "bcm2711-rpi-4-b.dtb"}
    assert fat_read(img, "start4.elf") == fw.read_bytes()
    assert fat_read(img, "config.txt") == b"arm_64bit=1\n"
    info = subprocess.run(["file", "-b", str(img)], capture_output=True, text=True).stdout
    assert "FAT (32 bit)" in info and "1234abcd" in info.lower()
    with pytest.raises(SystemExit, match="do not fit"):
        sdcard.make_boot_fs(tmp_path / "small.vfat", {"big": blob(tmp_path / "big", 40 * MiB, 6)},
                            40, "1")


def test_card_table_and_partition_contents(tmp_path):
    src = {"boot": blob(tmp_path / "b", 4 * MiB, 1), "root": blob(tmp_path / "r", 5 * MiB + 7, 2),
           "model": blob(tmp_path / "m", 4 * MiB, 3), "data": blob(tmp_path / "d", 8 * MiB, 4)}
    parts = sdcard.layout(src)
    card = tmp_path / "card.img"
    sdcard.write_card(card, parts, "0badcafe")
    t = table(card)
    assert t["label"] == "dos" and t["id"] == "0x0badcafe"
    assert [(p["start"], p["size"], p["type"]) for p in t["partitions"]] == [
        (p.start, p.sectors, p.type_id) for p in parts]
    assert t["partitions"][0].get("bootable") and not t["partitions"][1].get("bootable")
    with open(card, "rb") as f:
        for p in parts:
            f.seek(p.offset)
            want = Path(p.source).read_bytes()
            assert f.read(len(want)) == want, p.role
            assert f.read(p.size - len(want)) == bytes(p.size - len(want))   # zero padding
    assert card.stat().st_size == max(p.offset + p.size for p in parts)
    assert card.stat().st_blocks * 512 < card.stat().st_size   # written sparsely


# ---------------------------------------------------------------- the built card

CARD_DIR = REPO / "images" / "rpi4"


@pytest.fixture(scope="module")
def card() -> tuple[Path, dict]:
    img = CARD_DIR / "sdcard.img"
    if not img.exists():
        if os.environ.get("LLMOS_TARGET") == "rpi4":
            pytest.fail("images/rpi4/sdcard.img not built: run `make rpi4`")
        pytest.skip("images/rpi4/sdcard.img not built (make rpi4; LLMOS_TARGET=rpi4 requires it)")
    return img, json.loads((CARD_DIR / "manifest.json").read_text())


def _part(manifest: dict, role: str) -> dict:
    return next(p for p in manifest["partitions"] if p["role"] == role)


def test_built_card_partition_table(card):
    img, manifest = card
    t = table(img)
    assert t["label"] == "dos" and t["id"] == manifest["disk_id"]
    got = [(i + 1, p["type"], p["start"], p["size"]) for i, p in enumerate(t["partitions"])]
    assert got == [(p["number"], p["type_id"], p["start"], p["sectors"]) for p in manifest["partitions"]]
    assert [p["type"] for p in t["partitions"]] == ["c", "83", "83", "83"]


def test_built_card_boot_partition(card):
    img, manifest = card
    off = _part(manifest, "boot")["start"] * 512
    names = fat_ls(img, off)
    assert {"start4.elf", "fixup4.dat", "bootcode.bin", "bcm2711-rpi-4-b.dtb",
            "config.txt", "cmdline.txt", RPI4.kernel_image} <= names
    base = REPO / "images" / RPI4.base
    assert fat_read(img, RPI4.kernel_image, off) == (base / RPI4.kernel_image).read_bytes()
    assert fat_read(img, "bcm2711-rpi-4-b.dtb", off)[:4] == b"\xd0\x0d\xfe\xed"   # FDT magic
    elf = fat_read(img, "start4.elf", off)
    fw = sdcard.firmware_dir() / "usr/lib/raspi-firmware/start4.elf"
    assert elf == fw.read_bytes()
    config = fat_read(img, "config.txt", off).decode()
    assert re.search(r"^arm_64bit=1$", config, re.M) and re.search(r"^enable_uart=1$", config, re.M)
    cmdline = fat_read(img, "cmdline.txt", off).decode()
    assert cmdline == manifest["cmdline"] + "\n"
    assert "root=/dev/mmcblk0p2" in cmdline and "rootwait" in cmdline


def test_built_card_root_model_and_data_are_the_images_byte_for_byte(card):
    img, manifest = card
    base = REPO / "images" / RPI4.base
    with open(img, "rb") as f:
        for role, src in (("root", base / "rootfs.squashfs"), ("model", base / "model.squashfs"),
                          ("data", CARD_DIR / "data.ext4")):
            p = _part(manifest, role)
            f.seek(p["start"] * 512)
            size = src.stat().st_size
            assert cache.file_digest(src) == p["sha256"], f"{src} changed since the card was built"
            want = src.read_bytes()
            assert f.read(size) == want, role


def test_built_card_data_partition_is_the_standard_data_image(card, tmp_path):
    """images/rpi4/data.ext4 is made exactly like the QEMU targets' data image."""
    ref = tmp_path / "data.ext4"
    image.make_data_image(ref)

    def summary(p: Path) -> dict:
        out = subprocess.run(["dumpe2fs", "-h", str(p)], capture_output=True, text=True,
                             check=True).stdout
        fields = dict(re.findall(r"^([^:\n]+):\s+(.*)$", out, re.M))
        return {k: fields[k] for k in ("Filesystem volume name", "Block count", "Block size",
                                       "Inode count", "Filesystem features")}
    assert summary(CARD_DIR / "data.ext4") == summary(ref)
