"""Fixtures for QEMU integration tests: a built image, a fresh data disk, a booted guest."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mkimage import targets
from mkimage.image import QEMU, make_data_image
from qemu_harness import TARGET, Guest, image_dir


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/qemu/" in str(item.fspath):
            item.add_marker(pytest.mark.qemu)


@pytest.fixture(scope="session")
def image() -> Path:
    d = image_dir()
    t = targets.get(TARGET)
    missing = [f for f in (t.kernel_image, "rootfs.squashfs", "model.squashfs", "run-qemu.sh")
               if not (d / f).exists()]
    if missing:
        pytest.fail(f"image not built ({', '.join(missing)} missing in {d}): "
                    f"run `make image TARGET={TARGET}`")
    qemu = QEMU[t.arch][0]
    if not shutil.which(qemu):
        pytest.fail(f"{qemu} missing: run `make deps TARGET={TARGET}`")
    return d


@pytest.fixture
def data_disk(tmp_path) -> Path:
    p = tmp_path / "data.ext4"
    make_data_image(p, 64)
    return p


@pytest.fixture
def guest_factory(image, tmp_path):
    guests: list[Guest] = []

    def make(data: Path, **kw) -> Guest:
        wd = tmp_path / f"guest{len(guests)}"
        wd.mkdir()
        g = Guest(wd, data, **kw)
        guests.append(g)
        return g

    yield make
    for g in guests:
        g.kill()


@pytest.fixture(scope="module")
def booted(image, tmp_path_factory):
    """One guest booted for a whole test module (booting under TCG takes a while)."""
    wd = tmp_path_factory.mktemp("guest")
    data = wd / "data.ext4"
    make_data_image(data, 64)
    g = Guest(wd, data)
    g.boot_seconds = g.boot()
    yield g
    g.kill()
