"""`make flash DEVICE=/dev/sdX`: write the SD card image to a removable disk, safely.

Before anything is written the device must be, according to the kernel (/sys, /proc):
  - a whole disk (not a partition), removable (/sys/block/<dev>/removable = 1, or an SD
    card in a built-in MMC reader: device/type = SD), not write-protected,
  - not in use: none of it mounted (/proc/self/mountinfo, by device number and name),
    not used as swap (/proc/swaps), not held by device-mapper/RAID (holders/),
  - at least as large as the image.
Then its model and size are shown and the user must type the device's name to confirm.
The image is written, synced, the device's cached pages are dropped, and everything is
read back and compared with the image (sha256).

The /sys and /proc roots are parameters, so the checks are tested against fake trees.
"""
from __future__ import annotations

import argparse
import errno
import fcntl
import hashlib
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .targets import REPO

CHUNK = 4 << 20
BLKFLSBUF = 0x1261          # ioctl: flush the block device's buffer cache
DEFAULT_IMAGE = REPO / "images" / "rpi4" / "sdcard.img"


class Refused(Exception):
    """The device must not be written; the message says why."""


@dataclass
class Disk:
    name: str                       # sdb, mmcblk0
    path: str                       # what the user gave
    size: int                       # bytes
    model: str
    removable: str                  # why it counts as removable
    partitions: list[str] = field(default_factory=list)
    devnums: dict[str, str] = field(default_factory=dict)   # "maj:min" -> name


def _read(p: Path, default: str = "") -> str:
    try:
        return p.read_text().strip()
    except OSError:
        return default


def human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    raise AssertionError


def inspect(device: str, sys_root: Path = Path("/sys")) -> Disk:
    """Describe `device` from sysfs; Refused unless it is a removable, writable whole disk."""
    name = Path(os.path.realpath(device)).name
    cls = sys_root / "class/block" / name
    if not cls.exists():
        raise Refused(f"{device}: not a block device the kernel knows ({cls} missing)")
    if (cls / "partition").exists():
        parent = Path(os.path.realpath(cls)).parent.name
        raise Refused(f"{device} is a partition: give the whole disk (/dev/{parent})")
    blk = sys_root / "block" / name
    if not blk.is_dir():
        raise Refused(f"{device}: not a whole disk ({blk} missing)")
    if _read(blk / "removable") == "1":
        removable = "removable"
    elif name.startswith("mmcblk") and _read(blk / "device/type") == "SD":
        removable = "SD card in an MMC reader"
    else:
        raise Refused(f"{device} is not a removable disk ({blk}/removable is "
                      f"{_read(blk / 'removable', '?')}): refusing to overwrite a fixed disk")
    if _read(blk / "ro") == "1":
        raise Refused(f"{device} is read-only (the SD card's write-protect switch?)")
    size = int(_read(blk / "size", "0")) * 512
    if size == 0:
        raise Refused(f"{device} has no medium (size 0): insert the card")
    model = " ".join(x for x in (_read(blk / "device/vendor"), _read(blk / "device/model"),
                                 _read(blk / "device/name")) if x) or "unknown model"
    parts = sorted(p.name for p in blk.iterdir() if (p / "partition").exists())
    devnums = {_read(blk / "dev"): name}
    devnums.update({_read(blk / p / "dev"): p for p in parts})
    devnums.pop("", None)
    for n in [name, *parts]:
        holders = blk / "holders" if n == name else blk / n / "holders"
        if holders.is_dir() and any(holders.iterdir()):
            raise Refused(f"/dev/{n} is in use by {', '.join(h.name for h in holders.iterdir())} "
                          "(device-mapper/RAID): release it first")
    return Disk(name, device, size, model, removable, parts, devnums)


def mounted(disk: Disk, proc_root: Path = Path("/proc")) -> list[str]:
    """Mounts and swaps that use the disk or one of its partitions ("<dev> on <where>")."""
    names = {disk.name, *disk.partitions}
    found = []
    for line in _read(proc_root / "self/mountinfo").splitlines():
        fields = line.split()
        if len(fields) < 10 or "-" not in fields:
            continue
        sep = fields.index("-")
        devnum, mountpoint, source = fields[2], fields[4], fields[sep + 2]
        by_name = source.startswith("/dev/") and Path(os.path.realpath(source)).name in names
        if devnum in disk.devnums or by_name:
            who = disk.devnums.get(devnum) or Path(source).name
            found.append(f"/dev/{who} on {mountpoint.replace(chr(92) + '040', ' ')}")
    for line in _read(proc_root / "swaps").splitlines()[1:]:
        src = line.split()[0] if line.split() else ""
        if Path(src).name in names:
            found.append(f"{src} as swap")
    return found


def check(device: str, image: Path, sys_root: Path = Path("/sys"),
          proc_root: Path = Path("/proc")) -> Disk:
    """Every refusal, in order; returns the disk when it may be written."""
    if not image.is_file():
        raise Refused(f"{image}: no such image (run `make rpi4` first)")
    disk = inspect(device, sys_root)
    busy = mounted(disk, proc_root)
    if busy:
        raise Refused(f"{device} is in use: {'; '.join(busy)}. Unmount it first "
                      f"(e.g. `umount /dev/{disk.name}*`)")
    need = image.stat().st_size
    if disk.size < need:
        raise Refused(f"{device} ({human(disk.size)}) is smaller than the image ({human(need)})")
    return disk


def confirm(disk: Disk, image: Path, ask: Callable[[str], str]) -> bool:
    print(f"\n  device:     {disk.path} ({disk.name}), {disk.removable}\n"
          f"  model:      {disk.model}\n"
          f"  size:       {human(disk.size)}\n"
          f"  partitions: {', '.join(disk.partitions) or 'none'}\n"
          f"  image:      {image} ({human(image.stat().st_size)})\n\n"
          f"EVERYTHING on {disk.path} will be overwritten.", file=sys.stderr)
    return ask(f"Type the device name ({disk.name}) to write it, anything else to stop: ").strip() == disk.name


def _drop_cache(fd: int) -> None:
    """Forget the cached pages, so that reading back reaches the medium."""
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass  # not a file or block device (e.g. a character device): nothing is cached


def _hash_stream(fd: int, length: int, progress: Callable[[str], None], what: str) -> str:
    h = hashlib.sha256()
    done, step = 0, max(length // 10, 1)
    while done < length:
        buf = os.read(fd, min(CHUNK, length - done))
        if not buf:
            raise OSError(f"short read at byte {done} of {length}")
        h.update(buf)
        if (done + len(buf)) // step != done // step:
            progress(f"{what}: {100 * (done + len(buf)) // length}%")
        done += len(buf)
    return h.hexdigest()


def write_and_verify(image: Path, target: str, *, block: bool,
                     progress: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> str:
    """Write image to target, sync, drop cached pages, read back; return the sha256."""
    length = image.stat().st_size
    want = hashlib.sha256()
    # O_EXCL on a block device: the kernel refuses (EBUSY) if anything mounted or holds it
    fd = os.open(target, os.O_WRONLY | (os.O_EXCL if block else 0))
    try:
        with open(image, "rb") as src:
            done, step = 0, max(length // 10, 1)
            while True:
                buf = src.read(CHUNK)
                if not buf:
                    break
                want.update(buf)
                view = memoryview(buf)
                while view:
                    view = view[os.write(fd, view):]
                if (done + len(buf)) // step != done // step:
                    progress(f"writing: {100 * (done + len(buf)) // length}%")
                done += len(buf)
        progress("syncing")
        try:
            os.fsync(fd)
        except OSError as e:
            if e.errno != errno.EINVAL:
                raise
            os.sync()  # a target that cannot be fsync'ed on its own: sync everything
        _drop_cache(fd)
        if block:
            fcntl.ioctl(fd, BLKFLSBUF, 0)
    finally:
        os.close(fd)
    fd = os.open(target, os.O_RDONLY)
    try:
        _drop_cache(fd)
        got = _hash_stream(fd, length, progress, "verifying")
    finally:
        os.close(fd)
    if got != want.hexdigest():
        raise OSError(f"verification FAILED: {target} reads back {got[:16]}..., "
                      f"the image is {want.hexdigest()[:16]}...; the card may be faulty")
    return got


def flash(device: str, image: Path, *, sys_root: Path = Path("/sys"), proc_root: Path = Path("/proc"),
          ask: Callable[[str], str] = input, require_block_device: bool = True) -> str:
    disk = check(device, image, sys_root, proc_root)
    is_block = stat.S_ISBLK(os.stat(device).st_mode)
    if require_block_device and not is_block:
        raise Refused(f"{device} is not a block device node")
    if not confirm(disk, image, ask):
        raise Refused("not confirmed: nothing written")
    digest = write_and_verify(image, device, block=is_block)
    print(f"{disk.path}: written and verified (sha256 {digest[:16]}...); "
          "it can be removed now", file=sys.stderr)
    return digest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make flash DEVICE=/dev/sdX",
                                 description="write the llmos SD card image to a removable disk")
    ap.add_argument("--device", required=True, help="the whole disk, e.g. /dev/sdb or /dev/mmcblk0")
    ap.add_argument("image", nargs="?", type=Path, default=DEFAULT_IMAGE)
    a = ap.parse_args(argv)
    try:
        flash(a.device, a.image)
    except Refused as e:
        print(f"flash: refused: {e}", file=sys.stderr)
        return 1
    except (OSError, KeyboardInterrupt, EOFError) as e:
        print(f"flash: failed: {e or type(e).__name__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
