"""U-Boot for the x86_64 QEMU image: the boot loader that picks the root slot in the guest.

From Debian bookworm's packages (debian.py, cached under <cache>/debs like every other):
  u-boot-qemu   /usr/lib/u-boot/qemu-x86/u-boot.rom, QEMU's -bios. The 32-bit build:
                the qemu-x86_64 one (64-bit U-Boot, "many features are missing") resets
                the machine at `zboot` instead of starting the kernel (tried: 2023.01).
  u-boot-tools  mkimage, which wraps the boot script (templates/boot.cmd) as boot.scr.

The ROM's compiled-in environment (Debian builds it with CONFIG_ENV_IS_NOWHERE: there is
no environment storage to change it in) is patched in two places, each a same-length
string, checked to occur exactly once: `bootdelay=2` -> `bootdelay=0` (the 2 s autoboot
countdown, 2 s of every boot) and `boot_targets` with virtio0 first (USB and SCSI were
scanned before the disk). Everything else, the A/B choice included, is the boot script's.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from . import cache, debian

ROM = "usr/lib/u-boot/qemu-x86/u-boot.rom"
ROM_PATCHES = (
    (b"bootdelay=2\0", b"bootdelay=0\0"),
    (b"boot_targets=usb0 scsi0 virtio0 ide0 dhcp \0", b"boot_targets=virtio0 usb0 scsi0 ide0 dhcp \0"),
)
BOOT_CMD = Path(__file__).with_name("templates") / "boot.cmd"


def _unpacked(package: str, arch: str) -> Path:
    deb = debian.download([package], arch)[package]
    out = cache.entry("uboot", deb.stem)
    if not cache.is_done(out):
        with cache.building("uboot", deb.stem) as tmp:
            debian.unpack([deb], tmp)
    return out


def patch_rom(data: bytes) -> bytes:
    for old, new in ROM_PATCHES:
        assert len(old) == len(new)
        if data.count(old) != 1:
            raise SystemExit(f"mkimage: u-boot.rom: {old!r} found {data.count(old)} times, not once "
                             "(another U-Boot version? see mkimage/uboot.py)")
        data = data.replace(old, new)
    return data


def rom(dest: Path) -> Path:
    """The patched u-boot.rom, written to dest."""
    src = _unpacked("u-boot-qemu", "all") / ROM
    data = patch_rom(src.read_bytes())
    if not dest.exists() or dest.read_bytes() != data:
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(dest)
    return dest


def boot_script_text(values: dict[str, str]) -> str:
    text = BOOT_CMD.read_text()
    for k, v in values.items():
        text = text.replace(f"@{k}@", v)
    if "@" in text:
        raise ValueError(f"boot.cmd: unfilled placeholder in {text!r}")
    # comments are the template's, not the boot loader's (hush would parse them anyway)
    return "".join(line + "\n" for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def boot_script(values: dict[str, str], dest: Path) -> Path:
    """boot.scr: boot.cmd filled in and wrapped by u-boot-tools' mkimage."""
    mkimage = _unpacked("u-boot-tools", debian.host_arch()) / "usr/bin/mkimage"
    src = dest.with_suffix(".cmd")
    src.write_text(boot_script_text(values))
    subprocess.run([str(mkimage), "-q", "-A", "x86", "-O", "linux", "-T", "script", "-C", "none",
                    "-n", "llmos A/B boot", "-d", str(src), str(dest)], check=True,
                   stdout=subprocess.DEVNULL)
    src.unlink()
    return dest
