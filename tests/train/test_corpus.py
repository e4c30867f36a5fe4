"""The training corpus generator (mkimage/train/corpus.py): reproducible, every pair's
command reads back as its plan, both languages and every tool, split by template, and no
request of the frozen man-page held-out set in it.  No torch needed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmos_init.planner import canonical
from llmos_init.planner.parser import Context, parse_shell
from llmos_init.tools.registry import TOOLS
from mkimage.train import corpus

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = [ROOT / "tests/eval/manpages/heldout_en.jsonl", ROOT / "tests/eval/manpages/heldout_zh.jsonl"]
N_TRAIN, N_VAL = 6000, 400
# tools that no request plans (answer and clarify are not commands)
NOT_COMMANDS = {"answer", "clarify"}


@pytest.fixture(scope="module")
def data():
    return corpus.build(corpus.SEED, N_TRAIN, N_VAL)


def test_same_seed_same_bytes(data, tmp_path):
    again = corpus.build(corpus.SEED, N_TRAIN, N_VAL)
    for split in ("train", "val"):
        assert corpus.dumps(again[split]) == corpus.dumps(data[split])
    other = corpus.build(corpus.SEED + 1, 300, 50)
    assert corpus.dumps(other["train"]) != corpus.dumps(data["train"][:300])


def test_write_is_reproducible(tmp_path):
    a = corpus.write(tmp_path / "a", corpus.SEED, 500, 60)
    b = corpus.write(tmp_path / "b", corpus.SEED, 500, 60)
    for split in ("train", "val"):
        assert (tmp_path / "a" / f"{split}.jsonl").read_bytes() == (tmp_path / "b" / f"{split}.jsonl").read_bytes()
    assert a == b


def _read_back(command: str, cwd: str) -> list[dict]:
    plan = []
    for line in command.split("\n"):
        acts = parse_shell(line, Context(cwd=cwd))
        assert acts, line
        plan += acts
        for a in acts:
            if a["tool"] == "change_dir":
                cwd = a["args"]["path"]
    return plan


def test_every_command_parses_back_to_its_plan(data):
    for split in ("train", "val"):
        for r in data[split]:
            assert set(r) == {"request", "cwd", "command", "lang", "template", "plan"}
            if r["command"] == canonical.NO_COMMAND:
                assert r["plan"] == []
                continue
            assert r["plan"], r
            assert canonical.commands(r["plan"], r["cwd"]) == r["command"]
            assert _read_back(r["command"], r["cwd"]) == r["plan"], r


def test_languages_tools_and_no_command_share(data):
    rows = data["train"]
    assert {r["lang"] for r in rows} == {"en", "zh"}
    for lang in ("en", "zh"):
        tools = {a["tool"] for r in rows if r["lang"] == lang for a in r["plan"]}
        # (a tool the model never names, such as install_update, is not trained)
        want = {t for t in TOOLS if TOOLS[t].by_model} - NOT_COMMANDS
        assert tools == want, (lang, want - tools)
    share = sum(r["command"] == canonical.NO_COMMAND for r in rows) / len(rows)
    assert 0.08 <= share <= 0.16, share
    assert any("\n" in r["command"] for r in rows)      # multi-step requests
    assert {r["cwd"] for r in rows} >= {"/", "/data", "/data/docs", "/tmp"}


def test_split_is_by_template(data):
    ids = {s: {i for r in data[s] for i in r["template"].split("+")} for s in ("train", "val")}
    assert ids["train"] and ids["val"]
    assert not ids["train"] & ids["val"]
    split = corpus.split_of(corpus.all_templates(), corpus.SEED)
    for s in ("train", "val"):
        assert all(split[i] == s for i in ids[s])
    # every template group with three or more sentences gives some to validation
    groups: dict = {}
    for t in corpus.all_templates():
        groups.setdefault((t.lang, t.tool), []).append(split[t.id])
    for key, sp in groups.items():
        if len(sp) >= 3:
            assert "val" in sp and "train" in sp, key


def test_no_heldout_request_in_the_corpus(data):
    """The man-page held-out set is frozen: its requests are only compared here, never
    shown.  The corpus `make train` uses is the generator's output less every pair whose
    request is a held-out request (exclude.py) or holds a held-out phrase (decontaminate.py),
    as `make corpus` runs them."""
    held = set()
    for f in HELDOUT:
        if f.exists():
            for line in f.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    held.add(corpus.norm(json.loads(line)["request"]))
    if not held:
        pytest.skip("no held-out set here")
    from mkimage.train import decontaminate, exclude
    phrases = decontaminate.held_out_phrases()
    hashes = exclude.held_out_hashes()
    rows = [r for r in data["train"] + data["val"] if exclude._h(r["request"]) not in hashes
            and not any(p in r["request"].casefold() for p in phrases)]
    assert len(rows) > 0.99 * (N_TRAIN + N_VAL)          # the filter drops a handful at most
    for f in (corpus.DATA / "train.clean.jsonl", corpus.DATA / "val.clean.jsonl"):
        if f.exists():
            rows += [json.loads(l) for l in f.read_text(encoding="utf-8").splitlines() if l.strip()]
    overlap = sum(corpus.norm(r["request"]) in held for r in rows)
    assert overlap == 0, f"{overlap} corpus requests are held-out requests"


def test_summary_counts(data):
    s = corpus.summary(data, corpus.SEED)
    assert s["files"]["train"]["lines"] == N_TRAIN
    assert s["files"]["val"]["lines"] == N_VAL
    assert sum(s["files"]["train"]["by_lang"].values()) == N_TRAIN


def _rendered(pieces: list, n: int = 400) -> list[str]:
    import random
    out = []
    for i in range(n):
        st = corpus.State(random.Random(i), "zh", "/data", "list_dir")
        out.append(corpus.plain(corpus.render(pieces, st, {}, False)))
    return out


def test_a_chinese_name_is_bare_only_where_it_is_set_off():
    bare = set(corpus.CJK_DIRS + corpus.CJK_NAMES)
    set_off = _rendered(["列出位置中的内容 ", ("path", None, "path")])
    after_colon = _rendered(["列出目录：", ("path", None, "path")])
    inside = _rendered(["列出", ("path", None, "path"), "里的内容"])
    for texts in (set_off, after_colon):
        assert any(t.split(" ")[-1].split("：")[-1] in bare for t in texts)
    # run into Chinese on both sides, a Chinese name is always quoted
    assert not any(t.removeprefix("列出").removesuffix("里的内容").lstrip("./~") in bare for t in inside)
