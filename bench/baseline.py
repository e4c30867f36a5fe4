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
    """The baseline root squashfs (built when missing): BusyBox, nothing else."""
    return _assemble(arch, "", INIT, {})


# The inference baseline's init: the boot baseline's, plus the model partition mounted at
# /model (the device named by llmos.model= on the kernel command line, as llmos mounts it).
LLAMA_INIT = f"""#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
for w in $(/bin/busybox cat /proc/cmdline); do
  case "$w" in llmos.model=*) dev="${{w#llmos.model=}}";; esac
done
/bin/busybox mount -t squashfs -o ro "${{dev:-/dev/vdb}}" /model || echo "baseline: no model disk"
export PATH=/bin:/usr/bin PS1='{PROMPT}'
exec /bin/busybox sh -i
"""


def llama_bench_rootfs(exe: Path, arch: str = "x86_64") -> Path:
    """The boot baseline's root plus llama.cpp's llama-bench at /usr/bin/llama-bench with
    its shared libraries (their DT_NEEDED closure, pyelftools, taken from this host, where
    the binary was built), and /model for the image's model partition."""
    from mkimage.closure import closure
    libdirs = {"x86_64": ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64"],
               "aarch64": ["/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib"]}[arch]
    libs, interps = closure([exe], Path("/"), libdirs)
    files = {"/usr/bin/llama-bench": exe}
    for soname, path in libs.items():
        files[f"{libdirs[0]}/{soname}"] = path
    for interp in interps:
        files[interp] = Path(os.path.realpath(interp))
    return _assemble(arch, "llama-bench-", LLAMA_INIT, files, dirs=("model",))


def _assemble(arch: str, flavour: str, init: str, files: dict[str, Path],
              dirs: tuple[str, ...] = ()) -> Path:
    """A squashfs root: BusyBox from Debian's busybox-static as /bin/sh, `init` as
    /sbin/init, `files` ({guest path: host file}) copied in; cached on all of it."""
    from mkimage import debian
    deb = debian.download([PACKAGE], arch_deb(arch))[PACKAGE]
    contents = sorted((g, cache.file_digest(h)) for g, h in files.items())
    k = cache.key(STEP, deb.name, cache.file_digest(deb), init, MKSQUASHFS, contents, dirs)
    out = cache.entry(STEP, f"{flavour}{arch}-{k}")
    image = out / "rootfs.squashfs"
    if cache.is_done(out) and image.exists():
        return image
    with cache.building(STEP, out.name) as tmp:
        cache.log(f"assembling the BusyBox {flavour.rstrip('-') or 'baseline'} root from {deb.name}")
        unpacked = tmp / "deb"
        debian.unpack([deb], unpacked)
        busybox = unpacked / "bin" / "busybox"
        if not busybox.is_file():
            raise SystemExit(f"bench: {deb.name} holds no bin/busybox")
        root = tmp / "root"
        for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "etc", *dirs):
            (root / d).mkdir(parents=True)
        shutil.copy2(busybox, root / "bin" / "busybox")
        (root / "bin" / "sh").symlink_to("busybox")
        for guest, host in files.items():
            dest = root / guest.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(host, dest)
        init_path = root / "sbin" / "init"
        init_path.write_text(init)
        init_path.chmod(0o755)
        subprocess.run(["mksquashfs", str(root), str(tmp / "rootfs.squashfs"), *MKSQUASHFS],
                       check=True)
        shutil.rmtree(unpacked)
        shutil.rmtree(root)
    return image


def run_dir(image_dir: Path, dest: Path, arch: str = "x86_64", kernel: str = "bzImage",
            root: Path | None = None, firmware: bool = True) -> Path:
    """A directory QEMU can boot with the image's own run-qemu.sh: the image's kernel and
    model disk (linked), the baseline root (or `root`); returns the run-qemu.sh there.

    firmware: where the image boots through its boot loader (U-Boot and system.img, the
    A/B slots), the baseline does too, from a system disk of its own with the same
    kernel and the baseline root in slot A: the same machine, only the root differs.
    False boots the baseline with QEMU's -kernel (the comparison before the A/B slots)."""
    dest.mkdir(parents=True, exist_ok=True)
    root = root or rootfs(arch)
    for name, src in ((kernel, image_dir / kernel), ("model.squashfs", image_dir / "model.squashfs"),
                      ("rootfs.squashfs", root)):
        _link(dest / name, src)
    for name in ("u-boot.rom", "u-boot.bin", "system.img"):
        if (dest / name).is_symlink() or (dest / name).exists():
            (dest / name).unlink()
    rom = next((image_dir / n for n in ("u-boot.rom", "u-boot.bin") if (image_dir / n).exists()), None)
    if firmware and rom is not None and (image_dir / "system.img").exists():
        from mkimage import sysdisk, targets
        _link(dest / rom.name, rom)
        sysdisk.build(targets.get(_target_of(image_dir)), image_dir / kernel, root,
                      dest / "system.img", "baseline")
    script = dest / "run-qemu.sh"
    shutil.copy2(image_dir / "run-qemu.sh", script)
    return script


def _link(link: Path, src: Path) -> None:
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.realpath(src))


def _target_of(image_dir: Path) -> str:
    """The target an image directory was built for (images/<target>/manifest.json)."""
    import json
    try:
        return json.loads((image_dir / "manifest.json").read_text())["target"]
    except (OSError, KeyError, ValueError):
        return image_dir.name
