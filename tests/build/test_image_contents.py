"""What the built image holds: python runs, no shell, no coreutils, the pinned model."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mkimage import cache, rootfs, targets
from mkimage.pins import pins
from qemu_harness import image_dir, selected_target

TARGET = targets.get(selected_target())
IMG = image_dir(TARGET.name)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    if not (IMG / "rootfs.squashfs").exists():
        pytest.fail("image not built: run `make image`")
    d = tmp_path_factory.mktemp("root") / "r"
    subprocess.run(["unsquashfs", "-q", "-n", "-d", str(d), str(IMG / "rootfs.squashfs")],
                   check=True, stdout=subprocess.DEVNULL)
    return d


def test_no_shell_and_no_coreutils(root):
    for name in ("sh", "bash", "dash", "busybox", "ls", "cat", "rm", "cp", "mv", "mount", "env"):
        for d in ("bin", "sbin", "usr/bin", "usr/sbin"):
            p = root / d / name
            assert not (p.exists() or p.is_symlink()), f"/{d}/{name} is in the image"
    assert sorted(os.listdir(root / "usr/bin")) == ["python3", "python3.11"]
    assert os.listdir(root / "sbin") == ["init"]


def test_init_is_ours_and_executable(root):
    init = root / "sbin/init"
    assert os.access(init, os.X_OK)
    assert init.read_text().startswith("#!/usr/bin/python3.11")
    assert "llmos_init.boot" in init.read_text()


def test_stdlib_is_trimmed(root):
    lib = root / "usr/lib/python3.11"
    for gone in ("test", "idlelib", "tkinter", "ensurepip", "lib2to3", "turtledemo"):
        assert not (lib / gone).exists(), gone
    assert not list((root / "usr/lib/python3/dist-packages/numpy").rglob("tests"))


def test_only_the_library_closure_is_shipped(root):
    """Every shared library in /usr/lib/<triplet> is needed by some ELF file in the image."""
    manifest = json.loads((IMG / "manifest.json").read_text())
    listed = cache.cache_root() / "rootfs" / manifest["rootfs"]["cache"] / "libraries.txt"
    if not listed.exists():
        pytest.skip(f"the build cache entry of this root image is gone ({listed})")
    needed = set(listed.read_text().split())
    shipped = set(os.listdir(root / "usr/lib" / TARGET.triplet))
    assert shipped <= needed, f"shipped but needed by nothing: {sorted(shipped - needed)}"
    assert "libpython3.11.so.1.0" not in shipped  # python3.11 is statically linked to libpython


def test_python_in_the_image_runs_and_imports_everything(root):
    """chroot into the unpacked root and run its own python3.11 (as root on the host)."""
    if os.geteuid() != 0:
        pytest.skip("chroot needs root")
    if TARGET.arch != os.uname().machine:
        pytest.skip(f"a {TARGET.arch} root cannot run on this {os.uname().machine} host")
    code = ("import sys, numpy, llama_cpp, llmos_init, llmos_init.sys.system as s; "
            "print(sys.version_info[:2], llama_cpp.__version__, s.sysinfo().total_ram > 0)")
    r = subprocess.run(["chroot", str(root), "/usr/bin/python3.11", "-IXutf8", "-c", code],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["(3,", "11)", pins()["llama_cpp_python"]["version"], "True"]


def test_python_modules_are_byte_compiled(root):
    pyc = list((root / "usr/lib/python3/dist-packages/llmos_init").rglob("*.pyc"))
    assert pyc, "llmos_init is not byte-compiled"


def test_model_partition_holds_the_pinned_model(tmp_path):
    d = tmp_path / "m"
    subprocess.run(["unsquashfs", "-q", "-n", "-d", str(d), str(IMG / "model.squashfs")],
                   check=True, stdout=subprocess.DEVNULL)
    ggufs = list(d.glob("*.gguf"))
    assert len(ggufs) == 1
    manifest = json.loads((IMG / "manifest.json").read_text())
    assert cache.file_digest(ggufs[0]) == manifest["model"]["sha256"]
    if manifest["model"]["file"] == Path(pins()["model"]["smollm2"]["member"]).name:
        assert manifest["model"]["sha256"] == pins()["model"]["smollm2"]["gguf_sha256"]


def test_run_script_finds_its_files_next_to_itself(tmp_path):
    """A copy of the folder elsewhere still resolves its files (checked without booting)."""
    text = (IMG / "run-qemu.sh").read_text()
    assert 'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"' in text
    assert "-accel \"$ACCEL\"" in text and "virtio-rng" in text
    subprocess.run(["bash", "-n", str(IMG / "run-qemu.sh")], check=True)
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "run-qemu.sh").write_text(text)
    (moved / "run-qemu.sh").chmod(0o755)
    r = subprocess.run([str(moved / "run-qemu.sh")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and f"missing {moved}/" in r.stderr


def test_packages_list_has_no_shell():
    assert not {"bash", "dash", "busybox", "coreutils"} & set(rootfs.PACKAGES)
