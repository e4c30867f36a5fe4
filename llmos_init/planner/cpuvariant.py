"""Which ggml CPU backend the model runs on: the wheel's (built for AVX2/FMA/F16C) or the
image's portable SSE-only one (/usr/lib/llmos/ggml-portable, mkimage/ggml_portable.py).

`preload()` runs before llama_cpp is imported. On an x86_64 CPU without avx2, fma or f16c
it loads the portable libggml-cpu.so.0 (after the wheel's libggml-base.so.0 it needs) with
RTLD_GLOBAL: when llama_cpp then loads the wheel's libggml.so, the dynamic loader binds its
DT_NEEDED libggml-cpu.so.0 to the library already loaded under that SONAME. Without a
portable backend such a CPU cannot run the model (SIGILL): preload raises instead, and the
planner reports the model unavailable. Under QEMU TCG the portable code is also about 7x
faster (TCG emulates AVX2 slowly): `CPU=max,-avx,-avx2,-fma,-f16c run-qemu.sh`.

$LLMOS_GGML=portable|native forces a choice (measurements, tests); $LLMOS_GGML_PORTABLE
names another directory holding the portable library.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import platform
import sys

PORTABLE_DIR = "/usr/lib/llmos/ggml-portable"
LIB = "libggml-cpu.so.0"
BASE = "libggml-base.so.0"
NEEDS = ("avx2", "fma", "f16c")

_chosen: str | None = None


def cpu_flags(path: str = "/proc/cpuinfo") -> set[str] | None:
    """The first processor's flags, or None when they cannot be read."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    return set(value.split())
    except OSError:
        return None
    return None


def missing_features(flags: set[str] | None) -> list[str]:
    return [] if flags is None else [f for f in NEEDS if f not in flags]


def wheel_lib_dir() -> str | None:
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(list(spec.submodule_search_locations)[0], "lib")


def preload(env: dict | None = None, cpuinfo: str = "/proc/cpuinfo",
            machine: str | None = None) -> str:
    """Choose (once per process) and, for the portable backend, load it. Returns what was
    chosen, e.g. "native (avx2, fma, f16c)" or "portable (this CPU lacks avx2)".
    Raises RuntimeError when the CPU cannot run the wheel's backend and no portable one
    exists."""
    global _chosen
    if _chosen is not None:
        return _chosen
    env = os.environ if env is None else env
    machine = machine or platform.machine()
    if machine != "x86_64":
        _chosen = f"native ({machine})"
        return _chosen
    force = env.get("LLMOS_GGML", "").strip().lower()
    portable = os.path.join(env.get("LLMOS_GGML_PORTABLE") or PORTABLE_DIR, LIB)
    lacking = missing_features(cpu_flags(cpuinfo))
    want = force if force in ("portable", "native") else ("portable" if lacking else "native")
    if want == "native":
        if lacking:
            _chosen = f"native, forced (this CPU lacks {', '.join(lacking)})"
        else:
            _chosen = "native (avx2, fma, f16c)"
        return _chosen
    why = f"this CPU lacks {', '.join(lacking)}" if lacking else "forced by LLMOS_GGML"
    if not os.path.exists(portable):
        raise RuntimeError(f"{why} and no portable ggml backend is installed ({portable}); "
                           "the model cannot run on this CPU")
    if "llama_cpp" in sys.modules:
        raise RuntimeError("llama_cpp is already loaded; the portable backend must come first")
    base_dir = wheel_lib_dir()
    if base_dir and os.path.exists(os.path.join(base_dir, BASE)):
        ctypes.CDLL(os.path.join(base_dir, BASE), mode=ctypes.RTLD_GLOBAL)
    ctypes.CDLL(portable, mode=ctypes.RTLD_GLOBAL)
    _chosen = f"portable ({why})"
    return _chosen
