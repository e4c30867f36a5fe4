"""llama.cpp's own `llama-bench`, built from the llama.cpp that the pinned llama-cpp-python
sdist vendors (vendor/llama.cpp), with the same portable CPU flags as the wheel.

Only the llama-bench target is built (it pulls llama, ggml and llama-common), statically
linked so the one binary runs anywhere the wheel runs. The build is cached under
<cache>/llama-bench/<key>, the key made of the sdist's checksum, the CMake arguments and the
architecture: a second `make bench` starts at once.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mkimage import cache
from mkimage.pins import pins
from mkimage.wheel import build_vendored, cmake_args

STEP = "llama-bench"
# What the wheel's CMakeLists forces, plus what llama-bench needs: tools on, common on,
# no curl, static libraries, no other tool or example.
EXTRA_ARGS = ["-DLLAMA_BUILD_TOOLS=ON", "-DLLAMA_BUILD_COMMON=ON", "-DLLAMA_CURL=OFF",
              "-DBUILD_SHARED_LIBS=OFF", "-DLLAMA_BUILD_SERVER=OFF", "-DLLAMA_BUILD_TESTS=OFF",
              "-DLLAMA_BUILD_EXAMPLES=OFF", "-DGGML_BUILD_TESTS=OFF", "-DGGML_BUILD_EXAMPLES=OFF"]


def configure_args(arch: str) -> list[str]:
    """The wheel's pinned CMake arguments, then ours (a later -D wins in CMake)."""
    return cmake_args(arch) + EXTRA_ARGS


def build_key(arch: str) -> str:
    p = pins()["llama_cpp_python"]
    return cache.key(STEP, p["version"], p["sdist_sha256"], configure_args(arch), arch)


def build(arch: str = "x86_64", jobs: int | None = None) -> Path:
    """The cached llama-bench binary, built first when missing (several minutes)."""
    return build_tools(STEP, configure_args(arch), ["llama-bench"], arch, jobs)["llama-bench"]


def build_tools(step: str, args: list[str], targets: list[str], arch: str = "x86_64",
                jobs: int | None = None) -> dict[str, Path]:
    """CMake `targets` of the vendored llama.cpp, built with `args` and cached under
    <cache>/<step>/<arch>-<key>: {target: binary}. Built first when missing."""
    p = pins()["llama_cpp_python"]
    out = cache.entry(step, f"{arch}-{cache.key(step, p['version'], p['sdist_sha256'], args, arch)}")
    bins = {t: out / t for t in targets}
    if cache.is_done(out) and all(b.exists() for b in bins.values()):
        return bins
    with cache.building(step, out.name) as tmp:
        if cache.is_done(out) and all(b.exists() for b in bins.values()):
            return bins  # built by another process while we waited for the lock
        cache.log(f"building {' '.join(targets)} from the sdist's vendored llama.cpp (several minutes)")
        bld = build_vendored(tmp, args, " ".join(targets), jobs)
        for t in targets:
            exe = find_binary(bld, t)
            if exe is None:
                raise SystemExit(f"bench: the build made no {t} binary in {bld}")
            shutil.copy2(exe, tmp / t)
        (tmp / "cmake-args.json").write_text(json.dumps(args, indent=1) + "\n")
        shutil.rmtree(bld)
    return bins


def find_binary(build_dir: Path, name: str = "llama-bench") -> Path | None:
    """The `name` executable in a CMake build tree (bin/ first; tools/llama-bench is
    a directory of the same name)."""
    for p in [build_dir / "bin" / name, *sorted(build_dir.rglob(name))]:
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


@dataclass
class BenchRow:
    test: str            # "pp512" / "tg128"
    n_prompt: int
    n_gen: int
    threads: int
    avg_ts: float        # tokens per second, mean over repetitions
    stddev_ts: float
    samples_ts: list[float]
    model_size: int      # bytes of the model's tensors, as llama-bench counts them


def command(exe: Path, model: Path, threads: int, n_prompt: int, n_gen: int, reps: int,
            batch: int = 512) -> list[str]:
    """llama-bench with our runtime's settings: batch/ubatch 512, no flash attention, CPU."""
    return [str(exe), "-m", str(model), "-t", str(threads), "-p", str(n_prompt),
            "-n", str(n_gen), "-r", str(reps), "-b", str(batch), "-ub", str(batch),
            "-fa", "off", "-ngl", "0", "-o", "json"]


def parse_json(text: str) -> list[BenchRow]:
    """Rows of llama-bench's `-o json` output (a JSON array of test records)."""
    start = text.find("[")
    if start < 0:
        raise ValueError("llama-bench printed no JSON array")
    records = json.loads(text[start:])
    rows = []
    for r in records:
        n_p, n_g = int(r["n_prompt"]), int(r["n_gen"])
        test = f"pp{n_p}" if n_g == 0 else f"tg{n_g}" if n_p == 0 else f"pp{n_p}+tg{n_g}"
        rows.append(BenchRow(test=test, n_prompt=n_p, n_gen=n_g, threads=int(r["n_threads"]),
                             avg_ts=float(r["avg_ts"]), stddev_ts=float(r.get("stddev_ts") or 0.0),
                             samples_ts=[float(x) for x in r.get("samples_ts") or []],
                             model_size=int(r.get("model_size") or 0)))
    return rows


def run(exe: Path, model: Path, threads: int, n_prompt: int, n_gen: int, reps: int,
        timeout: float = 1800) -> list[BenchRow]:
    r = subprocess.run(command(exe, model, threads, n_prompt, n_gen, reps), capture_output=True,
                       text=True, timeout=timeout)
    if r.returncode:
        raise RuntimeError(f"llama-bench failed ({r.returncode}): {r.stderr.strip()[-800:]}")
    return parse_json(r.stdout)


if __name__ == "__main__":
    print(build())
