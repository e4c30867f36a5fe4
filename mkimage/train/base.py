"""The base model for training: the build's own GGUF, dequantised into a HF model dir.

`hf_dir()` loads a pinned GGUF (mkimage.model: SmolLM2 by default, the same file the image
ships; a recipe's [base] model = "gemma3" names the other) with transformers'
`from_pretrained(dir, gguf_file=...)`, which dequantises it to float32, and saves model +
tokenizer under <cache>/train/hf-<gguf sha256[:16]>/.  Training
starts from that dir and convert_lora_to_gguf.py reads its config as the adapter's base.
"""
from __future__ import annotations

import sys
from pathlib import Path

from mkimage import cache, model


def gguf_path(name: str = "smollm2") -> Path:
    """The pinned GGUF called `name` (mkimage/pins.toml [model.NAME])."""
    return model.pinned(name)


def hf_dir(gguf: Path | None = None) -> Path:
    gguf = Path(gguf) if gguf else gguf_path()
    sha = cache.file_digest(gguf)
    out = cache.entry("train", f"hf-{sha[:16]}")
    if cache.is_done(out):
        return out
    from transformers import AutoModelForCausalLM, AutoTokenizer  # heavy: only when building
    with cache.building("train", f"hf-{sha[:16]}") as tmp:
        cache.log(f"dequantising {gguf.name} into a HF model dir")
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        m = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # transformers marks a GGUF-loaded model as "quantized" (not serialisable) although
        # its weights are already float: rebuild it from a clean config and save that.
        cfg = m.config
        if hasattr(cfg, "quantization_config"):
            delattr(cfg, "quantization_config")
        plain = AutoModelForCausalLM.from_config(cfg)
        missing, unexpected = plain.load_state_dict(m.state_dict(), strict=False)
        if unexpected or [k for k in missing if k != "lm_head.weight"]:
            raise SystemExit(f"train: weights do not fit: missing {missing}, unexpected {unexpected}")
        plain.tie_weights()
        plain.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / "source.txt").write_text(f"{gguf}\nsha256 {sha}\n")
    return out


if __name__ == "__main__":
    print(hf_dir(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
