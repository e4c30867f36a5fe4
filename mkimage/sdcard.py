"""The Raspberry Pi 4 SD card image (images/<board>/sdcard.img), built without root.

No loop devices and no mounts: mkfs.vfat makes the FAT32 file system inside an image
file and mtools' mcopy fills it, sfdisk writes the partition table into the card image,
and every partition's image is copied in at its offset (sparsely: zero blocks are
skipped, so the file stays small on disk).

The card is assembled from the images of the board's QEMU target (Target.base,
aarch64-virt): its kernel Image, rootfs.squashfs and model.squashfs go onto the card
byte for byte, so what the QEMU tests boot is exactly what the Pi boots.

Partition table (MBR; partitions aligned to 4 MiB, a common SD erase-block size):

  entry  type   contents                                     kernel sees
  p1     0x0c   FAT32 boot: Pi firmware (start4.elf, fixup4.dat, bootcode.bin),
                bcm2711 device trees, config.txt, cmdline.txt, Image
  p2     0x83   root: rootfs.squashfs                        /dev/mmcblk0p2
  p3     0x83   data: data.ext4 (writable, the user's files)  /dev/mmcblk0p3
  p4     0x83   model: model.squashfs (uncompressed)         /dev/mmcblk0p4

The entries keep the numbering the issue asks for (p3 = data) while the data partition
lies physically LAST, after the model: the one partition that grows with use can then
be grown into the rest of the card without moving anything.  The model gets its own
partition, as on QEMU, so MODEL= swaps it without touching the root.

images/<board>/data.ext4 is made once, like the QEMU targets' data image (same size,
label and layout), and never overwritten; the card's p3 is a byte-for-byte copy of it.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import cache, debian, targets
from .targets import REPO, Target

SECTOR = 512
ALIGN = 4 << 20             # partition alignment (bytes)
BOOT_MB = 128               # FAT32 needs >= 65525 clusters: 128 MiB with 512-byte clusters
FIRMWARE_PKG = "raspi-firmware"
FIRMWARE_COMPONENT = "non-free-firmware"
FIRMWARE_FILES = ("start4.elf", "fixup4.dat", "bootcode.bin")
BOOT_LABEL = "LLMOS-BOOT"
MTOOLS_ENV = {"MTOOLS_SKIP_CHECK": "1"}


@dataclass(frozen=True)
class Partition:
    number: int          # MBR entry, the N of mmcblk0pN
    role: str            # boot | root | data | model
    type_id: str         # MBR type: c = FAT32 (LBA), 83 = Linux
    start: int           # first sector
    sectors: int
    source: str          # the image file copied into it

    @property
    def offset(self) -> int:
        return self.start * SECTOR

    @property
    def size(self) -> int:
        return self.sectors * SECTOR


# (role, MBR entry number, type) in physical order on the card
PHYSICAL_ORDER = (("boot", 1, "c"), ("root", 2, "83"), ("model", 4, "83"), ("data", 3, "83"))


def _align_up(n: int, to: int = ALIGN) -> int:
    return -(-n // to) * to


def layout(sources: dict[str, Path]) -> list[Partition]:
    """Partitions for the given image files (role -> file), sorted by entry number."""
    if set(sources) != {r for r, _, _ in PHYSICAL_ORDER}:
        raise ValueError(f"layout needs exactly {[r for r, _, _ in PHYSICAL_ORDER]}, got {sorted(sources)}")
    parts = []
    pos = ALIGN
    for role, number, type_id in PHYSICAL_ORDER:
        size = _align_up(Path(sources[role]).stat().st_size)
        parts.append(Partition(number, role, type_id, pos // SECTOR, size // SECTOR, str(sources[role])))
        pos += size
    return sorted(parts, key=lambda p: p.number)


def device(target: Target, role: str, parts: list[Partition]) -> str:
    return f"{target.disk_prefix}{next(p.number for p in parts if p.role == role)}"


def cmdline_txt(target: Target, parts: list[Partition]) -> str:
    """The kernel command line: the same parameters as run-qemu.sh, with the card's devices."""
    return (f"console={target.console},115200 root={device(target, 'root', parts)} "
            f"rootfstype=squashfs ro rootwait panic=5 "
            f"llmos.model={device(target, 'model', parts)} llmos.data={device(target, 'data', parts)}\n")


def config_txt(target: Target) -> str:
    return "\n".join([
        f"# llmos ({target.name}): read by the Raspberry Pi firmware (written by mkimage/sdcard.py)",
        "# 64-bit kernel, loaded from this partition under its own name",
        "arm_64bit=1",
        f"kernel={target.kernel_image}",
        "# the mainline kernel and device trees (bcm2711-rpi-4-b.dtb, not the vendor ones)",
        "upstream_kernel=1",
        "# the serial console on GPIO 14/15 (mini-UART, ttyS1): a fixed core clock keeps",
        "# its baud rate stable",
        "enable_uart=1",
        "",
    ])


def firmware_dir() -> Path:
    """Debian's raspi-firmware unpacked (cached): usr/lib/raspi-firmware and its copyright."""
    deb = debian.download([FIRMWARE_PKG], "all", FIRMWARE_COMPONENT)[FIRMWARE_PKG]
    k = cache.key(deb.name, cache.file_digest(deb))
    out = cache.entry("raspi-firmware", k)
    if not cache.is_done(out):
        with cache.building("raspi-firmware", k) as tmp:
            debian.unpack([deb], tmp)
    missing = [f for f in FIRMWARE_FILES if not (out / "usr/lib/raspi-firmware" / f).is_file()]
    if missing:
        raise SystemExit(f"mkimage: {deb.name} lacks {', '.join(missing)}")
    return out


def boot_files(target: Target, kernel_image: Path, kernel_dir: Path, fw: Path,
               parts: list[Partition]) -> dict[str, Path | str]:
    """Name on the FAT partition -> a file to copy, or text to write."""
    files: dict[str, Path | str] = {f: fw / "usr/lib/raspi-firmware" / f for f in FIRMWARE_FILES}
    files["LICENCE.broadcom"] = fw / "usr/share/doc/raspi-firmware/copyright"
    for dtb in target.dtbs:
        src = kernel_dir / "dts" / dtb
        if not src.is_file():
            raise SystemExit(f"mkimage: device tree {dtb} not built (is the platform enabled "
                             f"in the kernel fragments?): {src}")
        files[Path(dtb).name] = src
    files[target.kernel_image] = kernel_image
    files["config.txt"] = config_txt(target)
    files["cmdline.txt"] = cmdline_txt(target, parts)
    return files


def make_boot_fs(path: Path, files: dict[str, Path | str], size_mb: int, volume_id: str) -> None:
    """A FAT32 file system image holding `files`, made with mkfs.vfat and mtools."""
    need = sum(f.stat().st_size if isinstance(f, Path) else len(f) for f in files.values())
    if need > (size_mb << 20) * 0.9:
        raise SystemExit(f"mkimage: boot files ({need >> 20} MiB) do not fit a {size_mb} MiB boot partition")
    path.unlink(missing_ok=True)
    subprocess.run(["mkfs.vfat", "-F", "32", "-n", BOOT_LABEL, "-i", volume_id, "-C", str(path),
                    str(size_mb * 1024)], check=True, stdout=subprocess.DEVNULL)
    env = dict(os.environ, **MTOOLS_ENV)
    with _scratch(path.parent / "boot-files") as d:
        for name, src in files.items():
            if isinstance(src, str):
                (d / name).write_text(src)
                src = d / name
            subprocess.run(["mcopy", "-i", str(path), "-D", "o", str(src), f"::{name}"],
                           check=True, env=env)


class _scratch:
    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> Path:
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)
        return self.path

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def sfdisk_script(parts: list[Partition], disk_id: str) -> str:
    lines = ["label: dos", f"label-id: 0x{disk_id}", "unit: sectors", "sector-size: 512", ""]
    for p in sorted(parts, key=lambda p: p.number):
        lines.append(f"start={p.start}, size={p.sectors}, type={p.type_id}"
                     + (", bootable" if p.role == "boot" else ""))
    return "\n".join(lines) + "\n"


def copy_sparse(src: Path, dst_fd: int, offset: int, chunk: int = 1 << 20) -> None:
    """Copy src into dst_fd at offset, seeking over all-zero chunks (the file is pre-sized)."""
    zero = bytes(chunk)
    with open(src, "rb") as f:
        pos = offset
        while True:
            buf = f.read(chunk)
            if not buf:
                break
            if buf != zero[:len(buf)]:
                os.pwrite(dst_fd, buf, pos)
            pos += len(buf)


def write_card(path: Path, parts: list[Partition], disk_id: str) -> None:
    end = max(p.offset + p.size for p in parts)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.ftruncate(fd, end)
        for p in parts:
            if Path(p.source).stat().st_size > p.size:
                raise SystemExit(f"mkimage: {p.source} is larger than partition {p.number}")
            copy_sparse(Path(p.source), fd, p.offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    # never wipe: the partitions already hold their file systems
    subprocess.run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", "--wipe", "never",
                    "--wipe-partitions", "never", str(tmp)],
                   input=sfdisk_script(parts, disk_id), text=True, check=True,
                   stdout=subprocess.DEVNULL)
    tmp.replace(path)


def build(target: Target, model_path: str | None = None, out: str | None = None) -> Path:
    """Build the base target's images, then images/<board>/sdcard.img from them."""
    from . import image, kernel
    t0 = time.monotonic()
    base = targets.get(target.base)
    if (base.arch, base.kernel_image, base.fragments) != (target.arch, target.kernel_image, target.fragments):
        raise SystemExit(f"mkimage: {target.name} must share {base.name}'s kernel (arch, image, fragments)")
    for tool in ("mkfs.vfat", "mcopy", "sfdisk"):
        if not shutil.which(tool):
            raise SystemExit(f"mkimage: {tool} missing: run `make deps TARGET={target.name}`")
    base_dir = image.build(base, model_path=model_path)
    kdir = kernel.build(base)
    fw = firmware_dir()
    dest = Path(out) if out else REPO / "images" / target.name
    dest.mkdir(parents=True, exist_ok=True)
    data = dest / "data.ext4"
    if not data.exists():
        cache.log(f"making {target.name}/data.ext4 (new, empty)")
        image.make_data_image(data)
    sources = {"root": base_dir / "rootfs.squashfs", "model": base_dir / "model.squashfs",
               "data": data}
    # the boot partition's size is fixed, so the layout is known before its contents
    with _scratch(dest / ".boot") as scratch:
        boot_img = scratch / "boot.vfat"
        with open(boot_img, "wb") as f:
            f.truncate(BOOT_MB << 20)
        parts = layout({"boot": boot_img, **sources})
        files = boot_files(target, base_dir / target.kernel_image, kdir, fw, parts)
        inputs = cache.key(target, BOOT_MB, sfdisk_script(parts, "0"),
                           {n: (cache.file_digest(f) if isinstance(f, Path) else f) for n, f in files.items()},
                           {r: cache.file_digest(s) for r, s in sources.items()})
        disk_id = inputs[:8]
        manifest_path = dest / "manifest.json"
        old = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
        if old.get("inputs") == inputs and (dest / "sdcard.img").exists():
            cache.log(f"images/{target.name}/sdcard.img is up to date")
            return dest
        cache.log(f"making the FAT32 boot partition ({len(files)} files)")
        make_boot_fs(boot_img, files, BOOT_MB, disk_id)
        cache.log("writing sdcard.img (partition table: sfdisk)")
        write_card(dest / "sdcard.img", parts, disk_id)
    manifest = {
        "target": target.name, "base": base.name, "inputs": inputs, "disk_id": f"0x{disk_id}",
        "bytes": (dest / "sdcard.img").stat().st_size,
        "partitions": [dict(asdict(p), source="FAT32: boot_files", sha256=None) if p.role == "boot"
                       else dict(asdict(p), source=os.path.relpath(p.source, dest),
                                 sha256=cache.file_digest(Path(p.source))) for p in parts],
        "boot_files": sorted(files),
        "cmdline": cmdline_txt(target, parts).strip(),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    cache.log(f"images/{target.name}/sdcard.img ready in {time.monotonic() - t0:.1f}s: "
              f"{manifest['bytes'] / 1e6:.0f} MB; flash it with `make flash DEVICE=/dev/sdX`")
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mkimage.sdcard",
                                 description="build images/<board>/sdcard.img")
    ap.add_argument("--target", default="rpi4")
    ap.add_argument("--model", help="a GGUF file to build with instead of the default model")
    a = ap.parse_args(argv)
    t = targets.get(a.target)
    if not t.base:
        raise SystemExit(f"mkimage: {t.name} is not an SD card board")
    build(t, model_path=a.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
