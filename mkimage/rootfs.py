"""Assembles the root filesystem tree from Debian packages, the wheel and our sources.

Only what llmos runs goes in: python3.11 with a trimmed stdlib, the few Python packages
llama_cpp needs, libllama/libggml, llmos_init with its compiled syscall module, the
overlay and /sbin/init, plus exactly the shared libraries those ELF files need
(closure.py).  No shell and no coreutils.
"""
from __future__ import annotations

import compileall
import os
import py_compile
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from . import cache, closure, debian
from .shared import shared
from .targets import REPO, Target

PYVER = "3.11"

# Debian packages the userland is assembled from (files are picked from them, not
# whole packages: see copy_python and the library closure).
PACKAGES = [
    "libc6", "libgcc-s1", "libstdc++6", "libgomp1",
    "python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib",
    "zlib1g", "libexpat1", "libssl3", "libffi8", "libbz2-1.0", "liblzma5", "libsqlite3-0",
    "libuuid1", "libcrypt1",
    "python3-numpy", "libblas3", "liblapack3", "libgfortran5", "libquadmath0",
    "python3-cffi-backend", "python3-jinja2", "python3-markupsafe",
    "python3-typing-extensions", "python3-diskcache", "python3-yaml", "libyaml-0-2",
    # update bundles' ed25519 signatures (llmos_init/update/bundle.py): PyNaCl on libsodium
    "python3-nacl", "libsodium23",
]

# Packages that exist only on some Debian architectures (libquadmath: x86 and ppc64el).
ARCH_ONLY = {"libquadmath0": {"amd64", "i386", "ppc64el"}}


def packages_for(deb_arch: str) -> list[str]:
    return [p for p in PACKAGES if deb_arch in ARCH_ONLY.get(p, {deb_arch})]


# Parts of the stdlib an appliance never uses.
STDLIB_DROP = {
    "test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data",
    "venv", "curses", "distutils", "turtle.py", "pydoc.py", "__phello__", "config-3.11-{triplet}",
    "doctest.py", "imaplib.py", "nntplib.py", "smtpd.py", "mailbox.py", "xmlrpc", "msilib",
    "ftplib.py", "poplib.py", "smtplib.py", "telnetlib.py", "cgi.py", "cgitb.py", "wsgiref",
}
DYNLOAD_DROP_PREFIX = ("_tkinter", "_curses", "_dbm", "_gdbm", "readline", "_test", "xxlimited",
                       "_ctypes_test", "_xxtestfuzz", "audioop", "nis", "xxsubtype")
# From Debian's dist-packages: what llama_cpp imports at run time.
DIST_PACKAGES = ["numpy", "jinja2", "markupsafe", "typing_extensions.py", "diskcache",
                 "_cffi_backend.cpython-311-{triplet}.so",
                 # and what the planner's template matcher (hassil) imports
                 "yaml", "_yaml",
                 # and what checks an update bundle's signature
                 "nacl"]

# Directories that exist on the read-only root as mount points or for the overlay
# (mkimage/shared.toml: the Buildroot tree makes the same ones).
DIRS = shared()["rootfs"]["dirs"]


def pool_for(target: Target) -> Path:
    """All PACKAGES unpacked into one directory (cached by exact package versions)."""
    files = debian.versions(packages_for(target.deb_arch), target.deb_arch)
    k = cache.key(files)
    out = cache.entry("pool", f"{target.deb_arch}-{k}")
    if not cache.is_done(out):
        debs = debian.download(packages_for(target.deb_arch), target.deb_arch)
        with cache.building("pool", f"{target.deb_arch}-{k}") as tmp:
            cache.log(f"unpacking {len(debs)} Debian packages")
            debian.unpack(list(debs.values()), tmp)
    return out


def _ignore_trimmed(triplet: str):
    drop = {d.format(triplet=triplet) for d in STDLIB_DROP}

    def ignore(d: str, names: list[str]) -> list[str]:
        out = [n for n in names if n == "__pycache__"]
        if Path(d).name == f"python{PYVER}":
            out += [n for n in names if n in drop]
        if Path(d).name == "lib-dynload":
            out += [n for n in names if n.startswith(DYNLOAD_DROP_PREFIX)]
        return out
    return ignore


def copy_python(pool: Path, root: Path, target: Target) -> None:
    trip = target.triplet
    (root / "usr/bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(pool / f"usr/bin/python{PYVER}", root / f"usr/bin/python{PYVER}")
    os.symlink(f"python{PYVER}", root / "usr/bin/python3")
    shutil.copytree(pool / f"usr/lib/python{PYVER}", root / f"usr/lib/python{PYVER}",
                    symlinks=True, ignore=_ignore_trimmed(trip))
    # Debian ships a few stdlib files as symlinks into /etc or /usr/share: keep only
    # symlinks that resolve inside the image.
    for p in list((root / f"usr/lib/python{PYVER}").rglob("*")):
        if p.is_symlink() and closure.resolve_in(root, str(p.relative_to(root))) is None:
            src = closure.resolve_in(pool, str(p.relative_to(root)))
            p.unlink()
            if src is not None:
                shutil.copy2(src, p)
    site = root / "usr/lib/python3/dist-packages"
    site.mkdir(parents=True)
    for name in DIST_PACKAGES:
        src = pool / "usr/lib/python3/dist-packages" / name.format(triplet=trip)
        if src.is_dir():
            shutil.copytree(src, site / src.name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "tests"))
        else:
            shutil.copy2(src, site / src.name)


def install_wheel(wheel: Path, root: Path) -> None:
    site = root / "usr/lib/python3/dist-packages"
    with zipfile.ZipFile(wheel) as z:
        for m in z.namelist():
            if m.startswith("llama_cpp/") and "/__pycache__/" not in m:
                z.extract(m, site)
    # Wheels cannot hold symlinks, so libfoo.so, libfoo.so.0 and libfoo.so.0.1.2 arrive
    # as three copies: keep the fully versioned file and link the other names to it.
    libdir = site / "llama_cpp/lib"
    by_digest: dict[str, list[Path]] = {}
    for so in sorted(libdir.glob("*.so*")):
        so.chmod(0o755)
        by_digest.setdefault(cache.file_digest(so), []).append(so)
    for same in by_digest.values():
        keep = max(same, key=lambda p: len(p.name))
        for other in same:
            if other != keep:
                other.unlink()
                os.symlink(keep.name, other)


def install_pure_wheels(wheels: list[Path], root: Path) -> None:
    """Pure-Python wheels (pins.toml [pure_wheels]) unpacked into dist-packages, their
    metadata included (importlib.metadata reads it); no byte-code, tests or scripts."""
    site = root / "usr/lib/python3/dist-packages"
    for whl in wheels:
        with zipfile.ZipFile(whl) as z:
            for m in z.namelist():
                if "/__pycache__/" not in m and not m.endswith((".pyc", "/")) and ".data/" not in m:
                    z.extract(m, site)


def link_wheel_libs(root: Path, lib: Path) -> None:
    """Beside an extra ggml library, links to the wheel's libraries it needs (its RUNPATH
    is $ORIGIN): the closure and the loader find them there, nothing is copied twice."""
    wheel_lib = root / "usr/lib/python3/dist-packages/llama_cpp/lib"
    for soname in closure.read_deps(lib).needed:
        if (wheel_lib / soname).exists() and not (lib.parent / soname).exists():
            os.symlink(os.path.relpath(wheel_lib / soname, lib.parent), lib.parent / soname)


def install_llmos(root: Path, target: Target) -> None:
    site = root / "usr/lib/python3/dist-packages"
    shutil.copytree(REPO / "llmos_init", site / "llmos_init",
                    ignore=shutil.ignore_patterns("__pycache__", "_llmos_sys.*", "*.pyc"))
    cmd = [sys.executable, "-m", "llmos_init.sys.ffi_build", "--out", str(site / "llmos_init/sys")]
    if target.cross_compile:
        from . import cross
        cmd += ["--cc", f"{target.cross_compile}gcc",
                "--ext-suffix", f".cpython-311-{target.triplet}.so", "--no-host-python-include"]
        for inc in cross.python_includes(target.deb_arch):  # the target's Python.h/pyconfig.h
            cmd += ["--include", str(inc)]
    subprocess.run(cmd, check=True, cwd=REPO)
    (root / "sbin").mkdir(exist_ok=True)
    shutil.copy2(REPO / "init/llmos-init", root / "sbin/init")
    (root / "sbin/init").chmod(0o755)
    shutil.copytree(REPO / "rootfs", root, dirs_exist_ok=True, symlinks=True)
    # PID 1 reads this instead of importing tomllib before the prompt (matching bytes only)
    from llmos_init.services import precompile
    services = root / "etc/llmos/services.toml"
    if services.exists():
        precompile(str(services))


def copy_libraries(pool: Path, root: Path, target: Target) -> dict[str, Path]:
    """Copy the shared-library closure of every ELF file in the image."""
    trip = target.triplet
    elves = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and closure.is_elf(p)]
    system_dirs = [f"/lib/{trip}", f"/usr/lib/{trip}", f"/usr/lib/{trip}/blas",
                   f"/usr/lib/{trip}/lapack", "/lib", "/usr/lib"]
    libs, interps = closure.closure(elves, pool, system_dirs, image_root=root)
    libdir = root / "usr/lib" / trip
    libdir.mkdir(parents=True, exist_ok=True)
    for soname, src in sorted(libs.items()):
        if root in src.parents:
            continue  # shipped inside the image already (e.g. llama_cpp/lib via $ORIGIN)
        shutil.copy2(src, libdir / soname)
    for interp in interps:
        src = closure.resolve_in(pool, interp)
        if src is None:
            raise SystemExit(f"mkimage: ELF interpreter {interp} not in the package pool")
        dest = root / "usr" / interp.lstrip("/").removeprefix("usr/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            shutil.copy2(src, dest)
    return libs


def skeleton(root: Path) -> None:
    for d in DIRS:
        (root / d).mkdir(parents=True, exist_ok=True)
    # /etc/resolv.conf: the DNS servers the network service found (llmos_init/net), on /run
    for link, to in (("lib", "usr/lib"), ("lib64", "usr/lib64"), ("bin", "usr/bin"),
                     ("etc/resolv.conf", "../run/llmos/resolv.conf")):
        if not os.path.lexists(root / link):
            os.symlink(to, root / link)
    (root / "tmp").chmod(0o1777)
    etc = root / "etc"
    (etc / "passwd").write_text("root:x:0:0:root:/root:/sbin/init\n")
    (etc / "group").write_text("root:x:0:\n")


def precompile(root: Path) -> None:
    """Byte-compile everything once at build time: the root is read-only at run time."""
    if sys.version_info[:2] != tuple(map(int, PYVER.split("."))):
        raise SystemExit(f"mkimage: byte-compiling needs Python {PYVER} on the host")
    for d in (root / f"usr/lib/python{PYVER}", root / "usr/lib/python3/dist-packages"):
        ok = compileall.compile_dir(
            str(d), quiet=2, workers=os.cpu_count() or 1, stripdir=str(root), prependdir="/",
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        if not ok:
            cache.log(f"warning: some files under {d} did not byte-compile")


def assemble(target: Target, wheel: Path, root: Path,
             extra: dict[str, Path] | None = None, pure: list[Path] | None = None,
             texts: dict[str, str] | None = None) -> dict[str, Path]:
    """The root tree; `extra` = {guest path: host file} copied in before the library
    closure is computed (their libraries count too); `pure`: pure-Python wheels;
    `texts` = {guest path: content}, small files written as they are (mode 0644)."""
    pool = pool_for(target)
    skeleton(root)
    copy_python(pool, root, target)
    install_wheel(wheel, root)
    install_pure_wheels(pure or [], root)
    install_llmos(root, target)
    for guest, host in (extra or {}).items():
        dest = root / guest.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(host, dest)
        dest.chmod(0o755)
        link_wheel_libs(root, dest)
    for guest, text in (texts or {}).items():
        dest = root / guest.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
        dest.chmod(0o644)
    libs = copy_libraries(pool, root, target)
    precompile(root)
    return libs
