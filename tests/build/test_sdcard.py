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

ROLES = ["autoboot", "boot_a", "boot_b", "extended", "bootstate", "root_a", "root_b", "model", "data"]


def sources(tmp_path, data_mb=8, model_mb=9):
    return {"autoboot": blob(tmp_path / "ab", 3 * MiB, 7), "boot": blob(tmp_path / "b", 5 * MiB, 1),
            "bootstate": blob(tmp_path / "s", 4096, 5), "root": blob(tmp_path / "r", 3 * MiB + 1, 2),
            "model": blob(tmp_path / "m", model_mb * MiB, 3), "data": blob(tmp_path / "d", data_mb * MiB, 4)}


def test_layout_numbers_types_alignment_and_data_last(tmp_path):
    parts = sdcard.layout(sources(tmp_path))
    assert [(p.number, p.role, p.type_id) for p in parts] == [
        (1, "autoboot", "e"), (2, "boot_a", "c"), (3, "boot_b", "c"), (4, "extended", "f"),
        (5, "bootstate", "da"), (6, "root_a", "83"), (7, "root_b", "83"), (8, "model", "83"),
        (9, "data", "83")]
    ext = parts[3]
    logical = parts[4:]
    by_start = sorted((p for p in parts if p.role != "extended"), key=lambda p: p.start)
    assert [p.role for p in by_start] == [r for r in ROLES if r != "extended"]   # data grows last
    for a, b in zip(by_start, by_start[1:]):
        assert a.offset + a.size <= b.offset
    for p in logical:                       # inside the extended partition, an EBR before each
        assert ext.start < p.start and p.start + p.sectors <= ext.start + ext.sectors
    assert ext.start == logical[0].start - 1  # starts at the first EBR, as genimage's does
    assert ext.start + ext.sectors == logical[-1].start + logical[-1].sectors
    for p in parts:
        if p.role != "extended":            # the container: only what it holds is aligned
            assert p.offset % sdcard.ALIGN == 0 and p.size % sdcard.ALIGN == 0
        if p.source:
            assert p.size >= Path(p.source).stat().st_size
    assert by_start[0].offset == sdcard.ALIGN
    assert not any(p.source for p in parts if p.role in ("boot_b", "root_b", "extended"))
    # the two slots are the same size, the root slot the system disk's
    assert parts[1].size == parts[2].size and parts[5].size == parts[6].size
    assert parts[5].size == sdcard.card()["root_mb"] * MiB
    with pytest.raises(ValueError, match="layout needs"):
        sdcard.layout({"boot": tmp_path / "b"})


def test_the_card_and_llmos_agree_on_the_slots():
    """What the card names is what llmos_init/update/slots.py reads from the command line."""
    from llmos_init.update import slots
    sdcard._check_scheme()
    for slot in ("a", "b"):
        args = dict(a.split("=", 1) if "=" in a else (a, "") for a in sdcard.cmdline_txt(RPI4, slot).split())
        lay = slots.from_cmdline(args)
        assert (lay.booted, lay.target, lay.scheme.name) == (slot, "rpi4", "tryboot")
        assert args["root"] == lay.part(slot, "root") == f"/dev/mmcblk0p{sdcard.number(f'root_{slot}')}"
        assert lay.part(slot, "boot") == f"/dev/mmcblk0p{sdcard.number(f'boot_{slot}')}"
        assert lay.config == "/dev/mmcblk0p1" and lay.state == "/dev/mmcblk0p5"


def test_command_lines_match_the_qemu_ones_and_name_the_cards_partitions():
    a, b = (sdcard.cmdline_txt(RPI4, s) for s in ("a", "b"))
    for line in (a, b):
        assert line.endswith("\n") and line.count("\n") == 1   # the firmware reads one line
    args = dict(x.split("=", 1) if "=" in x else (x, "") for x in a.split())
    assert args["console"] == "ttyS1,115200"
    assert args["root"] == "/dev/mmcblk0p6" and args["rootfstype"] == "squashfs"
    assert args["llmos.data"] == "/dev/mmcblk0p9" and args["llmos.model"] == "/dev/mmcblk0p8"
    assert args["llmos.slot"] == "a" and args["llmos.bootstate"] == "/dev/mmcblk0p5"
    assert "rootwait" in args and "ro" in args
    # slot B's differs in its root and its slot only (and is as long: nothing else moves)
    assert b == a.replace("root=/dev/mmcblk0p6", "root=/dev/mmcblk0p7").replace("llmos.slot=a", "llmos.slot=b")
    # the parameters of U-Boot's command line under QEMU (boot.cmd), with the board's two
    from mkimage import sysdisk, uboot
    qemu = uboot.boot_script_text(sysdisk.script_values(targets.get("x86_64")))
    qemu_line = re.search(r'setenv bootargs "([^"]*)"', qemu).group(1).replace("${append}", "")
    assert {x.split("=")[0] for x in qemu_line.split()} | {"llmos.slots", "llmos.target"} == set(args)


def test_config_txt_boots_the_64_bit_kernel_with_the_uart_and_each_slots_command_line():
    text = sdcard.config_txt(RPI4)
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert "arm_64bit=1" in lines and "enable_uart=1" in lines
    assert f"kernel={RPI4.kernel_image}" in lines
    assert text.endswith("[boot_partition=2]\ncmdline=cmdline_a.txt\n"
                         "[boot_partition=3]\ncmdline=cmdline_b.txt\n[all]\n")
    assert "cmdline.txt" not in lines     # no default: a slot without its own line boots no root


def test_autoboot_txt_is_the_firmwares_a_b_file():
    assert sdcard.autoboot_txt() == ("[all]\ntryboot_a_b=1\nboot_partition=2\n"
                                     "[tryboot]\nboot_partition=3\n")


def test_boot_fs_is_fat32_with_the_files(tmp_path):
    fw = blob(tmp_path / "start4.elf", 300_000, 5)
    img = tmp_path / "boot.vfat"
    sdcard.make_fat(img, {"start4.elf": fw, "config.txt": "arm_64bit=1\n",
                          "bcm2711-rpi-4-b.dtb": fw}, 64, "1234abcd")
    assert img.stat().st_size == 64 * MiB
    assert fat_ls(img) == {"start4.elf", "config.txt", "bcm2711-rpi-4-b.dtb"}
    assert fat_read(img, "start4.elf") == fw.read_bytes()
    assert fat_read(img, "config.txt") == b"arm_64bit=1\n"
    info = subprocess.run(["file", "-b", str(img)], capture_output=True, text=True).stdout
    assert "FAT (32 bit)" in info and "1234abcd" in info.lower()
    with pytest.raises(SystemExit, match="do not fit"):
        sdcard.make_fat(tmp_path / "small.vfat", {"big": blob(tmp_path / "big", 40 * MiB, 6)},
                        40, "1")


def test_card_table_and_partition_contents(tmp_path):
    parts = sdcard.layout(sources(tmp_path))
    card = tmp_path / "card.img"
    sdcard.write_card(card, parts, "0badcafe")
    t = table(card)
    assert t["label"] == "dos" and t["id"] == "0x0badcafe"
    assert [(p["start"], p["size"], p["type"]) for p in t["partitions"]] == [
        (p.start, p.sectors, p.type_id) for p in parts]
    assert [p["node"][-1] for p in t["partitions"]] == [str(p.number) for p in parts]
    with open(card, "rb") as f:
        for p in parts:
            if p.role == "extended":
                continue
            f.seek(p.offset)
            want = Path(p.source).read_bytes() if p.source else b""
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
    got = [(int(p["node"].rsplit("img", 1)[1]), p["type"], p["start"], p["size"]) for p in t["partitions"]]
    assert got == [(p["number"], p["type_id"], p["start"], p["sectors"]) for p in manifest["partitions"]]
    assert [p["type"] for p in t["partitions"]] == ["e", "c", "c", "f", "da", "83", "83", "83", "83"]


def test_built_card_autoboot_txt_boots_slot_a_and_tries_slot_b(card, tmp_path):
    """p1 as the firmware and llmos read it: mtools, and llmos's own FAT reader."""
    from llmos_init.update import autoboot
    img, manifest = card
    p1 = _part(manifest, "autoboot")
    assert fat_ls(img, p1["start"] * 512) == {"autoboot.txt"}
    text = fat_read(img, "autoboot.txt", p1["start"] * 512).decode()
    assert text == manifest["autoboot"]
    assert re.fullmatch(r"\[all\]\ntryboot_a_b=1\nboot_partition=2\n\[tryboot\]\nboot_partition=3\n", text)
    one = tmp_path / "p1"
    with open(img, "rb") as f:
        f.seek(p1["start"] * 512)
        one.write_bytes(f.read(p1["sectors"] * 512))
    assert autoboot.read(str(one)) == (2, 3)
    info = subprocess.run(["file", "-b", str(one)], capture_output=True, text=True).stdout
    assert "FAT (16 bit)" in info


def test_built_card_boot_partition_of_slot_a(card):
    img, manifest = card
    off = _part(manifest, "boot_a")["start"] * 512
    names = fat_ls(img, off)
    assert {"start4.elf", "fixup4.dat", "bootcode.bin", "bcm2711-rpi-4-b.dtb",
            "config.txt", "cmdline_a.txt", "cmdline_b.txt", RPI4.kernel_image} <= names
    base = REPO / "images" / RPI4.base
    assert fat_read(img, RPI4.kernel_image, off) == (base / RPI4.kernel_image).read_bytes()
    assert fat_read(img, "bcm2711-rpi-4-b.dtb", off)[:4] == b"\xd0\x0d\xfe\xed"   # FDT magic
    elf = fat_read(img, "start4.elf", off)
    fw = sdcard.firmware_dir() / "usr/lib/raspi-firmware/start4.elf"
    assert elf == fw.read_bytes()
    config = fat_read(img, "config.txt", off).decode()
    assert re.search(r"^arm_64bit=1$", config, re.M) and re.search(r"^enable_uart=1$", config, re.M)
    assert "[boot_partition=2]\ncmdline=cmdline_a.txt\n" in config
    for slot, root in (("a", 6), ("b", 7)):
        cmdline = fat_read(img, f"cmdline_{slot}.txt", off).decode()
        assert cmdline == manifest["cmdlines"][slot] + "\n"
        assert f"root=/dev/mmcblk0p{root} " in cmdline and f"llmos.slot={slot} " in cmdline


def test_built_card_boot_state_and_empty_slot_b(card):
    from llmos_init.update import bootstate
    img, manifest = card
    with open(img, "rb") as f:
        f.seek(_part(manifest, "bootstate")["start"] * 512)
        assert bootstate.parse(f.read(bootstate.STATE_BYTES)) == {"slot": "a", "version_a": manifest["version"]}
        for role in ("boot_b", "root_b"):
            p = _part(manifest, role)
            f.seek(p["start"] * 512)
            assert f.read(1 << 20) == bytes(1 << 20), role     # nothing there until an update


def test_built_card_root_model_and_data_are_the_images_byte_for_byte(card):
    img, manifest = card
    base = REPO / "images" / RPI4.base
    with open(img, "rb") as f:
        for role, src in (("root_a", base / "rootfs.squashfs"), ("model", base / "model.squashfs"),
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


def test_an_rpi4_bundle_installs_into_slot_b_of_the_card_and_commits_by_tryboot(card, tmp_path):
    """The Pi's whole update path on the built card, without a Pi: the card's partitions as
    files, an rpi4 bundle (the slot's FAT boot image + root) installed into slot B, the
    firmware's tryboot played by hand (the boot that follows runs slot B), the commit."""
    from nacl.signing import SigningKey

    from llmos_init.update import autoboot, bootstate, commit, install, slots, tryboot
    from llmos_init.update.bundle import open_bundle, verify
    from mkimage import bundle as mkbundle
    img, manifest = card
    base = REPO / "images" / RPI4.base
    key = SigningKey.generate()
    b = mkbundle.make("rpi4", "9.9-pi", out=tmp_path / "pi.bundle", kernel=base / RPI4.kernel_image,
                      rootfs=base / "rootfs.squashfs", key=key)
    d, sysfs = tmp_path / "card", tmp_path / "sys"
    d.mkdir()
    with open(img, "rb") as f:                       # mmcblk0p<N> -> <dir>/<N>
        for p in manifest["partitions"]:
            if p["role"] == "extended":
                continue
            f.seek(p["start"] * 512)
            (d / str(p["number"])).write_bytes(f.read(p["sectors"] * 512))
            (sysfs / str(p["number"])).mkdir(parents=True)
            (sysfs / str(p["number"]) / "size").write_text(str(p["sectors"]))
    args = dict(x.split("=", 1) for x in manifest["cmdlines"]["a"].split() if x.startswith("llmos."))
    lay = slots.from_cmdline(args).with_prefix(f"{d}/")
    bundle = open_bundle(str(b), lay.target, bytes(key.verify_key), lay.scheme.what)
    assert [e["part"] for e, _ in bundle.files] == ["boot", "root"]
    verify(bundle)
    install.check_fits(bundle, lay, "b", str(sysfs))
    assert install.install(bundle, lay) == "b"
    assert tryboot.start_try(lay) == "0 tryboot"          # the reboot that follows
    boot_b = d / "3"
    assert fat_read(boot_b, "cmdline_b.txt").decode().split() == manifest["cmdlines"]["b"].split()
    assert fat_read(boot_b, "Image") == (base / RPI4.kernel_image).read_bytes()
    assert (d / "7").read_bytes()[:(base / "rootfs.squashfs").stat().st_size] == \
        (base / "rootfs.squashfs").read_bytes()
    assert autoboot.read(lay.config) == (2, 3)       # nothing committed yet
    # the tryboot: the firmware starts partition 3, whose config.txt picks cmdline_b.txt
    root = tmp_path / "root"
    root.mkdir()
    tried = slots.from_cmdline(dict(x.split("=", 1) for x in manifest["cmdlines"]["b"].split()
                                    if x.startswith("llmos."))).with_prefix(f"{d}/")
    line, trying = commit.at_boot(tried, str(root))
    assert trying and tryboot.start_try(tried) is None
    t = [0.0]
    c = commit.Committer(tried, watchdog_ok=lambda: True, console_pid=lambda: 9, reboot=lambda: None,
                         log=lambda m: None, clock=lambda: t[0], root=str(root))
    c.check()
    t[0] = commit.HEALTHY_S + 1
    assert c.check()
    assert fat_read(d / "1", "autoboot.txt").decode() == autoboot.text(3, 2)
    assert bootstate.read(tried.state) == {"slot": "b", "version_a": manifest["version"], "version_b": "9.9-pi"}
