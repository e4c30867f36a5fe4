"""The training recipes: each names a pinned base model the build can fetch, and a name the
shipped adapter gets (no torch needed: make train's own venv is not part of make test)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mkimage import model
from mkimage.pins import pins
from mkimage.train import ship

RECIPES = sorted((Path(__file__).resolve().parents[2] / "mkimage/train").glob("recipe*.toml"))


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_a_recipe_names_a_pinned_base(path):
    r = tomllib.loads(path.read_text())
    base = r.get("base", {}).get("model", "smollm2")
    assert base in pins()["model"] and base in model.PINNED and base in ship.NAMES
    assert r["train"]["steps"] > 0 and r["lora"]["rank"] > 0


def test_both_models_are_measured():
    bases = {tomllib.loads(p.read_text()).get("base", {}).get("model") for p in RECIPES}
    assert {"smollm2", "gemma3"} <= bases


def test_the_gemma_pin_is_four_chunk_wheels():
    p = pins()["model"]["gemma3"]
    assert len(p["pypi"]) == len(p["wheel_sha256"]) == 4
    assert all(len(h) == 64 for h in p["wheel_sha256"] + [p["gguf_sha256"]])


def test_an_unknown_base_is_a_clear_error():
    with pytest.raises(SystemExit, match="no pinned model"):
        model.pinned("nope")


def test_each_recipe_names_its_own_run_and_the_default_is_the_shipped_one():
    """make train's RUN defaults to the recipe's run: another recipe never writes over the
    shipped adapter's run and log."""
    import json
    runs = [tomllib.loads(p.read_text())["run"] for p in RECIPES]
    assert len(set(runs)) == len(runs), runs
    default = tomllib.loads((RECIPES[0].parent / "recipe.toml").read_text())["run"]
    shipped = [json.loads(p.read_text())["run"] for p in ship.SHIPPED.glob("*.lora.json")]
    assert shipped == [default]
