"""Downloads Debian bookworm packages with apt-get and unpacks them with dpkg-deb.

Packages for the host's own architecture use the system's apt setup.  Packages of
another architecture (arm64 on an amd64 host) or from components the host does not
list use a private apt configuration under the cache (its own sources list and lists
directory), so the system's apt setup is never touched.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from . import cache

_URI = re.compile(r"^'(?P<uri>[^']+)' (?P<file>\S+) (?P<size>\d+) (?P<hash>\S+)")
MIRROR = "http://deb.debian.org/debian"
SECURITY = "http://deb.debian.org/debian-security"


def host_arch() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()


def private_apt(arch: str, components: str = "main") -> list[str]:
    """apt options for a private configuration (foreign arch or extra components)."""
    root = cache.cache_root() / "apt" / f"{arch}-{components.replace(' ', '+')}"
    lists = root / "lists"
    (lists / "partial").mkdir(parents=True, exist_ok=True)
    sources = root / "sources.list"
    sources.write_text(
        f"deb [arch={arch}] {MIRROR} bookworm {components}\n"
        f"deb [arch={arch}] {MIRROR} bookworm-updates {components}\n"
        f"deb [arch={arch}] {SECURITY} bookworm-security {components}\n")
    opts = [f"-o=Dir::Etc::sourcelist={sources}", "-o=Dir::Etc::sourceparts=-",
            f"-o=Dir::State::Lists={lists}", f"-o=Dir::Cache={root / 'cache'}",
            f"-o=APT::Architecture={arch}", f"-o=APT::Architectures={arch}"]
    stamp = root / "updated"
    if not stamp.exists():
        cache.log(f"apt-get update (private lists for {arch}, {components})")
        subprocess.run(["apt-get", "update", "-q", *opts], check=True, stdout=subprocess.DEVNULL)
        stamp.touch()
    return opts


def apt_options(arch: str, components: str = "main") -> list[str]:
    if arch in ("all", host_arch()) and components == "main":
        return []
    return private_apt("amd64" if arch == "all" else arch, components)


def resolve(names: list[str], arch: str, components: str = "main") -> list[dict]:
    """What `apt-get download` would fetch: uri, file name, size and hash of each package."""
    opts = apt_options(arch, components)
    qualified = [n if (":" in n or arch == "all" or not opts and arch == host_arch())
                 else f"{n}:{arch}" for n in names]
    r = subprocess.run(["apt-get", "download", "--print-uris", *opts, *qualified],
                       capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"mkimage: apt-get cannot resolve {names}: {r.stderr.strip()}")
    found = [m.groupdict() for m in map(_URI.match, r.stdout.splitlines()) if m]
    if len(found) != len(names):
        raise SystemExit(f"mkimage: apt-get resolved {len(found)} of {len(names)} packages")
    return found


def download(names: list[str], arch: str, components: str = "main") -> dict[str, Path]:
    """Fetch the packages into <cache>/debs (by file name, checked by hash); name -> .deb."""
    pool = cache.cache_root() / "debs"
    pool.mkdir(parents=True, exist_ok=True)
    opts = apt_options(arch, components)
    by_name = {i["file"].split("_", 1)[0]: i for i in resolve(names, arch, components)}

    def good(info: dict, path: Path) -> bool:
        algo, _, digest = info["hash"].partition(":")
        return path.exists() and cache.file_digest(path, algo.lower()) == digest

    todo = [n for n in names if not good(by_name[n.split(":", 1)[0]], pool / by_name[n.split(":", 1)[0]]["file"])]
    if todo:
        cache.log(f"downloading {len(todo)} Debian package(s): {' '.join(todo)}")
        tmp = pool / ".part"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        pkgs = [n if ":" in n or arch == "all" or not opts else f"{n}:{arch}" for n in todo]
        subprocess.run(["apt-get", "download", "-q", "-o=APT::Sandbox::User=root", *opts, *pkgs],
                       cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        for n in todo:
            info = by_name[n.split(":", 1)[0]]
            got = tmp / info["file"].replace("%3a", ":")
            if not got.exists():
                got = next(tmp.glob(info["file"].split("_", 1)[0] + "_*.deb"))
            if not good(info, got):
                raise SystemExit(f"mkimage: {got.name}: hash mismatch")
            got.replace(pool / info["file"])
        shutil.rmtree(tmp)
    return {n: pool / by_name[n.split(":", 1)[0]]["file"] for n in names}


def versions(names: list[str], arch: str, components: str = "main") -> list[str]:
    """File names (name_version_arch.deb) of what would be downloaded: a cache key."""
    return [i["file"] for i in resolve(names, arch, components)]


def unpack(debs: list[Path], dest: Path) -> None:
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
