"""llama.cpp's own LoRA converter, taken from the vendored sources of the pinned
llama-cpp-python sdist (the one mkimage builds the wheel from): convert_lora_to_gguf.py,
convert_hf_to_gguf.py, conversion/ and gguf-py/, extracted once into
<cache>/train/llamacpp-convert-<sdist sha256[:16]>/.  Nothing is downloaded but the sdist
mkimage already fetches (and caches) for the image.
"""
from __future__ import annotations

import tarfile
from pathlib import Path

from mkimage import cache, pypi
from mkimage.pins import pins

WANTED = ("convert_lora_to_gguf.py", "convert_hf_to_gguf.py", "conversion/", "gguf-py/")


def scripts() -> Path:
    p = pins()["llama_cpp_python"]
    k = f"llamacpp-convert-{p['sdist_sha256'][:16]}"
    out = cache.entry("train", k)
    if cache.is_done(out):
        return out
    sdist = pypi.fetch("llama-cpp-python", p["version"], p["sdist_sha256"], sdist=True)
    with cache.building("train", k) as tmp, tarfile.open(sdist) as tar:
        prefix = f"llama_cpp_python-{p['version']}/vendor/llama.cpp/"
        members = []
        for m in tar.getmembers():
            rel = m.name[len(prefix):] if m.name.startswith(prefix) else None
            if rel and (m.isfile() or m.isdir()) and any(
                    rel == w or (w.endswith("/") and rel.startswith(w)) for w in WANTED):
                m = m.replace(name=rel)
                members.append(m)
        if not any(m.name == "convert_lora_to_gguf.py" for m in members):
            raise SystemExit(f"train: no convert_lora_to_gguf.py in {sdist}")
        tar.extractall(tmp, members=members, filter="data")
        cache.log(f"extracted llama.cpp's LoRA converter ({len(members)} files) from {sdist.name}")
    return out


if __name__ == "__main__":
    print(scripts())
