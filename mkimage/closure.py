"""Shared-library closure of a set of ELF files, computed with pyelftools.

Given the ELF files that go into the image (python, extension modules, libllama and
libggml) and a "pool" directory holding unpacked Debian packages, find every shared
library they need, transitively, by DT_NEEDED, honouring DT_RUNPATH/DT_RPATH ($ORIGIN)
and then the loader's system directories inside the pool.  Nothing is copied blindly:
only what some ELF in the image really links against.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

ELF_MAGIC = b"\x7fELF"


@dataclass
class ElfDeps:
    needed: list[str] = field(default_factory=list)
    runpath: list[str] = field(default_factory=list)
    interp: str | None = None
    machine: str = ""


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == ELF_MAGIC
    except OSError:
        return False


def read_deps(path: Path) -> ElfDeps:
    deps = ElfDeps()
    with open(path, "rb") as f:
        try:
            elf = ELFFile(f)
        except ELFError as e:
            raise ValueError(f"{path}: not a valid ELF file: {e}") from None
        deps.machine = elf["e_machine"]
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_INTERP":
                deps.interp = seg.get_interp_name()
        for sec in elf.iter_sections():
            if not isinstance(sec, DynamicSection):
                continue
            for tag in sec.iter_tags():
                if tag.entry.d_tag == "DT_NEEDED":
                    deps.needed.append(tag.needed)
                elif tag.entry.d_tag in ("DT_RUNPATH", "DT_RPATH"):
                    deps.runpath.extend(
                        (tag.runpath if tag.entry.d_tag == "DT_RUNPATH" else tag.rpath).split(":"))
    return deps


def resolve_in(root: Path, path: str, depth: int = 0) -> Path | None:
    """Follow `path` (absolute inside `root`) through symlinks that stay inside `root`."""
    p = root / path.lstrip("/")
    for _ in range(40):
        if p.is_symlink():
            target = os.readlink(p)
            p = (root / target.lstrip("/")) if target.startswith("/") else (p.parent / target)
            p = Path(os.path.normpath(p))
            continue
        return p if p.is_file() else None
    return None


class MissingLibraries(Exception):
    pass


def closure(elves: list[Path], pool: Path, system_dirs: list[str],
            image_root: Path | None = None) -> tuple[dict[str, Path], set[str]]:
    """Return ({soname: file in pool or image}, {interpreter paths}) for `elves`.

    `system_dirs` are absolute directories (as seen in the guest) searched after the
    runpath.  Libraries already inside `image_root` (e.g. shipped next to libllama via
    $ORIGIN) are found there and not copied again.
    """
    found: dict[str, Path] = {}
    interps: set[str] = set()
    missing: list[str] = []
    queue = list(elves)
    seen: set[Path] = set()
    while queue:
        elf = queue.pop()
        if elf in seen:
            continue
        seen.add(elf)
        deps = read_deps(elf)
        if deps.interp:
            interps.add(deps.interp)
        origin = elf.parent
        for soname in deps.needed:
            if soname in found:
                continue
            hit = None
            for rp in deps.runpath:
                if "$ORIGIN" in rp or "${ORIGIN}" in rp:
                    cand = Path(rp.replace("${ORIGIN}", str(origin)).replace("$ORIGIN", str(origin))) / soname
                    if cand.exists():
                        hit = cand.resolve()
                        break
            if hit is None:
                for d in system_dirs:
                    for base in ([image_root] if image_root else []) + [pool]:
                        cand = resolve_in(base, f"{d}/{soname}")
                        if cand is not None:
                            hit = cand
                            break
                    if hit:
                        break
            if hit is None:
                missing.append(f"{soname} (needed by {elf})")
                continue
            found[soname] = hit
            queue.append(hit)
    if missing:
        raise MissingLibraries("libraries not found in the package pool:\n  " + "\n  ".join(sorted(set(missing))))
    return found, interps
