"""`make update`: a signed update bundle (format: llmos_init/update/bundle.py).

    python -m mkimage.bundle --target x86_64 --version 1.2 [--out FILE]

builds the target's kernel and a root image whose /etc/llmos/release says VERSION (the
offline build, from the cache), and writes images/<target>/llmos-<VERSION>.bundle: the
manifest (version, target, sizes, sha256), its ed25519 signature, the kernel (for
--target rpi4: a slot's FAT boot partition with the firmware, device trees, kernel and
config.txt), the root.

The signing key: mkimage/keys.py (outside the repository, made on first use).
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import tarfile
import time
from pathlib import Path

from llmos_init.update.bundle import FORMAT, MANIFEST, SIGNATURE

from .cache import file_digest
from .keys import signing_key



def manifest_for(target: str, version: str, files: list[tuple[str, str, Path]]) -> dict:
    """files: (part, name in the bundle, file)."""
    return {"format": FORMAT, "version": version, "target": target,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": [{"name": name, "part": part, "bytes": p.stat().st_size, "sha256": file_digest(p)}
                      for part, name, p in files]}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def sign(manifest: dict, key=None) -> tuple[bytes, bytes]:
    """(the manifest's bytes, their ed25519 signature)."""
    key = key or signing_key()
    raw = json.dumps(manifest, indent=1, sort_keys=True).encode() + b"\n"
    return raw, key.sign(raw).signature


def write_bundle(out: Path, manifest: dict, files: list[tuple[str, Path]], key=None) -> Path:
    """The bundle file (atomically): manifest, signature, then files [(name, path)] in order."""
    raw, sig = sign(manifest, key)
    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as tar:
        _add_bytes(tar, MANIFEST, raw)
        _add_bytes(tar, SIGNATURE, sig)
        for name, p in files:
            info = tar.gettarinfo(str(p), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = 0o644
            with open(p, "rb") as f:
                tar.addfile(info, f)
    tmp.replace(out)
    return out


def make(target_name: str, version: str, out: Path | None = None,
         kernel: Path | None = None, rootfs: Path | None = None, key=None) -> Path:
    """A target's bundle: what one of its slots is made of (llmos_init/update/slots.py):
    kernel + root for U-Boot's system disk; for a board's card (rpi4) the slot's FAT boot
    partition (mkimage/sdcard.py, the same for either slot) + root, both its base target's."""
    import tempfile

    from . import targets
    t = targets.get(target_name)
    built = targets.get(t.base) if t.base else t
    if built.boot != "uboot":
        raise SystemExit(f"mkimage: {t.name} has no A/B slots")
    if kernel is None or rootfs is None:
        from . import image, wheel
        from . import kernel as kbuild
        kernel = kernel or kbuild.build(built) / built.kernel_image
        rootfs = rootfs or image.build_rootfs(built, wheel.build(built.arch), version=version)
    out = out or targets.REPO / "images" / t.name / f"llmos-{version}.bundle"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as d:
        if t.base:
            from . import kernel as kbuild
            from . import sdcard
            boot = sdcard.slot_boot_image(t, kernel, kbuild.build(built), sdcard.firmware_dir(),
                                          Path(d) / "boot.vfat", file_digest(rootfs)[:8])
            files = [("boot", "boot.vfat", boot), ("root", "rootfs.squashfs", rootfs)]
        else:
            files = [("kernel", t.kernel_image, kernel), ("root", "rootfs.squashfs", rootfs)]
        m = manifest_for(t.name, version, files)
        return write_bundle(out, m, [(name, p) for _, name, p in files], key)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mkimage.bundle")
    ap.add_argument("--target", default="x86_64")
    ap.add_argument("--version", required=True, help="the bundle's version (e.g. 1.2)")
    ap.add_argument("--out", type=Path, help="default images/<target>/llmos-<version>.bundle")
    ap.add_argument("--kernel", type=Path, help="a kernel file instead of the build's")
    ap.add_argument("--rootfs", type=Path, help="a root image instead of the build's")
    a = ap.parse_args(argv)
    out = make(a.target, a.version, a.out, a.kernel, a.rootfs)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
