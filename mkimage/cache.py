"""Content-keyed build cache outside the source tree (~/.cache/llmos, LLMOS_CACHE overrides).

Every heavy step (kernel, llama-cpp-python wheel, Debian packages, model) stores its
output in a directory named after a hash of all of its inputs.  A step whose directory
holds a ``.done`` marker is skipped; a step is built into a temporary sibling and renamed
into place, so an interrupted build never leaves a half-filled entry behind.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Iterator

DONE = ".done"


def cache_root() -> Path:
    root = os.environ.get("LLMOS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "llmos")
    return Path(root)


def file_digest(path: str | os.PathLike, algo: str = "sha256") -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def key(*parts: object) -> str:
    """A short stable key for a step's inputs: strings, numbers, dicts, lists, files."""
    def encode(part: object) -> object:
        if isinstance(part, Path):  # a file counts by its name and content
            return f"file:{part.name}:{file_digest(part)}"
        if isinstance(part, (list, tuple)):
            return [encode(p) for p in part]
        if isinstance(part, dict):
            return {str(k): encode(v) for k, v in part.items()}
        return part

    h = hashlib.sha256()
    for part in parts:
        h.update(json.dumps(encode(part), sort_keys=True, default=str).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def entry(step: str, k: str) -> Path:
    return cache_root() / step / k


def is_done(path: Path) -> bool:
    return (path / DONE).exists()


@contextlib.contextmanager
def building(step: str, k: str) -> Iterator[Path]:
    """Yield a scratch directory; on success it becomes the cache entry for (step, k).

    Builds of the same entry are serialised by a lock file, so two builds running at
    once (two checkouts sharing one cache) never write into each other's scratch
    directory; if another build finished the entry meanwhile, its result is kept.
    """
    final = entry(step, k)
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.with_name(final.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        tmp = final.with_name(final.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        yield tmp
        if is_done(final):
            shutil.rmtree(tmp)
            return
        (tmp / DONE).write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)


def log(msg: str) -> None:
    print(f"[mkimage {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
