"""Puts the pieces together into images/<target>/.

  <kernel>          bzImage / Image (kernel.py)
  rootfs.squashfs   the read-only root, uncompressed (rootfs.py; shared.toml says why)
  model.squashfs    the model on its own read-only partition, uncompressed: llama.cpp
                    mmaps it straight from the page cache, without the zstd
                    decompression that costs seconds under TCG, and MODEL= swaps it
                    without rebuilding the root
  data.ext4         the writable data partition; created only when missing, never
                    overwritten (it holds the user's files)
  system.img        (targets booted by U-Boot: x86_64, aarch64-virt) the system disk: boot.scr, the
                    boot state and two slots of kernel + root, slot A this build's
                    (sysdisk.py); rewritten when the kernel, root or boot script change,
                    which also forgets an update installed in it
  u-boot.rom        (the same targets) QEMU's -bios, the architecture's U-Boot (uboot.py)
  run-qemu.sh       the QEMU command line
  manifest.json     sizes, versions, cache keys
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from llmos_init import __version__ as llmos_version

from . import cache, ggml_portable, kernel, model, pypi, rootfs, sysdisk, uboot, wheel
from .pins import pins
from .shared import qemu_table, shared, write_run_script
from .targets import REPO, Target

# The literals the Buildroot tree shares (mkimage/shared.toml, read by both builds).
DATA_SIZE_MB = shared()["data"]["size_mb"]
# arch -> (QEMU binary, machine, CPU under TCG): shared.toml [qemu] says why these CPUs.
QEMU = qemu_table()
# The version an image says it is (/etc/llmos/release) unless VERSION= / --version says
# another; `make update VERSION=...` builds the bundle's root with that version.
DEFAULT_VERSION = os.environ.get("LLMOS_VERSION") or llmos_version


def source_files() -> list[Path]:
    """Every repository file that ends up in the root image (its cache key)."""
    files = [REPO / "init/llmos-init"]
    for top in ("llmos_init", "rootfs", "mkimage"):
        files += sorted(p for p in (REPO / top).rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith("_llmos_sys"))
    return files


def pure_wheels() -> list[Path]:
    """The pinned pure-Python wheels (pins.toml [pure_wheels]), fetched from PyPI."""
    return [pypi.fetch(name, p["version"], p["wheel_sha256"], sdist=False)
            for name, p in sorted(pins()["pure_wheels"].items())]


def release_texts(target: Target, version: str | None = None) -> dict[str, str]:
    """/etc/llmos/release (the version and target updates check) and the public key of
    the update signing key (mkimage/bundle.py: made on first use, outside the repo)."""
    from llmos_init.update.bundle import PUBLIC_KEY, RELEASE, release_text

    from . import keys
    return {RELEASE: release_text(version or DEFAULT_VERSION, target.name),
            PUBLIC_KEY: keys.public_key_hex() + "\n"}


def build_rootfs(target: Target, whl: Path, version: str | None = None) -> Path:
    files = source_files()
    portable = ggml_portable.build(target.arch)
    extra = {f"{ggml_portable.GUEST_DIR}/{ggml_portable.LIB}": portable} if portable else {}
    pure = pure_wheels()
    texts = release_texts(target, version)
    k = cache.key(target.name, whl.name, cache.file_digest(whl), [p.name for p in pure],
                  rootfs.pool_for(target).name, [str(p.relative_to(REPO)) for p in files], files,
                  sorted((g, cache.file_digest(h)) for g, h in extra.items()), texts)
    out = cache.entry("rootfs", f"{target.name}-{k}")
    if not cache.is_done(out):
        with cache.building("rootfs", f"{target.name}-{k}") as tmp:
            root = tmp / "root"
            cache.log("assembling the root filesystem")
            libs = rootfs.assemble(target, whl, root, extra, pure, texts)
            (tmp / "libraries.txt").write_text("".join(f"{s}\n" for s in sorted(libs)))
            # uncompressed (shared.toml says why)
            cache.log("making rootfs.squashfs (uncompressed)")
            subprocess.run(["mksquashfs", str(root), str(tmp / "rootfs.squashfs"),
                            *shared()["rootfs"]["mksquashfs_options"],
                            "-processors", str(os.cpu_count() or 2)], check=True)
            shutil.rmtree(root)
    return out / "rootfs.squashfs"


def build_model_image(gguf: Path, digest: str) -> Path:
    """model.squashfs: the GGUF plus the planner's precomputed prompt state.

    The planner's fixed prompt prefix is evaluated here, once, on the host, with the same
    llama.cpp build the image runs; the guest restores that KV state instead of spending
    minutes of emulated CPU on it at every boot (it verifies the state and recomputes
    when it does not match).
    """
    import llama_cpp

    from llmos_init.planner.runtime import build_prefix_state, prefix_text
    k = cache.key(gguf.name, digest, llama_cpp.__version__,
                  hashlib.sha256(prefix_text().encode()).hexdigest())
    out = cache.entry("model-image", k)
    if not cache.is_done(out):
        with cache.building("model-image", k) as tmp:
            src = tmp / "src"
            src.mkdir()
            os.link(gguf, src / gguf.name) if gguf.stat().st_dev == src.stat().st_dev \
                else shutil.copy2(gguf, src / gguf.name)
            cache.log(f"precomputing the planner's prompt state for {gguf.name}")
            written = build_prefix_state(str(gguf), str(src))
            cache.log(f"making model.squashfs from {gguf.name} + {len(written)} state file(s), uncompressed")
            subprocess.run(["mksquashfs", str(src), str(tmp / "model.squashfs"),
                            *shared()["model_image"]["mksquashfs_options"]], check=True)
            shutil.rmtree(src)
    return out / "model.squashfs"


def make_data_image(path: Path, size_mb: int = DATA_SIZE_MB, files: dict[str, Path] | None = None) -> None:
    """A new data partition image; `files` = {name: host file} put at its top (tests)."""
    with tempfile.TemporaryDirectory() as d:
        for sub in shared()["data"]["dirs"]:
            os.mkdir(os.path.join(d, sub))
        for name, src in (files or {}).items():
            shutil.copyfile(src, os.path.join(d, name))
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            f.truncate(size_mb << 20)
        subprocess.run([*shared()["data"]["mkfs_ext4"], d, str(tmp)], check=True)
        tmp.replace(path)


def _install(src: Path, dest: Path) -> None:
    """Copy src to dest unless dest is already that file (same size and mtime)."""
    if dest.exists() and dest.stat().st_size == src.stat().st_size and \
            int(dest.stat().st_mtime) == int(src.stat().st_mtime):
        return
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.copy2(src, tmp)
    tmp.replace(dest)


def _old_manifest(dest: Path) -> dict:
    try:
        return json.loads((dest / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}


def build(target: Target, model_path: str | None = None, out: str | None = None,
          version: str | None = None) -> Path:
    """A QEMU target's images (a board's SD card is mkimage/sdcard.py's, built from these)."""
    if target.base:
        raise ValueError(f"{target.name} is a board: its image is mkimage.sdcard.build's")
    from . import cross
    cross.ensure(target.arch)
    t0 = time.monotonic()
    dest = Path(out) if out else REPO / "images" / target.name
    dest.mkdir(parents=True, exist_ok=True)
    kdir = kernel.build(target)
    whl = wheel.build(target.arch)
    gguf = model.resolve(model_path)
    version = version or DEFAULT_VERSION
    root_img = build_rootfs(target, whl, version)
    gguf_sha256 = cache.file_digest(gguf)
    model_img = build_model_image(gguf, gguf_sha256)
    _install(kdir / target.kernel_image, dest / target.kernel_image)
    _install(root_img, dest / "rootfs.squashfs")
    _install(model_img, dest / "model.squashfs")
    if not (dest / "data.ext4").exists():
        cache.log("making data.ext4 (new, empty)")
        make_data_image(dest / "data.ext4")
    system = None
    if target.boot == "uboot":
        uboot.rom(dest / "u-boot.rom", target.arch)
        # what slot A holds: the kernel and root cache entries and the boot script
        system = {"kernel": kdir.name, "rootfs": root_img.parent.name, "version": version,
                  "script": uboot.boot_script_text(sysdisk.script_values(target)),
                  "layout": sysdisk.layout()}
        old = _old_manifest(dest).get("system", {})
        if not (dest / "system.img").exists() or {k: old.get(k) for k in system} != \
                json.loads(json.dumps(system)):
            cache.log("making system.img (boot.scr, boot state slot=a, slot A = this build)")
            sysdisk.build(target, dest / target.kernel_image, dest / "rootfs.squashfs",
                          dest / "system.img", version)
        system["bytes"] = (dest / "system.img").stat().st_size
    write_run_script(target, dest / "run-qemu.sh")
    manifest = {
        "target": target.name,
        "kernel": {"file": target.kernel_image, "bytes": (dest / target.kernel_image).stat().st_size,
                   "build_seconds": float((kdir / "build-seconds").read_text() or 0),
                   "cache": kdir.name},
        "rootfs": {"bytes": (dest / "rootfs.squashfs").stat().st_size, "cache": root_img.parent.name},
        "model": {"file": gguf.name, "sha256": gguf_sha256,
                  "bytes": (dest / "model.squashfs").stat().st_size},
        "data": {"bytes": (dest / "data.ext4").stat().st_size},
        "wheel": whl.name,
    }
    if system is not None:
        manifest["system"] = system
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    cache.log(f"images/{target.name} ready in {time.monotonic() - t0:.1f}s: " + ", ".join(
        f"{k} {v['bytes'] / 1e6:.1f} MB" for k, v in manifest.items() if isinstance(v, dict)))
    return dest
