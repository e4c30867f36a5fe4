"""Choosing the ggml CPU backend: the wheel's AVX2 one, or the image's portable one for a
CPU without avx2/fma/f16c (llmos_init/planner/cpuvariant.py)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from llmos_init.planner import cpuvariant


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setattr(cpuvariant, "_chosen", None)


def cpuinfo(tmp_path, flags: str):
    p = tmp_path / "cpuinfo"
    p.write_text(f"processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: {flags}\n\n"
                 f"processor\t: 1\nflags\t\t: {flags}\n")
    return str(p)


def test_flags_and_what_is_missing(tmp_path):
    assert cpuvariant.cpu_flags(cpuinfo(tmp_path, "fpu sse4_2 avx avx2 fma")) >= {"avx2", "fma"}
    assert cpuvariant.missing_features({"sse4_2", "avx", "fma"}) == ["avx2", "f16c"]
    assert cpuvariant.missing_features(None) == []            # unknown: assume the wheel's
    assert cpuvariant.cpu_flags(str(tmp_path / "none")) is None


def test_an_avx2_cpu_keeps_the_wheels_backend(tmp_path):
    info = cpuinfo(tmp_path, "sse4_2 avx avx2 fma f16c")
    assert cpuvariant.preload(env={}, cpuinfo=info, machine="x86_64") == "native (avx2, fma, f16c)"


def test_other_architectures_are_left_alone(tmp_path):
    assert cpuvariant.preload(env={}, cpuinfo=cpuinfo(tmp_path, "fp asimd"),
                              machine="aarch64") == "native (aarch64)"


def test_no_avx2_and_no_portable_backend_is_a_clear_error(tmp_path):
    info = cpuinfo(tmp_path, "sse4_2")
    with pytest.raises(RuntimeError, match="lacks avx2, fma, f16c and no portable ggml backend"):
        cpuvariant.preload(env={"LLMOS_GGML_PORTABLE": str(tmp_path)}, cpuinfo=info, machine="x86_64")
    # forcing the wheel's backend is possible (and said)
    assert cpuvariant.preload(env={"LLMOS_GGML": "native"}, cpuinfo=info,
                              machine="x86_64").startswith("native, forced")


def test_portable_backend_is_what_llama_cpp_then_uses(tmp_path):
    """In a fresh interpreter: preload the image's portable backend (built by mkimage, as
    `make test` builds the image first), import llama_cpp, and find it mapped."""
    from mkimage import ggml_portable
    import platform
    if platform.machine() != "x86_64":
        pytest.skip("x86_64 only")
    lib = ggml_portable.build("x86_64")
    code = (f"import os; os.environ['LLMOS_GGML']='portable'; os.environ['LLMOS_GGML_PORTABLE']={str(lib.parent)!r}\n"
            "from llmos_init.planner import cpuvariant\n"
            "print(cpuvariant.preload())\n"
            "import llama_cpp\n"
            "print(sorted({l.split()[-1] for l in open('/proc/self/maps') if 'libggml-cpu' in l}))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    first, maps = r.stdout.splitlines()[:2]
    assert first == "portable (forced by LLMOS_GGML)"
    assert str(lib.parent) in maps and "site-packages" not in maps, maps
