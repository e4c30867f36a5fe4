"""The aarch64 targets: one kernel for virt and the Pi, cross toolchain settings, and the
built aarch64 root (checked when images/aarch64-virt exists)."""
from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from mkimage import cross, kernel, targets, wheel
from mkimage.pins import pins
from mkimage.targets import REPO

VIRT = targets.get("aarch64-virt")
RPI4 = targets.get("rpi4")


def test_the_pi_uses_the_kernel_tested_under_qemu():
    assert RPI4.base == VIRT.name
    for field in ("arch", "deb_arch", "kernel_arch", "kernel_image", "fragments", "cross_compile"):
        assert getattr(RPI4, field) == getattr(VIRT, field), field
    assert all(p.exists() for p in VIRT.fragment_paths)


def test_arm64_fragments_ask_for_the_console_disks_and_the_pi_hardware():
    opts = kernel.requested_options(VIRT.fragment_paths)
    virt = ["CONFIG_SERIAL_AMBA_PL011_CONSOLE", "CONFIG_PCI_HOST_GENERIC", "CONFIG_VIRTIO_PCI",
            "CONFIG_VIRTIO_BLK", "CONFIG_VIRTIO_NET", "CONFIG_HW_RANDOM_VIRTIO", "CONFIG_RTC_DRV_PL031",
            "CONFIG_I6300ESB_WDT"]
    pi = ["CONFIG_ARCH_BCM2835", "CONFIG_MMC_SDHCI_IPROC", "CONFIG_MMC_BLOCK",
          "CONFIG_SERIAL_8250_BCM2835AUX", "CONFIG_SERIAL_8250_CONSOLE", "CONFIG_RASPBERRYPI_FIRMWARE",
          "CONFIG_GPIO_RASPBERRYPI_EXP", "CONFIG_REGULATOR_GPIO", "CONFIG_BCM2835_WDT",
          "CONFIG_USB_XHCI_PCI", "CONFIG_USB_HID"]
    common = ["CONFIG_SQUASHFS_ZSTD", "CONFIG_SQUASHFS_LZ4", "CONFIG_EXT4_FS", "CONFIG_DEVTMPFS", "CONFIG_VFAT_FS"]
    for name in virt + pi + common:
        assert opts.get(name) == "y", name
    # arm64 has no EARLY_PRINTK: asking for it would fail the build's option check
    assert opts.get("CONFIG_EARLY_PRINTK") == "n"


def test_the_pi_fragment_asks_for_genet_ethernet_and_its_chain():
    """The Pi 4's Ethernet: GENET v5 with its UniMAC MDIO bus and BCM54213PE PHY, and what
    linux 6.1's Kconfig puts in front of them (tinyconfig leaves the ETHERNET menu off;
    NET_VENDOR_BROADCOM depends on PCI or SSB). All in rpi4.config, the Pi's own fragment;
    PCI comes from the virt fragment merged before it (one kernel for both)."""
    pi = kernel.requested_options([REPO / "kernel-config" / "rpi4.config"])
    for name in ("CONFIG_ETHERNET", "CONFIG_NET_VENDOR_BROADCOM", "CONFIG_BCMGENET",
                 "CONFIG_PHYLIB", "CONFIG_MDIO_BCM_UNIMAC", "CONFIG_BROADCOM_PHY"):
        assert pi.get(name) == "y", name
    merged = kernel.requested_options(VIRT.fragment_paths)
    assert merged.get("CONFIG_PCI") == "y" and merged.get("CONFIG_ARCH_BCM2835") == "y"
    assert merged.get("CONFIG_NETDEVICES") == "y" and merged.get("CONFIG_NET_CORE") == "y"
    # PTP off: BCMGENET and BROADCOM_PHY depend on PTP_1588_CLOCK_OPTIONAL, true only then
    # (or with PTP built in); a PTP module would drop them
    assert merged.get("CONFIG_PTP_1588_CLOCK", "n") in ("n", "y")


def test_consoles_match_the_hardware():
    assert VIRT.console == "ttyAMA0"        # QEMU virt's PL011
    assert RPI4.console == "ttyS1"          # mini-UART on GPIO 14/15: serial1 in bcm283x.dtsi
    assert RPI4.disk_prefix == "/dev/mmcblk0p"
    assert "broadcom/bcm2711-rpi-4-b.dtb" in RPI4.dtbs


def test_toolchain_file_and_wheel_environment():
    tc = cross.toolchain("aarch64")
    text = cross.cmake_toolchain_text(tc)
    for line in ("set(CMAKE_SYSTEM_NAME Linux)", "set(CMAKE_SYSTEM_PROCESSOR aarch64)",
                 "set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)",
                 "set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)"):
        assert line in text
    assert cross.wheel_env(cross.host_arch()) == {}      # native: nothing changes
    with pytest.raises(SystemExit, match="no cross toolchain known for riscv64"):
        cross.toolchain("riscv64")


def test_aarch64_llama_flags_are_portable_to_cortex_a72_and_exist_in_the_vendored_ggml():
    args = wheel.cmake_args("aarch64")
    assert "-DGGML_NATIVE=OFF" in args
    assert "-DGGML_CPU_ARM_ARCH=armv8-a" in args          # A72 = ARMv8.0-A + NEON, no dotprod
    assert not [a for a in args if "native" in a.lower() and a != "-DGGML_NATIVE=OFF"]
    sdists = list((Path(os.environ.get("LLMOS_CACHE") or Path.home() / ".cache/llmos")
                   / "pypi").glob("llama-cpp-python-*-sdist/*.tar.gz"))
    if not sdists:
        pytest.skip("llama-cpp-python sdist not downloaded yet")
    with tarfile.open(sdists[0]) as tf:
        m = next(n for n in tf.getnames() if n.endswith("ggml/src/ggml-cpu/CMakeLists.txt"))
        cm = tf.extractfile(m).read().decode()
    assert "GGML_CPU_ARM_ARCH" in cm and "-march=${GGML_CPU_ARM_ARCH}" in cm
    assert pins()["llama_cpp_python"]["version"] in sdists[0].name


ROOT_IMG = REPO / "images" / VIRT.name / "rootfs.squashfs"


@pytest.fixture(scope="module")
def arm_root(tmp_path_factory) -> Path:
    if not ROOT_IMG.exists():
        if os.environ.get("LLMOS_TARGET") in (VIRT.name, RPI4.name):
            pytest.fail(f"{ROOT_IMG} not built: run `make image TARGET={VIRT.name}`")
        pytest.skip(f"{ROOT_IMG} not built")
    d = tmp_path_factory.mktemp("armroot") / "r"
    subprocess.run(["unsquashfs", "-q", "-n", "-d", str(d), str(ROOT_IMG)], check=True,
                   stdout=subprocess.DEVNULL)
    return d


def test_every_elf_in_the_aarch64_root_is_aarch64(arm_root):
    from mkimage import closure
    elves = [p for p in arm_root.rglob("*") if p.is_file() and not p.is_symlink() and closure.is_elf(p)]
    names = {p.name for p in elves}
    assert "python3.11" in names
    assert any(n.startswith("_llmos_sys.cpython-311-aarch64-linux-gnu") for n in names)
    assert any(n.startswith("libllama") for n in names)
    assert {closure.read_deps(p).machine for p in elves} == {"EM_AARCH64"}
    assert (arm_root / "usr/lib/ld-linux-aarch64.so.1").exists()
    assert not (arm_root / "bin/sh").exists()
