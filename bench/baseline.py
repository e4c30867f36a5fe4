"""The boot baseline: the same kernel and QEMU command line, with a root whose init is a
static BusyBox shell (Debian bookworm's busybox-static), nothing else.

Assembled on the fly into a tiny squashfs, only for the benchmark, and cached under
<cache>/bench-baseline/<key> (key: the .deb's file name and hash, the init script, the
mksquashfs arguments). A run directory next to it holds a copy of the image's run-qemu.sh
with links to the image's kernel and model disk, so QEMU sees exactly the same machine:
only the root disk differs.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from mkimage import cache

STEP = "bench-baseline"
PACKAGE = "busybox-static"
PROMPT = "baseline# "
PROMPT_RE = re.compile(re.escape(PROMPT))
# PID 1 is a script run by BusyBox's own shell; it mounts /proc (for `free`, `ps`) and
# replaces itself by an interactive BusyBox shell on the console.
INIT = f"""#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
export PATH=/bin PS1='{PROMPT}'
exec /bin/busybox sh -i
"""
MKSQUASHFS = ["-noappend", "-all-root", "-no-xattrs", "-quiet", "-no-progress", "-comp", "gzip"]


def arch_deb(arch: str) -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(arch, arch)


def rootfs(arch: str = "x86_64") -> Path:
    """The baseline root squashfs (built when missing)."""
    from mkimage import debian
    deb = debian.download([PACKAGE], arch_deb(arch))[PACKAGE]
    k = cache.key(STEP, deb.name, cache.file_digest(deb), INIT, MKSQUASHFS)
    out = cache.entry(STEP, f"{arch}-{k}")
    image = out / "rootfs.squashfs"
    if cache.is_done(out) and image.exists():
        return image
    with cache.building(STEP, out.name) as tmp:
        cache.log(f"assembling the BusyBox baseline root from {deb.name}")
        unpacked = tmp / "deb"
        debian.unpack([deb], unpacked)
        busybox = unpacked / "bin" / "busybox"
        if not busybox.is_file():
            raise SystemExit(f"bench: {deb.name} holds no bin/busybox")
        root = tmp / "root"
        for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "etc"):
            (root / d).mkdir(parents=True)
        shutil.copy2(busybox, root / "bin" / "busybox")
        (root / "bin" / "sh").symlink_to("busybox")
        init = root / "sbin" / "init"
        init.write_text(INIT)
        init.chmod(0o755)
        subprocess.run(["mksquashfs", str(root), str(tmp / "rootfs.squashfs"), *MKSQUASHFS],
                       check=True)
        shutil.rmtree(unpacked)
        shutil.rmtree(root)
    return image


def run_dir(image_dir: Path, dest: Path, arch: str = "x86_64", kernel: str = "bzImage") -> Path:
    """A directory QEMU can boot with the image's own run-qemu.sh: the image's kernel and
    model disk (linked), the baseline root; returns the run-qemu.sh there."""
    dest.mkdir(parents=True, exist_ok=True)
    for name, src in ((kernel, image_dir / kernel), ("model.squashfs", image_dir / "model.squashfs"),
                      ("rootfs.squashfs", rootfs(arch))):
        link = dest / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.realpath(src))
    script = dest / "run-qemu.sh"
    shutil.copy2(image_dir / "run-qemu.sh", script)
    return script
