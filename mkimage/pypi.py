"""Fetches pinned files from PyPI with pip (the only client this build uses for PyPI)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from . import cache


def fetch(name: str, version: str, sha256: str, *, sdist: bool) -> Path:
    """Download NAME==VERSION (sdist or wheel) into the cache and verify its sha256."""
    dest = cache.entry("pypi", f"{name}-{version}-{'sdist' if sdist else 'wheel'}")
    found = [p for p in dest.glob("*") if p.is_file() and p.name != cache.DONE] if dest.exists() else []
    if not (cache.is_done(dest) and found):
        with cache.building(dest.parent.name, dest.name) as tmp:
            cache.log(f"downloading {name}=={version} from PyPI")
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                   "-d", str(tmp), f"{name}=={version}"]
            cmd += ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
            subprocess.run(cmd, check=True)
        found = [p for p in dest.glob("*") if p.is_file() and p.name != cache.DONE]
    if len(found) != 1:
        raise SystemExit(f"mkimage: expected one file for {name}=={version} in {dest}, found {found}")
    got = cache.file_digest(found[0])
    if got != sha256:
        raise SystemExit(f"mkimage: checksum mismatch for {found[0]}: got {got}, pinned {sha256}")
    return found[0]
