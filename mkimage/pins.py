"""Reads mkimage/pins.toml: the pinned versions and checksums of the build's inputs."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

PINS_FILE = Path(__file__).with_name("pins.toml")


@lru_cache(maxsize=None)
def pins() -> dict:
    with open(PINS_FILE, "rb") as f:
        return tomllib.load(f)
