"""LoRA fine-tune of the planner's model to answer requests with canonical commands.

    python -m mkimage.train.lora --corpus train.jsonl --val val.jsonl [--run NAME] [--resume]

Corpus lines are {"request", "cwd", "command"} (command = canonical.commands(plan, cwd)).
Each example is canonical.prompt(request, cwd, fmt) followed by command + fmt.answer_end,
fmt being the base model family's canonical.Format (ChatML for SmolLM2; Gemma's own turn
markers and BOS token for Gemma); the loss is taken on the answer tokens only.
Hyper-parameters, and the base model ([base] model), come from the recipe.
The run is seeded (torch, random, numpy) and its data order is a function of the seed
alone (epoch e is a seeded permutation), so a resumed run continues the same sequence.

Output, under <cache>/train/runs/<run>/: ckpt/ (the latest resumable checkpoint), adapter/
(PEFT), adapter.gguf (llama.cpp LoRA, via the vendored convert_lora_to_gguf.py) and
adapter.gguf.sha256.  The training log, mkimage/train/log/<run>.tsv (step, epoch, train
loss, validation loss, tokens/s, wall time), and a summary, log/<run>.json, are meant to
be committed.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
import tomllib
from pathlib import Path

from mkimage.cache import file_digest as sha256
from mkimage.train import source

HERE = Path(__file__).resolve().parent
LOG_DIR = HERE / "log"
LOG_COLUMNS = ["step", "epoch", "train_loss", "val_loss", "lr", "tokens_per_s",
               "answer_tokens_per_s", "wall_s"]


def corpus_source(corpus: Path) -> dict | None:
    """The commit `make corpus` generated the corpus at (summary.json beside it), so the run's
    log says how to make its corpus again; None for a corpus from elsewhere."""
    try:
        return json.loads((Path(corpus).parent / "summary.json").read_text()).get("source")
    except (OSError, ValueError):
        return None


def load_recipe(path: Path) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        r = json.loads(line)
        if not all(isinstance(r.get(k), str) for k in ("request", "cwd", "command")):
            raise SystemExit(f"train: {path}:{n}: needs string request, cwd and command")
        rows.append(r)
    return rows


def encode(tok, rows: list[dict], max_length: int, fmt=None) -> tuple[list[tuple[list[int], list[int]]], int]:
    """(input ids, labels) per example: the prompt's labels are -100 (no loss).  fmt is the
    model family's canonical.Format (ChatML when None)."""
    from llmos_init.planner.canonical import CHATML, prompt
    fmt = fmt or CHATML
    bos = [tok.bos_token_id] if fmt.bos and tok.bos_token_id is not None else []
    out, dropped = [], 0
    for r in rows:
        p = bos + tok(prompt(r["request"], r["cwd"], fmt), add_special_tokens=False).input_ids
        a = tok(r["command"] + fmt.answer_end, add_special_tokens=False).input_ids
        if len(p) + len(a) > max_length:
            dropped += 1
            continue
        out.append((p + a, [-100] * len(p) + a))
    return out, dropped


def batch_indices(n: int, batch: int, step: int, seed: int) -> tuple[list[int], int]:
    """The example indices of optimiser step `step` (0-based) and its epoch: the stream is
    the concatenation of seeded permutations, one per epoch."""
    start = step * batch
    idx, epoch = [], start // n
    while len(idx) < batch:
        e, off = divmod(start + len(idx), n)
        perm = list(range(n))
        random.Random(seed * 1000003 + e).shuffle(perm)
        idx.extend(perm[off:off + batch - len(idx)])
    return idx, epoch


def collate(torch, examples, pad_id: int):
    L = max(len(x) for x, _ in examples)
    ids = torch.full((len(examples), L), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), L), -100, dtype=torch.long)
    mask = torch.zeros((len(examples), L), dtype=torch.long)
    for i, (x, y) in enumerate(examples):
        ids[i, :len(x)] = torch.tensor(x)
        labels[i, :len(y)] = torch.tensor(y)
        mask[i, :len(x)] = 1
    return ids, labels, mask


def answer_loss(torch, model, ids, labels, mask) -> tuple:
    """Mean cross-entropy over the answer tokens, and their count.

    The output layer runs on the positions that predict an answer token only: the prompt's
    logits are never used, and with Gemma's 262k-token vocabulary they would cost more than
    the whole transformer."""
    lm = model.get_base_model() if hasattr(model, "get_base_model") else model   # under PEFT
    hidden = lm.model(input_ids=ids, attention_mask=mask).last_hidden_state[:, :-1]
    tgt = labels[:, 1:]
    keep = tgt != -100
    logits = lm.get_output_embeddings()(hidden[keep]).float()
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:                       # Gemma: as its forward() does after the output layer
        logits = torch.tanh(logits / cap) * cap
    loss_sum = torch.nn.functional.cross_entropy(logits, tgt[keep], reduction="sum")
    n = int(keep.sum())
    return loss_sum / max(n, 1), n


def validate(torch, model, data, pad_id: int, batch: int) -> float:
    model.eval()
    tot, cnt = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(data), batch):
            ids, labels, mask = collate(torch, data[i:i + batch], pad_id)
            loss, n = answer_loss(torch, model, ids, labels, mask)
            tot += float(loss) * n
            cnt += n
    model.train()
    return tot / max(cnt, 1)


def lr_at(step: int, recipe: dict) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    t = recipe["train"]
    peak, warm, total = t["lr"], t["warmup_steps"], t["steps"]
    if step < warm:
        return peak * (step + 1) / warm
    frac = (step - warm) / max(1, total - warm)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


def seed_all(torch, seed: int) -> None:
    import numpy as np
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(corpus: Path, val: Path, recipe_path: Path, run: str, resume: bool,
          out: Path | None = None, log_dir: Path = LOG_DIR, stop_after: int | None = None) -> Path | None:
    recipe = load_recipe(recipe_path)
    t = recipe["train"]
    os.environ.setdefault("OMP_NUM_THREADS", str(t["threads"]))
    import torch
    torch.set_num_threads(t["threads"])
    torch.use_deterministic_algorithms(True, warn_only=True)
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from mkimage import cache
    from . import base

    from llmos_init.planner.canonical import format_for
    gguf = base.gguf_path(recipe.get("base", {}).get("model", "smollm2"))
    hf = base.hf_dir(gguf)
    out = Path(out) if out else cache.entry("train", f"runs/{run}")
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "ckpt"

    seed_all(torch, t["seed"])
    tok = AutoTokenizer.from_pretrained(hf)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    train_rows, val_rows = read_jsonl(corpus), read_jsonl(val)
    model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32)
    fmt = format_for(model.config.model_type)
    train_data, dropped = encode(tok, train_rows, t["max_length"], fmt)
    val_data, vdropped = encode(tok, val_rows, t["max_length"], fmt)
    if not train_data:
        raise SystemExit("train: empty corpus")
    lc = recipe["lora"]
    model = get_peft_model(model, LoraConfig(
        r=lc["rank"], lora_alpha=lc["alpha"], lora_dropout=lc["dropout"],
        target_modules=list(lc["target_modules"]), bias="none", task_type="CAUSAL_LM"))
    init = recipe.get("init", {}).get("run")
    if init:      # a continuation: start from another run's adapter (make train RUN=<init> first)
        start = cache.entry("train", f"runs/{init}") / "adapter" / "adapter_model.safetensors"
        if not start.is_file():
            raise SystemExit(f"train: this recipe continues run {init!r}, which has no adapter "
                             f"({start}); train it first: make train RUN={init}")
        missing = set_peft_model_state_dict(model, load_file(start)).unexpected_keys
        if missing:
            raise SystemExit(f"train: {start} does not fit this recipe's LoRA ({len(missing)} keys)")
        print(f"train: starting from run {init}'s adapter", file=sys.stderr)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=t["lr"], weight_decay=t["weight_decay"])
    n_trainable = sum(p.numel() for p in params)

    step, wall0 = 0, 0.0
    log_path = log_dir / f"{run}.tsv"
    log_dir.mkdir(parents=True, exist_ok=True)
    if resume and (ckpt / "state.pt").exists():
        st = torch.load(ckpt / "state.pt", weights_only=False)
        set_peft_model_state_dict(model, load_file(ckpt / "adapter_model.safetensors"))
        opt.load_state_dict(st["optimizer"])
        step, wall0 = st["step"], st["wall_s"]
        torch.set_rng_state(st["torch_rng"])
        random.setstate(st["py_rng"])
        print(f"train: resumed {run} at step {step}", file=sys.stderr)
        if log_path.exists():   # drop log rows past the checkpoint (a crash after it)
            keep = [l for l in log_path.read_text().splitlines()
                    if l.startswith("step") or int(l.split("\t")[0]) <= step]
            log_path.write_text("".join(l + "\n" for l in keep))
    else:
        if ckpt.exists():
            shutil.rmtree(ckpt)
        log_path.write_text("\t".join(LOG_COLUMNS) + "\n")

    meta = {"run": run, "recipe": recipe, "corpus": str(corpus), "corpus_sha256": sha256(corpus),
            "val": str(val), "val_sha256": sha256(val), "train_examples": len(train_data),
            "train_dropped_too_long": dropped, "val_examples": len(val_data),
            "val_dropped_too_long": vdropped, "base_gguf": str(gguf),
            "base_gguf_sha256": hf.name.removeprefix("hf-"), "trainable_params": n_trainable,
            "torch": torch.__version__, "init_run": init,
            "init_adapter_sha256": sha256(start) if init else None,
            "source": source.describe(HERE.parents[1]),
            "corpus_source": corpus_source(corpus)}
    print(f"train: {len(train_data)} examples ({dropped} too long), val {len(val_data)}, "
          f"{n_trainable} trainable params, {t['steps']} steps of {t['batch']}", file=sys.stderr)

    def log_row(**kv):
        with open(log_path, "a") as f:
            f.write("\t".join(str(kv.get(c, "")) for c in LOG_COLUMNS) + "\n")

    def save_ckpt():
        tmp = out / "ckpt.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        model.save_pretrained(tmp)
        torch.save({"optimizer": opt.state_dict(), "step": step, "wall_s": wall,
                    "torch_rng": torch.get_rng_state(), "py_rng": random.getstate(),
                    "acc": [acc_loss, acc_n, acc_tok, acc_ans, acc_t]},
                   tmp / "state.pt")
        if ckpt.exists():
            shutil.rmtree(ckpt)
        tmp.rename(ckpt)

    model.train()
    t0 = time.monotonic() - wall0
    wall = wall0
    acc_loss = acc_n = acc_tok = acc_ans = 0
    acc_t = 0.0                              # seconds spent in training steps since the last row
    if resume and step:                      # the log row in progress goes on where it stopped
        acc_loss, acc_n, acc_tok, acc_ans, acc_t = st.get("acc", [0, 0, 0, 0, 0.0])
    if step == 0 and val_data:
        log_row(step=0, val_loss=f"{validate(torch, model, val_data, pad_id, t['batch']):.4f}",
                wall_s=f"{time.monotonic() - t0:.1f}")
    while step < t["steps"]:
        s0 = time.monotonic()
        idx, epoch = batch_indices(len(train_data), t["batch"], step, t["seed"])
        ids, labels, mask = collate(torch, [train_data[i] for i in idx], pad_id)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, recipe)
        loss, n = answer_loss(torch, model, ids, labels, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, t["grad_clip"])
        opt.step()
        step += 1
        acc_t += time.monotonic() - s0
        acc_loss += loss.detach().item() * n
        acc_n += n
        acc_tok += int(mask.sum())
        acc_ans += n
        last = step == t["steps"]
        if step % t["eval_every"] == 0 or last:
            dt = max(acc_t, 1e-9)     # training time only: validation and checkpoints excluded
            v = validate(torch, model, val_data, pad_id, t["batch"]) if val_data else float("nan")
            wall = time.monotonic() - t0
            log_row(step=step, epoch=epoch, train_loss=f"{acc_loss / max(acc_n, 1):.4f}",
                    val_loss=f"{v:.4f}", lr=f"{lr_at(step - 1, recipe):.2e}",
                    tokens_per_s=f"{acc_tok / dt:.1f}", answer_tokens_per_s=f"{acc_ans / dt:.1f}",
                    wall_s=f"{wall:.1f}")
            print(f"train: step {step} loss {acc_loss / max(acc_n, 1):.4f} val {v:.4f} "
                  f"{acc_tok / dt:.0f} tok/s wall {wall:.0f}s", file=sys.stderr, flush=True)
            acc_loss = acc_n = acc_tok = acc_ans = 0
            acc_t = 0.0
        pause = stop_after is not None and step >= stop_after and not last
        if step % t["checkpoint_every"] == 0 or last or pause:
            wall = time.monotonic() - t0
            save_ckpt()
        if pause:
            print(f"train: stopped at step {step}; --resume continues", file=sys.stderr)
            return None

    adapter = out / "adapter"
    if adapter.exists():
        shutil.rmtree(adapter)
    model.save_pretrained(adapter)
    gguf_out = export(adapter, hf, out / "adapter.gguf", recipe["export"]["outtype"])
    digest = sha256(gguf_out)
    (out / "adapter.gguf.sha256").write_text(f"{digest}  adapter.gguf\n")
    meta.update({"steps": step, "wall_s": round(time.monotonic() - t0, 1),
                 "adapter_gguf": str(gguf_out), "adapter_gguf_sha256": digest,
                 "adapter_gguf_bytes": gguf_out.stat().st_size})
    (log_dir / f"{run}.json").write_text(json.dumps(meta, indent=1, default=str) + "\n")
    print(f"train: {gguf_out} ({gguf_out.stat().st_size} bytes) sha256 {digest}", file=sys.stderr)
    return gguf_out


def export(adapter: Path, hf: Path, outfile: Path, outtype: str = "f16") -> Path:
    """The PEFT adapter as a llama.cpp GGUF LoRA, by llama.cpp's own convert_lora_to_gguf.py."""
    import subprocess
    from .convert import scripts
    d = scripts()
    subprocess.run([sys.executable, str(d / "convert_lora_to_gguf.py"), "--base", str(hf),
                    "--outfile", str(outfile), "--outtype", outtype, str(adapter)],
                   check=True, cwd=d)
    return outfile


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--val", type=Path, required=True)
    ap.add_argument("--recipe", type=Path, default=HERE / "recipe.toml")
    ap.add_argument("--run", default=None, help="run name (default: the recipe's name)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    ap.add_argument("--steps", type=int, default=None, help="override the recipe's steps")
    ap.add_argument("--stop-after", type=int, default=None,
                    help="checkpoint and stop after step N (--resume continues)")
    a = ap.parse_args(argv)
    recipe_path = a.recipe
    if a.steps is not None:   # an override is written next to the run, so it is still logged
        r = load_recipe(a.recipe)
        r["train"]["steps"] = a.steps
    r0 = load_recipe(a.recipe)
    run = a.run or r0.get("run") or r0["name"]
    if a.steps is not None:
        from mkimage import cache
        p = cache.entry("train", f"runs/{run}")
        p.mkdir(parents=True, exist_ok=True)
        recipe_path = p / "recipe.toml"
        recipe_path.write_text(_toml(r))
    train(a.corpus, a.val, recipe_path, run, a.resume, a.out, stop_after=a.stop_after)


def _toml(d: dict, prefix: str = "") -> str:
    """Just enough TOML for a recipe (scalars, lists of strings, one level of tables)."""
    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        return repr(v)
    lines = [f"{k} = {val(v)}" for k, v in d.items() if not isinstance(v, dict)]
    for k, v in d.items():
        if isinstance(v, dict):
            lines.append(f"\n[{k}]")
            lines += [f"{kk} = {val(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
