"""A second ggml CPU backend for x86_64 images, built without AVX (SSE only), installed at
/usr/lib/llmos/ggml-portable/libggml-cpu.so.0 beside the wheel's AVX2 one.

Why: the wheel's backend needs AVX2/FMA/F16C (a CPU without them gets SIGILL), and QEMU's
TCG emulates AVX2 so slowly that the SSE-only code is about 7x faster in a TCG guest
(llama-bench in the guest, SmolLM2 Q4_1: pp8 1.25 vs 0.175 t/s, tg2 0.89 vs 0.135 t/s;
on real AVX2 hardware it is 7-10x slower instead). The planner's runtime preloads it
(llmos_init/planner/cpuvariant.py) when /proc/cpuinfo lacks avx2, fma or f16c: the
wheel's libggml.so then binds to it, as its DT_NEEDED name is the already loaded SONAME.

Built from the very llama.cpp the sdist vendors, with the wheel's CMake arguments minus
the AVX ones, target ggml-cpu only (under a minute on 2 cores); cached under
<cache>/ggml-portable/<key>. Other architectures have no such variant (None).
"""
from __future__ import annotations

import platform
import shutil
from pathlib import Path

from . import cache
from .pins import pins
from .shared import shared
from .wheel import build_vendored, cmake_args

STEP = "ggml-portable"
LIB = "libggml-cpu.so.0"
GUEST_DIR = "/usr/lib/llmos/ggml-portable"
# the arguments added, and the prefixes of the wheel's arguments that are dropped
# (mkimage/shared.toml [ggml_portable]: the Buildroot tree builds the same backend)
NO_AVX = shared()["ggml_portable"]["no_avx"]
DROP = tuple(shared()["ggml_portable"]["drop"])


def configure_args() -> list[str]:
    return [a for a in cmake_args("x86_64") if not a.startswith(DROP)] + NO_AVX


def build(arch: str) -> Path | None:
    """The cached portable libggml-cpu.so.0 for an x86_64 image (None for others, and on
    a host that is not x86_64: it is built natively)."""
    if arch != "x86_64":
        return None
    if platform.machine() != "x86_64":
        cache.log("no portable ggml backend: it is built natively on an x86_64 host only")
        return None
    p = pins()["llama_cpp_python"]
    k = cache.key(STEP, p["version"], p["sdist_sha256"], configure_args())
    out = cache.entry(STEP, f"{arch}-{k}")
    lib = out / LIB
    if cache.is_done(out) and lib.exists():
        return lib
    with cache.building(STEP, out.name) as tmp:
        if cache.is_done(out) and lib.exists():
            return lib
        cache.log("building the portable (SSE-only) ggml CPU backend")
        bld = build_vendored(tmp, configure_args(), "ggml-cpu", quiet=True)
        built = next((q for q in bld.rglob(LIB)), None)
        if built is None:
            raise SystemExit(f"mkimage: the ggml-cpu build made no {LIB}")
        shutil.copy2(built.resolve(), tmp / LIB)
        shutil.rmtree(bld)
    return lib
