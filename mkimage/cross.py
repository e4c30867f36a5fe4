"""The cross toolchain: building another architecture's kernel, wheel and C extension.

On an x86_64 host an aarch64 target is built with Debian's crossbuild-essential-arm64
(aarch64-linux-gnu-gcc/g++), installed with apt-get only when it is missing.  On an
aarch64 host the same triplet-prefixed names are Debian's native compilers, so nothing
is cross-compiled and nothing extra is installed.

Three consumers:
  kernel.py   make CROSS_COMPILE=<prefix>            (the Target row's cross_compile)
  wheel.py    wheel_env(): a CMake toolchain file and the wheel's platform tag
  rootfs.py   python_includes(): the target's own Python headers for the cffi module
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import cache, debian


@dataclass(frozen=True)
class Toolchain:
    arch: str          # ELF / Python arch: aarch64
    deb_arch: str      # Debian architecture: arm64
    package: str       # Debian package that installs the cross compilers
    prefix: str        # compiler name prefix (CROSS_COMPILE=)
    platform: str      # sysconfig platform of the target: the wheel's platform tag

    @property
    def gcc(self) -> str:
        return self.prefix + "gcc"

    @property
    def gxx(self) -> str:
        return self.prefix + "g++"


TOOLCHAINS = {
    "aarch64": Toolchain("aarch64", "arm64", "crossbuild-essential-arm64",
                         "aarch64-linux-gnu-", "linux-aarch64"),
}
PYTHON_DEV = "libpython3.11-dev"


def host_arch() -> str:
    return os.uname().machine


def is_cross(arch: str) -> bool:
    return arch != host_arch()


def toolchain(arch: str) -> Toolchain:
    try:
        return TOOLCHAINS[arch]
    except KeyError:
        raise SystemExit(f"mkimage: no cross toolchain known for {arch} "
                         f"(known: {', '.join(TOOLCHAINS)}); build it on a {arch} host") from None


def _apt_install(packages: list[str]) -> None:
    if not shutil.which("apt-get"):
        raise SystemExit(f"mkimage: {' '.join(packages)} missing and no apt-get to install it")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    cache.log(f"installing {' '.join(packages)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends",
                       *packages], env=env).returncode:
        # the package lists may be stale or absent (a fresh container): refresh, retry once
        subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, check=True)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends",
                        *packages], env=env, check=True)


def ensure(arch: str) -> Toolchain | None:
    """Make sure <arch>'s compilers exist on this host; None when building natively."""
    if not is_cross(arch):
        return None
    tc = toolchain(arch)
    if not (shutil.which(tc.gcc) and shutil.which(tc.gxx)):
        _apt_install([tc.package])
        if not (shutil.which(tc.gcc) and shutil.which(tc.gxx)):
            raise SystemExit(f"mkimage: {tc.package} installed but {tc.gcc}/{tc.gxx} not found")
    return tc


def compiler_version(tc: Toolchain) -> str:
    return subprocess.run([tc.gcc, "-dumpfullversion"], capture_output=True, text=True,
                          check=True).stdout.strip()


def cmake_toolchain_text(tc: Toolchain) -> str:
    sysroot = f"/usr/{tc.prefix.rstrip('-')}"
    return "\n".join([
        f"# CMake toolchain for {tc.arch} (written by mkimage/cross.py)",
        "set(CMAKE_SYSTEM_NAME Linux)",
        f"set(CMAKE_SYSTEM_PROCESSOR {tc.arch})",
        f"set(CMAKE_C_COMPILER {tc.gcc})",
        f"set(CMAKE_CXX_COMPILER {tc.gxx})",
        f"set(CMAKE_FIND_ROOT_PATH {sysroot})",
        "set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)",
        "set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)",
        "set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)",
        "set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)",
        "",
    ])


def cmake_toolchain_file(tc: Toolchain) -> Path:
    """The toolchain file, stored in the cache under a name that is its content's hash."""
    text = cmake_toolchain_text(tc)
    k = cache.key(text)
    out = cache.entry("cross", f"{tc.arch}-{k}")
    if not cache.is_done(out):
        with cache.building("cross", f"{tc.arch}-{k}") as tmp:
            (tmp / "toolchain.cmake").write_text(text)
    return out / "toolchain.cmake"


def wheel_env(arch: str) -> dict[str, str]:
    """Environment for `pip wheel` building llama-cpp-python for `arch` ({} when native).

    CMake (>= 3.21) reads CMAKE_TOOLCHAIN_FILE from the environment; sysconfig, and with
    it the wheel's platform tag, honours _PYTHON_HOST_PLATFORM.  The compiler version is
    part of the environment so that it is part of the wheel's cache key.
    """
    tc = ensure(arch)
    if tc is None:
        return {}
    return {"CMAKE_TOOLCHAIN_FILE": str(cmake_toolchain_file(tc)),
            "_PYTHON_HOST_PLATFORM": tc.platform,
            "LLMOS_CROSS_GCC": f"{tc.gcc} {compiler_version(tc)}"}


def python_includes(deb_arch: str) -> list[Path]:
    """Include directories holding the target's Python.h and its own pyconfig.h.

    Debian's /usr/include/python3.11/pyconfig.h includes <TRIPLET/python3.11/pyconfig.h>,
    so both the python3.11 directory and the include root are returned.
    """
    deb = debian.download([PYTHON_DEV], deb_arch)[PYTHON_DEV]
    k = cache.key(deb.name, cache.file_digest(deb))
    out = cache.entry("pyinclude", f"{deb_arch}-{k}")
    if not cache.is_done(out):
        with cache.building("pyinclude", f"{deb_arch}-{k}") as tmp:
            debian.unpack([deb], tmp)
    inc = out / "usr/include"
    if not (inc / "python3.11/Python.h").exists():
        raise SystemExit(f"mkimage: {deb.name} holds no python3.11/Python.h")
    return [inc / "python3.11", inc]
