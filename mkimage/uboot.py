"""U-Boot for the QEMU images: the boot loader that picks the root slot in the guest.

From Debian bookworm's packages (debian.py, cached under <cache>/debs like every other):
  u-boot-qemu   QEMU's -bios, one build per architecture (FIRMWARE below):
                x86_64: /usr/lib/u-boot/qemu-x86/u-boot.rom. The 32-bit build: the
                  qemu-x86_64 one (64-bit U-Boot, "many features are missing") resets the
                  machine at `zboot` instead of starting the kernel (tried: 2023.01).
                aarch64: /usr/lib/u-boot/qemu_arm64/u-boot.bin (-M virt; the kernel's
                  device tree is the one QEMU gives U-Boot, ${fdtcontroladdr}).
  u-boot-tools  mkimage, which wraps the boot script (templates/boot.cmd) as boot.scr.

Whatever its architecture, the firmware file is written as images/<target>/u-boot.rom,
the name run-qemu.sh and the Buildroot tree use.

The firmware's compiled-in environment (Debian builds it with CONFIG_ENV_IS_NOWHERE:
there is no environment storage to change it in) is patched in two places, each a
same-length string, checked to occur exactly once: `bootdelay=2` -> `bootdelay=0` (the
2 s autoboot countdown, 2 s of every boot) and `boot_targets` with virtio0 first (USB
and SCSI, on arm64 QEMU's fw_cfg too, were tried before the disk). Everything else, the
A/B choice included, is the boot script's: one template for both architectures, their
differences (where the kernel is loaded, how it is started) filled in from FIRMWARE.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from . import cache, debian



class Firmware:
    """One architecture's U-Boot: the file in u-boot-qemu, its patches, mkimage's -A,
    and the boot script's arch-specific values (LOAD_ADDR, STATE_ADDR, BOOT_KERNEL)."""

    def __init__(self, path: str, patches: tuple[tuple[bytes, bytes], ...], mkimage_arch: str,
                 script: dict[str, str]):
        self.path, self.patches, self.mkimage_arch, self.script = path, patches, mkimage_arch, script


BOOTDELAY = (b"bootdelay=2\0", b"bootdelay=0\0")
FIRMWARE = {
    "x86_64": Firmware(
        "usr/lib/u-boot/qemu-x86/u-boot.rom",
        (BOOTDELAY, (b"boot_targets=usb0 scsi0 virtio0 ide0 dhcp \0",
                     b"boot_targets=virtio0 usb0 scsi0 ide0 dhcp \0")),
        "x86",
        # RAM from 0; zboot takes the bzImage where it was read
        {"LOAD_ADDR": "${loadaddr}", "STATE_ADDR": "0x06000000", "BOOT_KERNEL": "zboot ${loadaddr}"}),
    "aarch64": Firmware(
        "usr/lib/u-boot/qemu_arm64/u-boot.bin",
        (BOOTDELAY, (b"boot_targets=qfw usb0 scsi0 virtio0 nvme0 dhcp \0",
                     b"boot_targets=virtio0 qfw usb0 scsi0 nvme0 dhcp \0")),
        "arm64",
        # RAM from 0x40000000 (-M virt); booti: the uncompressed Image, no initrd, and the
        # device tree QEMU made (U-Boot's own copy)
        {"LOAD_ADDR": "${kernel_addr_r}", "STATE_ADDR": "0x48000000",
         "BOOT_KERNEL": "booti ${kernel_addr_r} - ${fdtcontroladdr}"}),
}


def firmware(arch: str) -> Firmware:
    try:
        return FIRMWARE[arch]
    except KeyError:
        raise SystemExit(f"mkimage: no U-Boot for {arch} (known: {', '.join(FIRMWARE)})") from None

BOOT_CMD = Path(__file__).with_name("templates") / "boot.cmd"


def _unpacked(package: str, arch: str) -> Path:
    deb = debian.download([package], arch)[package]
    out = cache.entry("uboot", deb.stem)
    if not cache.is_done(out):
        with cache.building("uboot", deb.stem) as tmp:
            debian.unpack([deb], tmp)
    return out


def patch_rom(data: bytes, arch: str) -> bytes:
    for old, new in firmware(arch).patches:
        assert len(old) == len(new)
        if data.count(old) != 1:
            raise SystemExit(f"mkimage: {firmware(arch).path}: {old!r} found {data.count(old)} times, not once "
                             "(another U-Boot version? see mkimage/uboot.py)")
        data = data.replace(old, new)
    return data


def rom(dest: Path, arch: str) -> Path:
    """The architecture's patched U-Boot firmware (QEMU's -bios), written to dest."""
    src = _unpacked("u-boot-qemu", "all") / firmware(arch).path
    data = patch_rom(src.read_bytes(), arch)
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


def boot_script(values: dict[str, str], dest: Path, arch: str) -> Path:
    """boot.scr: boot.cmd filled in and wrapped by u-boot-tools' mkimage."""
    mkimage = _unpacked("u-boot-tools", debian.host_arch()) / "usr/bin/mkimage"
    src = dest.with_suffix(".cmd")
    src.write_text(boot_script_text(values))
    subprocess.run([str(mkimage), "-q", "-A", firmware(arch).mkimage_arch, "-O", "linux", "-T", "script", "-C", "none",
                    "-n", "llmos A/B boot", "-d", str(src), str(dest)], check=True,
                   stdout=subprocess.DEVNULL)
    src.unlink()
    return dest
