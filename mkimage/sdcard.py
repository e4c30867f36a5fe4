"""The Raspberry Pi 4 SD card image (images/<board>/sdcard.img), built without root.

No loop devices and no mounts: mkfs.vfat makes the FAT file systems inside image files
and mtools' mcopy fills them, sfdisk writes the partition table into the card image, and
every partition's image is copied in at its offset (sparsely: zero blocks are skipped,
so the file stays small on disk).

The card is assembled from the images of the board's QEMU target (Target.base,
aarch64-virt): its kernel Image, rootfs.squashfs and model.squashfs go onto the card
byte for byte, so what the QEMU tests boot is exactly what the Pi boots.

Two slots (A/B updates, issue 16), picked by the Pi firmware: autoboot.txt on p1 says
which slot's boot partition a normal boot starts (tryboot_a_b), `reboot "0 tryboot"`
starts the other once (llmos_init/update/tryboot.py). MBR, entries in physical order
(mkimage/shared.toml [sdcard] says why, and the sizes):

  entry  type   contents                                          kernel sees
  p1     0x0e   FAT16: autoboot.txt (slot A committed)            (never mounted)
  p2     0x0c   FAT32 boot_a: firmware (start4.elf, fixup4.dat,   /dev/mmcblk0p2
                bootcode.bin), bcm2711 device trees, Image,
                config.txt, cmdline_a.txt, cmdline_b.txt
  p3     0x0c   boot_b: empty on a new card (an update writes it)
  p4     0x0f   extended: p5-p9
  p5     0xda   boot state (llmos_init/update/bootstate.py)        /dev/mmcblk0p5
  p6     0x83   root_a: rootfs.squashfs                            /dev/mmcblk0p6
  p7     0x83   root_b: empty on a new card
  p8     0x83   model: model.squashfs (uncompressed)              /dev/mmcblk0p8
  p9     0x83   data: data.ext4 (writable; last, so it can grow)   /dev/mmcblk0p9

One boot image serves both slots (slot_boot_image: what an rpi4 update bundle carries):
its config.txt picks the slot's command line with the firmware's [boot_partition=N]
filter, cmdline_a.txt on p2 and cmdline_b.txt on p3, each naming its slot's root.

images/<board>/data.ext4 is made once, like the QEMU targets' data image (same size,
label and layout), and never overwritten; the card's p9 is a byte-for-byte copy of it.
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

from llmos_init.update import autoboot, bootstate, slots

from . import cache, debian, targets
from .shared import shared
from .targets import REPO, Target

SECTOR = 512
FIRMWARE_PKG = "raspi-firmware"
FIRMWARE_COMPONENT = "non-free-firmware"
FIRMWARE_FILES = ("start4.elf", "fixup4.dat", "bootcode.bin")
BOOT_LABEL = "LLMOS-BOOT"
AUTOBOOT_LABEL = "LLMOS-AB"
MTOOLS_ENV = {"MTOOLS_SKIP_CHECK": "1"}
SCHEME = slots.SCHEMES["tryboot"]


def card() -> dict:
    """shared.toml [sdcard], with the root slot's size of [system_disk]."""
    c = dict(shared()["sdcard"])
    c["root_mb"] = shared()["system_disk"]["root_mb"]
    return c


ALIGN = card()["align_mb"] << 20      # partition alignment (bytes)


@dataclass(frozen=True)
class Partition:
    number: int          # MBR entry, the N of mmcblk0pN
    role: str            # shared.toml [sdcard] partitions
    type_id: str         # MBR type
    start: int           # first sector
    sectors: int
    source: str          # the image file copied into it ("": nothing, e.g. slot B)

    @property
    def offset(self) -> int:
        return self.start * SECTOR

    @property
    def size(self) -> int:
        return self.sectors * SECTOR


# what each partition is made from (build()'s sources); the others start empty
SOURCE_OF = {"autoboot": "autoboot", "boot_a": "boot", "bootstate": "bootstate", "root_a": "root",
             "model": "model", "data": "data"}


def number(role: str) -> int:
    return card()["partitions"].index(role) + 1


def _align_up(n: int, to: int = ALIGN) -> int:
    return -(-n // to) * to


def _check_scheme() -> None:
    """The card's numbers are the ones llmos reads (llmos_init/update/slots.py)."""
    want = {"autoboot": SCHEME.config, "bootstate": SCHEME.state,
            **{f"{what}_{slot}": n for (slot, what), n in SCHEME.parts.items()}}
    if any(number(role) != n for role, n in want.items()):
        raise SystemExit("mkimage: shared.toml [sdcard] and llmos_init/update/slots.py disagree")


def layout(sources: dict[str, Path]) -> list[Partition]:
    """Partitions for the given image files (shared.toml [sdcard] order): fixed sizes for
    the FAT, state and root partitions, the model and data partitions their files' size.
    The extended partition spans the logical ones, each of which has its EBR in the
    ALIGN bytes before it."""
    if set(sources) != set(SOURCE_OF.values()):
        raise ValueError(f"layout needs exactly {sorted(SOURCE_OF.values())}, got {sorted(sources)}")
    c = card()
    fixed = {"autoboot": c["autoboot_mb"], "boot_a": c["boot_mb"], "boot_b": c["boot_mb"],
             "bootstate": c["state_mb"], "root_a": c["root_mb"], "root_b": c["root_mb"]}
    parts, pos, extended = [], ALIGN, None
    for i, role in enumerate(c["partitions"], 1):
        if role == "extended":
            extended = (i, pos)
            continue
        if extended:
            pos += ALIGN                      # the EBR of this logical partition
        src = sources[SOURCE_OF[role]] if role in SOURCE_OF else None
        size = (fixed[role] << 20) if role in fixed else _align_up(Path(src).stat().st_size)
        if src is not None and Path(src).stat().st_size > size:
            raise SystemExit(f"mkimage: {Path(src).name} does not fit partition {role} ({size >> 20} MiB): "
                             "raise shared.toml [sdcard]")
        parts.append(Partition(i, role, c["types"][role], pos // SECTOR, size // SECTOR, str(src or "")))
        pos += size
    # the extended partition starts at the first logical partition's EBR, one sector
    # before it (where genimage puts it too)
    n, _ = extended
    first = next(p for p in parts if p.number == n + 1).start - 1
    parts.append(Partition(n, "extended", c["types"]["extended"], first, pos // SECTOR - first, ""))
    return sorted(parts, key=lambda p: p.number)


def device(target: Target, role: str) -> str:
    return f"{target.disk_prefix}{number(role)}"


def cmdline_txt(target: Target, slot: str) -> str:
    """A slot's kernel command line: run-qemu.sh's parameters with the card's devices,
    and what U-Boot's boot script adds under QEMU (the slot and the boot state), plus how
    the slot was chosen and the board's name (llmos_init/update/slots.py)."""
    return (f"console={target.console},115200 root={device(target, f'root_{slot}')} "
            f"rootfstype=squashfs ro rootwait panic=5 "
            f"llmos.model={device(target, 'model')} llmos.data={device(target, 'data')} "
            f"llmos.slot={slot} llmos.bootstate={device(target, 'bootstate')} "
            f"llmos.slots={SCHEME.name} llmos.target={target.name}\n")


def cmdline_name(slot: str) -> str:
    return f"cmdline_{slot}.txt"


def config_txt(target: Target) -> str:
    lines = [
        f"# llmos ({target.name}): read by the Raspberry Pi firmware (written by mkimage/sdcard.py)",
        "# 64-bit kernel, loaded from this partition under its own name",
        "arm_64bit=1",
        f"kernel={target.kernel_image}",
        "# the mainline kernel and device trees (bcm2711-rpi-4-b.dtb, not the vendor ones)",
        "upstream_kernel=1",
        "# the serial console on GPIO 14/15 (mini-UART, ttyS1): a fixed core clock keeps",
        "# its baud rate stable",
        "enable_uart=1",
        "# the same file in both slots: the partition the firmware booted picks the",
        "# command line, which names that slot's root (autoboot.txt on p1 picks the slot)",
    ]
    for slot in bootstate.SLOTS:
        lines += [f"[boot_partition={number(f'boot_{slot}')}]", f"cmdline={cmdline_name(slot)}"]
    return "\n".join(lines + ["[all]", ""])


def autoboot_txt() -> str:
    """A new card's autoboot.txt: slot A committed, B on a try."""
    return autoboot.text(number("boot_a"), number("boot_b"))


def card_texts(target: Target, version: str) -> dict[str, str | bytes]:
    """The card's files that llmos makes (the rest: firmware, device trees, kernel, root,
    model, data, are copied): autoboot.txt for p1, the boot state for p5, and for the
    slot's boot partition config.txt and each slot's command line."""
    return {"autoboot.txt": autoboot_txt(), **slot_texts(target),
            "bootstate": bootstate.format_state({"slot": "a", "version_a": version})}


def slot_texts(target: Target) -> dict[str, str]:
    """A slot's boot partition's own files: config.txt and each slot's command line."""
    return {"config.txt": config_txt(target), **{cmdline_name(s): cmdline_txt(target, s) for s in bootstate.SLOTS}}


BUILDROOT_FIRMWARE = ("rpi-firmware/start4.elf", "rpi-firmware/fixup4.dat")


def genimage_config(target: Target, binaries: Path, own: str) -> str:
    """The Buildroot tree's sdcard.img for genimage: this card's partitions (layout(),
    with explicit offsets and sizes, so both builds place every partition at the same
    sector) from Buildroot's images in `binaries` and card_texts() in binaries/own."""
    _check_scheme()
    o = binaries / own
    parts = layout({"autoboot": o / "autoboot.txt", "boot": o / "config.txt", "bootstate": o / "bootstate",
                    "root": binaries / "rootfs.squashfs", "model": binaries / "model.squashfs",
                    "data": binaries / "data.ext4"})
    c = card()
    boot = [*BUILDROOT_FIRMWARE, *(Path(d).name for d in target.dtbs), target.kernel_image,
            *(f"{own}/{n}" for n in slot_texts(target))]
    images = {"autoboot": "autoboot.vfat", "boot_a": "boot.vfat", "bootstate": f"{own}/bootstate",
              "root_a": "rootfs.squashfs", "model": "model.squashfs", "data": "data.ext4"}

    def files(names):
        return ", ".join(f'"{n}"' for n in names)
    out = [f"# {target.name}'s sdcard.img: written by buildroot/support/offline.py from mkimage/sdcard.py",
           "# (the offline card's partitions, sector for sector); not to be edited",
           "image autoboot.vfat {", "	vfat {",
           f'		extraargs = "-F 16 -s 1 -S {SECTOR} -n {AUTOBOOT_LABEL}"',
           f"		files = {{ {files([f'{own}/autoboot.txt'])} }}", "	}", f"	size = {c['autoboot_mb']}M", "}",
           "image boot.vfat {", "	vfat {",
           f'		extraargs = "-F 32 -s 1 -S {SECTOR} -n {BOOT_LABEL}"',
           f"		files = {{ {files(boot)} }}", "	}", f"	size = {c['boot_mb']}M", "}",
           "image sdcard.img {", "	hdimage {", '		partition-table-type = "mbr"',
           f"		extended-partition = {number('extended')}", "	}"]
    for p in parts:
        if p.role == "extended":
            continue
        out += [f"	partition {p.role} {{", f"		partition-type = 0x{p.type_id.upper()}",
                f"		offset = {p.offset}", f"		size = {p.size}"]
        if p.role in images:
            out.append(f'		image = "{images[p.role]}"')
        out.append("	}")
    return "\n".join(out + ["}", ""])


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


def boot_files(target: Target, kernel_image: Path, kernel_dir: Path, fw: Path) -> dict[str, Path | str]:
    """Name on a slot's boot partition -> a file to copy, or text to write."""
    files: dict[str, Path | str] = {f: fw / "usr/lib/raspi-firmware" / f for f in FIRMWARE_FILES}
    files["LICENCE.broadcom"] = fw / "usr/share/doc/raspi-firmware/copyright"
    for dtb in target.dtbs:
        src = kernel_dir / "dts" / dtb
        if not src.is_file():
            raise SystemExit(f"mkimage: device tree {dtb} not built (is the platform enabled "
                             f"in the kernel fragments?): {src}")
        files[Path(dtb).name] = src
    files[target.kernel_image] = kernel_image
    files.update(slot_texts(target))
    return files


def make_fat(path: Path, files: dict[str, Path | str], size_mb: int, volume_id: str,
             fat_bits: int = 32, label: str = BOOT_LABEL) -> None:
    """A FAT file system image holding `files`, made with mkfs.vfat and mtools (one
    sector per cluster: the firmware's FAT32 needs >= 65525 clusters)."""
    need = sum(f.stat().st_size if isinstance(f, Path) else len(f) for f in files.values())
    if need > (size_mb << 20) * 0.9:
        raise SystemExit(f"mkimage: boot files ({need >> 20} MiB) do not fit a {size_mb} MiB boot partition")
    path.unlink(missing_ok=True)
    subprocess.run(["mkfs.vfat", "-F", str(fat_bits), "-s", "1", "-S", str(SECTOR), "-n", label,
                    "-i", volume_id, "-C", str(path), str(size_mb * 1024)],
                   check=True, stdout=subprocess.DEVNULL)
    env = dict(os.environ, **MTOOLS_ENV)
    with _scratch(path.parent / f"{path.name}.files") as d:
        for name, src in files.items():
            if isinstance(src, str):
                (d / name).write_text(src)
                src = d / name
            subprocess.run(["mcopy", "-i", str(path), "-D", "o", str(src), f"::{name}"],
                           check=True, env=env)


def slot_boot_image(target: Target, kernel_image: Path, kernel_dir: Path, fw: Path, dest: Path,
                    volume_id: str) -> Path:
    """A slot's boot partition (boot_a on a new card, either slot in an update bundle)."""
    make_fat(dest, boot_files(target, kernel_image, kernel_dir, fw), card()["boot_mb"], volume_id)
    return dest


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
        lines.append(f"start={p.start}, size={p.sectors}, type={p.type_id}")
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
            if not p.source:
                continue
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
    _check_scheme()
    base = targets.get(target.base)
    if (base.arch, base.kernel_image, base.fragments, base.kernel_patches) != \
            (target.arch, target.kernel_image, target.fragments, target.kernel_patches):
        raise SystemExit(f"mkimage: {target.name} must share {base.name}'s kernel (arch, image, fragments, patches)")
    for tool in ("mkfs.vfat", "mcopy", "sfdisk"):
        if not shutil.which(tool):
            raise SystemExit(f"mkimage: {tool} missing: run `make deps TARGET={target.name}`")
    base_dir = image.build(base, model_path=model_path)
    version = json.loads((base_dir / "manifest.json").read_text())["system"]["version"]
    kdir = kernel.build(base)
    fw = firmware_dir()
    dest = Path(out) if out else REPO / "images" / target.name
    dest.mkdir(parents=True, exist_ok=True)
    data = dest / "data.ext4"
    if not data.exists():
        cache.log(f"making {target.name}/data.ext4 (new, empty)")
        image.make_data_image(data)
    files = boot_files(target, base_dir / target.kernel_image, kdir, fw)
    texts = card_texts(target, version)
    state = texts["bootstate"]
    sources = {"root": base_dir / "rootfs.squashfs", "model": base_dir / "model.squashfs", "data": data}
    inputs = cache.key(target, card(), texts["autoboot.txt"], state,
                       {n: (cache.file_digest(f) if isinstance(f, Path) else f) for n, f in files.items()},
                       {r: cache.file_digest(s) for r, s in sources.items()})
    disk_id = inputs[:8]
    manifest_path = dest / "manifest.json"
    old = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    if old.get("inputs") == inputs and (dest / "sdcard.img").exists():
        cache.log(f"images/{target.name}/sdcard.img is up to date")
        return dest
    with _scratch(dest / ".boot") as scratch:
        cache.log(f"making slot A's FAT32 boot partition ({len(files)} files) and autoboot.txt's")
        sources["boot"] = slot_boot_image(target, base_dir / target.kernel_image, kdir, fw,
                                          scratch / "boot.vfat", disk_id)
        sources["autoboot"] = scratch / "autoboot.vfat"
        make_fat(sources["autoboot"], {"autoboot.txt": texts["autoboot.txt"]}, card()["autoboot_mb"],
                 disk_id, fat_bits=16, label=AUTOBOOT_LABEL)
        sources["bootstate"] = scratch / "bootstate"
        sources["bootstate"].write_bytes(state)
        parts = layout(sources)
        cache.log("writing sdcard.img (partition table: sfdisk)")
        write_card(dest / "sdcard.img", parts, disk_id)
    from_base = {"root_a": "rootfs.squashfs", "model": "model.squashfs"}
    manifest = {
        "target": target.name, "base": base.name, "inputs": inputs, "disk_id": f"0x{disk_id}",
        "version": version, "bytes": (dest / "sdcard.img").stat().st_size,
        "partitions": [dict(asdict(p), source=(os.path.relpath(base_dir / from_base[p.role], dest)
                                               if p.role in from_base else
                                               "data.ext4" if p.role == "data" else
                                               f"mkimage/sdcard.py: {p.role}" if p.source else ""),
                            sha256=(cache.file_digest(Path(p.source)) if p.role in (*from_base, "data")
                                    else None)) for p in parts],
        "boot_files": sorted(files),
        "autoboot": texts["autoboot.txt"],
        "cmdlines": {slot: cmdline_txt(target, slot).strip() for slot in bootstate.SLOTS},
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
