"""The build targets: one table row per board, everything else is shared rules."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KCONFIG_DIR = REPO / "kernel-config"


@dataclass(frozen=True)
class Target:
    name: str            # images/<name>/
    arch: str            # python/ELF arch: x86_64 | aarch64
    deb_arch: str        # Debian architecture
    kernel_arch: str     # the kernel's ARCH=
    kernel_image: str    # make target and file under arch/<kernel_arch>/boot/
    fragments: tuple[str, ...]
    cross_compile: str   # CROSS_COMPILE= prefix ("" for native)
    console: str         # kernel console device
    disk_prefix: str     # block device prefix the guest sees for our images
    # A board booted from an SD card: the card is assembled (sdcard.py) from the images
    # of `base`, a QEMU target of the same architecture, so the kernel, root and model
    # tested under QEMU are byte for byte the ones on the card.
    base: str = ""
    dtbs: tuple[str, ...] = ()   # device trees for the boot partition (kernel dts/ paths)
    # How QEMU boots it: "uboot" = U-Boot (uboot.py) from system.img, which holds two root
    # slots (sysdisk.py, A/B updates); "direct" = QEMU's -kernel with rootfs.squashfs as
    # the one root disk (no slots, no updates in place).
    boot: str = "direct"
    # patches to the kernel source (kernel-config/patches/, `patch -p1`), applied to a
    # copy of the tree for this target's build only
    kernel_patches: tuple[str, ...] = ()

    @property
    def fragment_paths(self) -> list[Path]:
        return [KCONFIG_DIR / f for f in self.fragments]

    @property
    def kernel_patch_paths(self) -> list[Path]:
        return [KCONFIG_DIR / "patches" / p for p in self.kernel_patches]

    @property
    def triplet(self) -> str:
        return f"{self.arch}-linux-gnu"


ARM64_FRAGMENTS = ("common.config", "aarch64-virt.config", "rpi4.config")
# The Pi firmware's tryboot flag on `reboot "0 tryboot"` (the Raspberry Pi kernel's
# driver has it, mainline 6.1 does not): the A/B update's try (llmos_init/update/tryboot.py)
ARM64_PATCHES = ("rpi-firmware-tryboot.patch",)

TARGETS = {t.name: t for t in [
    Target("x86_64", "x86_64", "amd64", "x86_64", "bzImage",
           ("common.config", "x86_64-qemu.config"), "", "ttyS0", "/dev/vd", boot="uboot"),
    # One arm64 kernel for QEMU virt and the Pi 4: both fragments, built once.
    Target("aarch64-virt", "aarch64", "arm64", "arm64", "Image", ARM64_FRAGMENTS,
           "aarch64-linux-gnu-", "ttyAMA0", "/dev/vd", boot="uboot", kernel_patches=ARM64_PATCHES),
    # Pi 4 / Pi 400: console on the GPIO header's mini-UART (serial1 in the mainline
    # device tree -> ttyS1); the SD card is the only MMC block device -> mmcblk0.
    Target("rpi4", "aarch64", "arm64", "arm64", "Image", ARM64_FRAGMENTS,
           "aarch64-linux-gnu-", "ttyS1", "/dev/mmcblk0p", base="aarch64-virt",
           dtbs=("broadcom/bcm2711-rpi-4-b.dtb", "broadcom/bcm2711-rpi-400.dtb"),
           kernel_patches=ARM64_PATCHES),
]}


def get(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise SystemExit(f"mkimage: unknown target {name!r} (known: {', '.join(TARGETS)})") from None
