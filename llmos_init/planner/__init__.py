"""The planner: natural-language requests to plans (JSON arrays of registry actions).

`Planner` is imported lazily so that importing this package costs nothing; llama_cpp is
imported only by the model loader thread.
"""
from __future__ import annotations

__all__ = ["Planner"]


def __getattr__(name):
    if name == "Planner":
        from .planner import Planner
        return Planner
    raise AttributeError(name)
