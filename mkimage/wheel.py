"""Builds the llama-cpp-python wheel once per architecture from its PyPI sdist.

The same wheel is installed in the host venv and unpacked into the image, so host tests
and the guest run the very same libllama/libggml.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from . import cache
from .pins import pins


def cmake_args(arch: str) -> list[str]:
    p = pins()["llama_cpp_python"]["cmake_args"]
    return p["common"] + p[arch]


def build(arch: str = "x86_64", toolchain_env: dict | None = None) -> Path:
    p = pins()["llama_cpp_python"]
    args = cmake_args(arch)
    if toolchain_env is None:
        from . import cross
        toolchain_env = cross.wheel_env(arch)  # {} on a host of that arch
    k = cache.key(p["version"], p["sdist_sha256"], args, arch, toolchain_env or {})
    out = cache.entry("wheel", f"{arch}-{k}")
    if not cache.is_done(out):
        from . import pypi
        sdist = pypi.fetch("llama-cpp-python", p["version"], p["sdist_sha256"], sdist=True)
        with cache.building("wheel", f"{arch}-{k}") as tmp:
            cache.log(f"building llama-cpp-python {p['version']} for {arch} (several minutes)")
            env = dict(os.environ, CMAKE_ARGS=" ".join(args),
                       CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2))
            env.update(toolchain_env or {})
            subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp), str(sdist)],
                           check=True, env=env)
    wheels = sorted(out.glob("llama_cpp_python-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"mkimage: no llama-cpp-python wheel in {out}")
    return wheels[0]


if __name__ == "__main__":
    print(build(sys.argv[1] if len(sys.argv) > 1 else "x86_64"))


VENDOR = "vendor/llama.cpp"


def extract_vendor(sdist: Path, dest: Path) -> None:
    """Unpack only <top>/vendor/llama.cpp of the llama-cpp-python sdist into dest."""
    import tarfile
    with tarfile.open(sdist) as tf:
        members = []
        for m in tf.getmembers():
            top, _, rest = m.name.partition("/")
            if rest == VENDOR or rest.startswith(VENDOR + "/"):
                m.name = rest[len(VENDOR):].lstrip("/") or "."
                members.append(m)
        if not members:
            raise SystemExit(f"mkimage: {sdist.name} has no {VENDOR}")
        dest.mkdir(parents=True)
        tf.extractall(dest, members=members, filter="data")


def build_vendored(tmp: Path, args: list[str], target: str, jobs: int | None = None,
                   quiet: bool = False) -> Path:
    """Configure the pinned sdist's vendored llama.cpp in tmp/build with `args` and build one
    CMake `target` (or several, space-separated) there (the source, tmp/src, is removed
    afterwards); returns tmp/build."""
    import shutil

    from . import pypi
    p = pins()["llama_cpp_python"]
    sdist = pypi.fetch("llama-cpp-python", p["version"], p["sdist_sha256"], sdist=True)
    src, bld = tmp / "src", tmp / "build"
    extract_vendor(sdist, src)
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(["cmake", "-S", str(src), "-B", str(bld), *gen, *args],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(bld), "--target", *target.split(),
                    "-j", str(jobs or os.cpu_count() or 2)], check=True,
                   stdout=subprocess.DEVNULL if quiet else None)
    shutil.rmtree(src)
    return bld
