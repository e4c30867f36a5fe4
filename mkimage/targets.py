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

    @property
    def fragment_paths(self) -> list[Path]:
        return [KCONFIG_DIR / f for f in self.fragments]

    @property
    def triplet(self) -> str:
        return f"{self.arch}-linux-gnu"


TARGETS = {t.name: t for t in [
    Target("x86_64", "x86_64", "amd64", "x86_64", "bzImage",
           ("common.config", "x86_64-qemu.config"), "", "ttyS0", "/dev/vd"),
]}


def get(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise SystemExit(f"mkimage: unknown target {name!r} (known: {', '.join(TARGETS)})") from None
