"""The planner's LoRA adapter: where it is, and whether it belongs to the model.

The adapter (trained by `make train`, mkimage/train/) ships in this package, in
planner/adapters/<name>.lora.gguf with <name>.lora.json beside it; a `<model>.lora.gguf`
next to a model is that model's own, $LLMOS_ADAPTER names another (with its own JSON),
and LLMOS_ADAPTER=none runs without one. The JSON says which model
it was trained on (`base_fingerprint`, runtime.model_fingerprint of the GGUF) and the
adapter's own sha256. `check` refuses, with a sentence a user can act on:
- a file that is not a GGUF LoRA adapter (wrong magic, truncated, not adapter.type=lora),
- an adapter whose JSON is missing or names another base model,
- an adapter whose bytes do not match the sha256 its JSON pins.
A refused adapter leaves the model running without it (tool choice by likelihood) and the
console's status says why.
"""
from __future__ import annotations

import json
import os

SUFFIX = ".lora.gguf"
META = ".lora.json"


class AdapterError(Exception):
    pass


SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "adapters")


def find_adapter(model_path: str) -> str | None:
    """$LLMOS_ADAPTER, else `<model>.lora.gguf` beside the model, else the adapter shipped
    in this package (planner/adapters/) whose JSON names this model."""
    env = os.environ.get("LLMOS_ADAPTER")
    if env:
        return None if env.lower() == "none" else env
    base = os.path.splitext(model_path)[0]
    for cand in (model_path + SUFFIX, base + SUFFIX):
        if os.path.exists(cand):
            return cand
    try:
        shipped = sorted(f for f in os.listdir(SHIPPED) if f.endswith(SUFFIX))
    except OSError:
        return None
    if not shipped:
        return None
    from .runtime import model_fingerprint
    try:
        mine = model_fingerprint(model_path)
    except OSError:
        return None
    for f in shipped:
        path = os.path.join(SHIPPED, f)
        try:
            with open(meta_path(path), encoding="utf-8") as fh:
                if json.load(fh).get("base_fingerprint") == mine:
                    return path
        except (OSError, ValueError):
            continue
    return None


def meta_path(adapter_path: str) -> str:
    return adapter_path[:-len(SUFFIX)] + META if adapter_path.endswith(SUFFIX) else \
        os.path.splitext(adapter_path)[0] + ".json"


def check(adapter_path: str, model_path: str) -> dict:
    """The adapter's metadata when it may be loaded with this model; AdapterError if not."""
    from .gguf import GGUFError, check_gguf
    from .runtime import _file_sha256, model_fingerprint
    name = os.path.basename(adapter_path)
    try:
        info = check_gguf(adapter_path)
    except GGUFError as e:
        raise AdapterError(f"adapter {name} is not usable: {e}") from None
    kind = info["metadata"].get("adapter.type")
    if kind != "lora":
        raise AdapterError(f"{name} is not a LoRA adapter (a GGUF with adapter.type {kind!r})")
    try:
        with open(meta_path(adapter_path), encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise AdapterError(f"adapter {name} has no {os.path.basename(meta_path(adapter_path))} "
                           "saying which model it belongs to") from None
    except (OSError, ValueError) as e:
        raise AdapterError(f"adapter metadata unreadable: {e}") from None
    if meta.get("base_fingerprint") != model_fingerprint(model_path):
        raise AdapterError(f"adapter {name} was trained for another model "
                           f"({meta.get('base_name', 'unknown')}), not {os.path.basename(model_path)}")
    got = _file_sha256(adapter_path)
    if meta.get("sha256") != got:
        raise AdapterError(f"adapter {name} is damaged (sha256 {got[:12]}…, "
                           f"expected {str(meta.get('sha256'))[:12]}…)")
    return meta


def write_meta(adapter_path: str, model_path: str, **extra) -> str:
    """Write the JSON that ties `adapter_path` to `model_path` (make train calls this)."""
    from .runtime import _file_sha256, model_fingerprint
    meta = {"format": 1, "sha256": _file_sha256(adapter_path), "base_name": os.path.basename(model_path),
            "base_fingerprint": model_fingerprint(model_path), **extra}
    out = meta_path(adapter_path)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    return out
