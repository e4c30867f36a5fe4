"""The boot baseline's run directory: the same machine as the image, only the root differs."""
from __future__ import annotations

import json
import subprocess

from bench import baseline
from mkimage import sysdisk


def image_dir(tmp_path, firmware: bool):
    d = tmp_path / "img"
    d.mkdir()
    (d / "bzImage").write_bytes(b"K" * 4096)
    (d / "model.squashfs").write_bytes(b"M" * 4096)
    (d / "run-qemu.sh").write_text("#!/bin/sh\n")
    (d / "manifest.json").write_text(json.dumps({"target": "x86_64"}))
    if firmware:
        (d / "u-boot.rom").write_bytes(b"U" * 512)
        (d / "system.img").write_bytes(b"")
    return d


def test_with_a_boot_loader_the_baseline_boots_through_it_from_its_own_system_disk(tmp_path):
    root = tmp_path / "root.squashfs"
    root.write_bytes(b"R" * 8192)
    script = baseline.run_dir(image_dir(tmp_path, True), tmp_path / "run", root=root)
    run = script.parent
    assert (run / "u-boot.rom").resolve() == (tmp_path / "img" / "u-boot.rom").resolve()
    disk = run / "system.img"
    table = json.loads(subprocess.run(["sfdisk", "--json", str(disk)], capture_output=True, text=True,
                                      check=True).stdout)["partitiontable"]
    parts = {p["name"]: p for p in table["partitions"]}
    with open(disk, "rb") as f:
        f.seek(parts["root_a"]["start"] * 512)
        assert f.read(8192) == root.read_bytes()          # the baseline root in slot A
        f.seek(parts["kernel_a"]["start"] * 512)
        assert f.read(4096) == b"K" * 4096                # the image's own kernel
    assert sysdisk.layout()[-1][0] in parts


def test_without_firmware_or_when_asked_the_baseline_boots_with_minus_kernel(tmp_path):
    root = tmp_path / "root.squashfs"
    root.write_bytes(b"R" * 8192)
    for firmware_in_image, firmware in ((False, True), (True, False)):
        run = tmp_path / f"run-{firmware_in_image}-{firmware}"
        img = tmp_path / "img"
        if img.exists():
            import shutil
            shutil.rmtree(img)
        baseline.run_dir(image_dir(tmp_path, firmware_in_image), run, root=root, firmware=firmware)
        assert not (run / "system.img").exists() and not (run / "u-boot.rom").exists()
        assert (run / "rootfs.squashfs").resolve() == root.resolve()
