"""Footprint: sizes of the image's parts, and the smallest guest RAM (-m) that boots and
answers (found by bisection over candidate sizes)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

PARTS = (("kernel", "kernel"), ("root", "rootfs"), ("model", "model"))


def sizes(image_dir: Path) -> dict:
    """Bytes of kernel, root image, model image and their total (the data partition is the
    user's, not the OS: listed apart). Sizes are the files' own; manifest.json names them."""
    manifest = {}
    mpath = image_dir / "manifest.json"
    if mpath.exists():
        manifest = json.loads(mpath.read_text())
    kernel = (manifest.get("kernel") or {}).get("file") or "bzImage"
    files = {"kernel": kernel, "root": "rootfs.squashfs", "model": "model.squashfs",
             "data": "data.ext4"}
    out: dict = {"files": {}}
    for part, name in files.items():
        p = image_dir / name
        out[part] = p.stat().st_size if p.exists() else None
        out["files"][part] = name
    out["total"] = sum(out[p] for p in ("kernel", "root", "model") if out[p] is not None)
    gguf = manifest.get("model") or {}
    out["gguf"] = gguf.get("bytes")
    out["gguf_file"] = gguf.get("file")
    return out


def smallest_passing(candidates: list[int], passes: Callable[[int], bool]) -> tuple[int | None, dict]:
    """The smallest candidate for which `passes` holds, assuming that a larger one passes
    whenever a smaller one does; bisection, so log2(n) calls. Returns it (None when even
    the largest fails) and every outcome tried."""
    xs = sorted(set(candidates))
    if not xs:
        raise ValueError("no candidates")
    tried: dict[int, bool] = {}

    def test(x: int) -> bool:
        if x not in tried:
            tried[x] = bool(passes(x))
        return tried[x]

    lo, hi = 0, len(xs) - 1
    if not test(xs[hi]):
        return None, tried
    while lo < hi:  # invariant: xs[hi] passes; everything below lo fails
        mid = (lo + hi) // 2
        if test(xs[mid]):
            hi = mid
        else:
            lo = mid + 1
    return xs[hi], tried
