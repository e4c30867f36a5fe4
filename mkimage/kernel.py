"""Builds the kernel from Debian's linux-source-6.1 package: tinyconfig + our fragments.

The result is cached under <cache>/kernel/<target>-<key>, keyed on the source package,
the fragments' contents and the toolchain, so an unchanged kernel is never rebuilt.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

from . import cache, debian
from .targets import Target

SOURCE_PKG = "linux-source-6.1"
# Bump when the build recipe below changes what it produces (part of the cache key).
RECIPE = 2
_OPT = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")


def requested_options(fragments: list[Path]) -> dict[str, str]:
    """CONFIG_X=value lines of the fragments (later fragments win)."""
    opts: dict[str, str] = {}
    for frag in fragments:
        for line in frag.read_text().splitlines():
            m = _OPT.match(line.strip())
            if m:
                opts[m.group(1)] = m.group(2)
            elif line.startswith("# CONFIG_") and line.rstrip().endswith(" is not set"):
                opts[line.split()[1]] = "n"
    return opts


def missing_options(config_text: str, wanted: dict[str, str]) -> list[str]:
    """Options the fragments ask for that the final .config does not have."""
    have: dict[str, str] = {}
    for line in config_text.splitlines():
        m = _OPT.match(line)
        if m:
            have[m.group(1)] = m.group(2)
    bad = []
    for name, value in wanted.items():
        got = have.get(name, "n")
        if got != value:
            bad.append(f"{name}: wanted {value}, got {got}")
    return bad


def source_tree(deb: Path) -> Path:
    """The unpacked kernel source of one linux-source .deb (cached)."""
    k = cache.key(deb.name, cache.file_digest(deb))
    out = cache.entry("kernel-src", k)
    if not cache.is_done(out):
        with cache.building("kernel-src", k) as tmp:
            cache.log(f"unpacking {deb.name}")
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp / "deb")], check=True)
            tarball = next((tmp / "deb/usr/src").glob("linux-source-*.tar.*"))
            with tarfile.open(tarball) as tf:
                tf.extractall(tmp, filter="fully_trusted")
            shutil.rmtree(tmp / "deb")
    return next(p for p in out.iterdir() if p.is_dir() and p.name.startswith("linux-source"))


def _run_with_progress(cmd: list[str], log_path: Path, what: str, every: float = 30.0) -> int:
    """Run a build, its output to log_path, printing how far it got every `every` seconds."""
    t0 = last = time.monotonic()
    compiled = 0
    with open(log_path, "w") as logf, subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace") as p:
        for line in p.stdout:
            logf.write(line)
            if line.lstrip().startswith(("CC ", "AS ", "LD ")):
                compiled += 1
            if time.monotonic() - last >= every:
                last = time.monotonic()
                cache.log(f"{what}: {compiled} objects built, {last - t0:.0f}s")
        return p.wait()


def patched_tree(src: Path, patches: list[Path]) -> Path:
    """A copy of the source tree with `patches` applied (cached): hard links to the
    shared tree, which GNU patch replaces by new files where it changes one, so the
    shared tree and other targets' builds stay as they are."""
    k = cache.key(src.name, patches)
    out = cache.entry("kernel-src-patched", k)
    if not cache.is_done(out):
        with cache.building("kernel-src-patched", k) as tmp:
            subprocess.run(["cp", "-al", str(src), str(tmp / src.name)], check=True)
            for p in patches:
                cache.log(f"kernel source: applying {p.name}")
                subprocess.run(["patch", "-p1", "--forward", "--batch", "--no-backup-if-mismatch",
                                "-d", str(tmp / src.name), "-i", str(p)], check=True,
                               stdout=subprocess.DEVNULL)
    return out / src.name


def build(target: Target) -> Path:
    """Return the directory holding the kernel image (and .config, build.log)."""
    deb = debian.download([SOURCE_PKG], "all")[SOURCE_PKG]
    patches = target.kernel_patch_paths
    k = cache.key(deb.name, target.fragment_paths, target.kernel_arch,
                  target.kernel_image, target.cross_compile, RECIPE, *([patches] if patches else []))
    out = cache.entry("kernel", f"{target.name}-{k}")
    if cache.is_done(out):
        return out
    src = source_tree(deb)
    if patches:
        src = patched_tree(src, patches)
    with cache.building("kernel", f"{target.name}-{k}") as tmp:
        obj = tmp / "obj"
        obj.mkdir()
        mk = ["make", "-C", str(src), f"O={obj}", f"ARCH={target.kernel_arch}"]
        if target.cross_compile:
            mk.append(f"CROSS_COMPILE={target.cross_compile}")
        t0 = time.monotonic()
        cache.log(f"configuring kernel for {target.name}: tinyconfig + {', '.join(target.fragments)}")
        subprocess.run(mk + ["-s", "tinyconfig"], check=True)
        env = dict(os.environ, ARCH=target.kernel_arch)
        subprocess.run([str(src / "scripts/kconfig/merge_config.sh"), "-m", "-O", str(obj),
                        str(obj / ".config"), *map(str, target.fragment_paths)],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(mk + ["-s", "olddefconfig"], check=True)
        config = (obj / ".config").read_text()
        bad = missing_options(config, requested_options(target.fragment_paths))
        if bad:
            raise SystemExit("mkimage: kernel options asked for but not set (a dependency is "
                             "missing from the fragments):\n  " + "\n  ".join(bad))
        jobs = str(os.cpu_count() or 2)
        cache.log(f"building kernel {target.kernel_image} with -j{jobs} (a few minutes)")
        targets = [target.kernel_image] + (["dtbs"] if target.kernel_arch == "arm64" else [])
        r = _run_with_progress(mk + [f"-j{jobs}", *targets], tmp / "build.log", "kernel")
        if r:
            tail = (tmp / "build.log").read_text().splitlines()[-30:]
            raise SystemExit("mkimage: kernel build failed:\n" + "\n".join(tail))
        boot = obj / "arch" / target.kernel_arch / "boot"
        shutil.copy2(boot / target.kernel_image, tmp / target.kernel_image)
        if (boot / "dts").is_dir():
            shutil.copytree(boot / "dts", tmp / "dts",
                            ignore=lambda d, names: [n for n in names if not (
                                n.endswith(".dtb") or (Path(d) / n).is_dir())])
        shutil.copy2(obj / ".config", tmp / "config")
        (tmp / "build-seconds").write_text(f"{time.monotonic() - t0:.0f}\n")
        shutil.rmtree(obj)
    return out
