"""system.img: the QEMU images' system disk (x86_64, aarch64-virt), two root slots and U-Boot's files.

GPT, partitions in shared.toml [system_disk] order (1 boot, 2 bootstate, 3 kernel_a,
4 root_a, 5 kernel_b, 6 root_b). A new disk has the build's kernel and root in slot A,
slot B empty and the boot state `slot=a`; llmos writes slot B when it installs an update
(llmos_init/update/). The disk is a sparse file: its empty slot costs nothing.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from llmos_init.update import bootstate, slots

from . import uboot
from .shared import shared

MIB = 1 << 20
SECTOR = 512
FIRST_LBA = 2048   # 1 MiB: GPT header and table before it


def layout() -> list[tuple[str, int, int]]:
    """(name, first sector, sectors) of each partition, in order."""
    d = shared()["system_disk"]
    sizes = {"boot": d["boot_mb"], "bootstate": d["state_mb"], "kernel_a": d["kernel_mb"],
             "root_a": d["root_mb"], "kernel_b": d["kernel_mb"], "root_b": d["root_mb"]}
    out, lba = [], FIRST_LBA
    for name in d["partitions"]:
        n = sizes[name] * MIB // SECTOR
        out.append((name, lba, n))
        lba += n
    return out


def disk_bytes() -> int:
    _, start, n = layout()[-1]
    return (start + n + 34) * SECTOR          # the backup GPT at the end


def partition_number(name: str) -> int:
    return [p[0] for p in layout()].index(name) + 1


def script_values(target) -> dict[str, str]:
    d = shared()["system_disk"]
    disk = target.disk_prefix
    return {**uboot.firmware(target.arch).script, "STATE_PART": str(partition_number("bootstate")),
            "STATE_BYTES": hex(d["state_bytes"]), "STATE_BLOCKS": hex(d["state_bytes"] // SECTOR),
            "KERNEL_A": str(partition_number("kernel_a")), "ROOT_A": str(partition_number("root_a")),
            "KERNEL_B": str(partition_number("kernel_b")), "ROOT_B": str(partition_number("root_b")),
            "DISK": disk,
            "BOOTARGS": (f"console={target.console},115200 rootfstype=squashfs ro rootwait panic=5 "
                         f"llmos.model={disk}b llmos.data={disk}c")}


def _write_at(f, lba: int, limit: int, src: Path) -> None:
    size = src.stat().st_size
    if size > limit * SECTOR:
        raise SystemExit(f"mkimage: {src.name} ({size} bytes) does not fit its partition "
                         f"({limit * SECTOR} bytes): raise shared.toml [system_disk]")
    f.seek(lba * SECTOR)
    with open(src, "rb") as s:
        while chunk := s.read(4 * MIB):
            f.write(chunk)


def build(target, kernel: Path, rootfs: Path, dest: Path, version: str) -> Path:
    """Write dest (atomically): the partition table, boot.scr, state slot=a, slot A."""
    scheme = slots.SCHEMES["uboot"]
    if shared()["system_disk"]["state_bytes"] != bootstate.STATE_BYTES or \
            partition_number("bootstate") != scheme.state or \
            any(partition_number(f"{what}_{slot}") != n for (slot, what), n in scheme.parts.items()):
        raise SystemExit("mkimage: shared.toml [system_disk] and llmos_init/update/slots.py disagree")
    parts = layout()
    tmp = dest.with_name(dest.name + ".tmp")
    with open(tmp, "wb") as f:
        f.truncate(disk_bytes())
    script = "label: gpt\nfirst-lba: %d\n" % FIRST_LBA + "".join(
        f"start={start}, size={n}, name={name}" + (", attrs=LegacyBIOSBootable" if name == "boot" else "")
        + "\n" for name, start, n in parts)
    subprocess.run(["sfdisk", "-q", "--no-reread", "--no-tell-kernel", str(tmp)], input=script,
                   text=True, check=True, stdout=subprocess.DEVNULL)
    by_name = {name: (start, n) for name, start, n in parts}
    with tempfile.TemporaryDirectory() as d:
        bootdir = Path(d) / "boot"
        bootdir.mkdir()
        uboot.boot_script(script_values(target), bootdir / "boot.scr", target.arch)
        bootfs = Path(d) / "boot.ext2"
        with open(bootfs, "wb") as b:
            b.truncate(by_name["boot"][1] * SECTOR)
        subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-L", "llmos-boot", "-E", "root_owner=0:0",
                        "-d", str(bootdir), str(bootfs)], check=True)
        with open(tmp, "r+b") as f:
            _write_at(f, *by_name["boot"], bootfs)
            f.seek(by_name["bootstate"][0] * SECTOR)
            f.write(bootstate.format_state({"slot": "a", "version_a": version}))
            _write_at(f, *by_name["kernel_a"], kernel)
            _write_at(f, *by_name["root_a"], rootfs)
            f.flush()
            os.fsync(f.fileno())
    tmp.replace(dest)
    return dest
