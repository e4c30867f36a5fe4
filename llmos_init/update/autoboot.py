"""autoboot.txt: where the Raspberry Pi firmware reads which slot to boot.

The file lies on the card's first partition, a small FAT file system of its own, and is
read by the Pi 4's EEPROM bootloader before anything else (Raspberry Pi's documentation:
config.txt, "autoboot.txt"):

    [all]
    tryboot_a_b=1
    boot_partition=2        the committed slot's boot partition (a normal boot)
    [tryboot]
    boot_partition=3        the other one, booted once after `reboot "0 tryboot"`

text() makes it (mkimage/sdcard.py writes the card's with it). Committing a slot swaps
the two numbers, and commit() does it without mounting anything: the file's bytes are
found through the FAT boot sector and root directory (read only), and the one sector
that holds them is rewritten in place, the same length, so neither the FAT, the
directory entry nor the file's size changes. The kernel has no FAT code page support
to mount it (NLS_CODEPAGE_437 is off) and needs none; a power cut in the middle is one
sector: whichever of the two digits reached the card, each boot_partition names a
complete slot (the running one was healthy, the other is the one that was committed).
Standard library only.
"""
from __future__ import annotations

import os
import re
import struct

NAME = b"AUTOBOOTTXT"       # the 8.3 directory entry of autoboot.txt
MAX_BYTES = 512             # the firmware reads no more
_PART = re.compile(r"^boot_partition=(\d+)\s*$")


class AutobootError(OSError):
    pass


def text(committed: int, other: int) -> str:
    if not (0 < committed < 10 and 0 < other < 10):
        raise ValueError("boot partitions are single digits (an in-place swap keeps the length)")
    return (f"[all]\ntryboot_a_b=1\nboot_partition={committed}\n"
            f"[tryboot]\nboot_partition={other}\n")


def parse(data: str) -> tuple[int, int]:
    """(the [all] boot_partition, the [tryboot] one)."""
    section, found = "all", {}
    for line in data.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        m = _PART.match(line)
        if m and section in ("all", "tryboot"):
            found[section] = int(m.group(1))
    if set(found) != {"all", "tryboot"}:
        raise AutobootError(f"autoboot.txt names no boot_partition for {sorted({'all', 'tryboot'} - set(found))}")
    return found["all"], found["tryboot"]


def _u16(b: bytes, at: int) -> int:
    return struct.unpack_from("<H", b, at)[0]


def _u32(b: bytes, at: int) -> int:
    return struct.unpack_from("<I", b, at)[0]


def locate(fd: int) -> tuple[int, int]:
    """(byte offset, size) of autoboot.txt's data in the FAT file system open as fd."""
    bs = os.pread(fd, 512, 0)
    if len(bs) < 512 or bs[510:512] != b"\x55\xaa":
        raise AutobootError("not a FAT file system (no boot sector signature)")
    sector, per_cluster, reserved, fats = _u16(bs, 11), bs[13], _u16(bs, 14), bs[16]
    root_entries, fat16 = _u16(bs, 17), _u16(bs, 22)
    if sector not in (512, 1024, 2048, 4096) or per_cluster == 0 or fats == 0:
        raise AutobootError("not a FAT file system (bad BIOS parameter block)")
    fat_size = fat16 or _u32(bs, 36)
    cluster = sector * per_cluster
    fat_start = reserved * sector
    root_start = fat_start + fats * fat_size * sector
    if root_entries:         # FAT12/16: a fixed root directory, then the data area
        data_start = root_start + ((root_entries * 32 + sector - 1) // sector) * sector
        runs = [(root_start, root_entries * 32)]
    else:                    # FAT32: the root directory is a cluster chain
        data_start, runs, c = root_start, [], _u32(bs, 44)
        while 2 <= c < 0x0FFFFFF8 and len(runs) < 64:
            runs.append((data_start + (c - 2) * cluster, cluster))
            c = _u32(os.pread(fd, 4, fat_start + c * 4), 0) & 0x0FFFFFFF
    for start, length in runs:
        d = os.pread(fd, length, start)
        for i in range(0, len(d) - 31, 32):
            e = d[i:i + 32]
            if e[0] == 0:
                raise AutobootError("no autoboot.txt in the root directory")
            if e[0] == 0xE5 or e[11] == 0x0F or e[11] & 0x18:   # deleted, long name, label/dir
                continue
            if e[:11] == NAME:
                first = (_u16(e, 20) << 16) | _u16(e, 26)
                size = _u32(e, 28)
                if first < 2 or not 0 < size <= min(MAX_BYTES, cluster):
                    raise AutobootError(f"autoboot.txt: unexpected entry (cluster {first}, {size} bytes)")
                return data_start + (first - 2) * cluster, size
    raise AutobootError("no autoboot.txt in the root directory")


def read(device: str) -> tuple[int, int]:
    """(committed boot partition, tryboot boot partition) of the card's autoboot.txt."""
    fd = os.open(device, os.O_RDONLY | os.O_CLOEXEC)
    try:
        offset, size = locate(fd)
        return parse(os.pread(fd, size, offset).decode("ascii", "replace"))
    finally:
        os.close(fd)


def commit(device: str, committed: int, other: int) -> None:
    """Rewrite autoboot.txt in place to boot `committed` normally and `other` on a try;
    read back from the device, not the page cache. Nothing is written unless the new
    text has the old one's length."""
    fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    try:
        offset, size = locate(fd)
        old = os.pread(fd, size, offset)
        parse(old.decode("ascii", "replace"))
        new = text(committed, other).encode()
        if len(new) != size:
            raise AutobootError(f"autoboot.txt is {size} bytes, not {len(new)}: not ours to rewrite "
                                "in place (write it again on a PC: see README, recovery)")
        if new == old:
            return
        start = offset - offset % 512
        block = bytearray(os.pread(fd, 512, start))
        block[offset - start:offset - start + size] = new
        if os.pwrite(fd, bytes(block), start) != 512:
            raise AutobootError("short write of autoboot.txt")
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        if os.pread(fd, size, offset) != new:
            raise AutobootError("autoboot.txt reads back differently")
    finally:
        os.close(fd)
