"""Summary statistics of repeated measurements: median, percentiles, a summary record."""
from __future__ import annotations

import math
from typing import Iterable


def _clean(values: Iterable[float]) -> list[float]:
    out = []
    for v in values:
        if v is None:
            continue
        f = float(v)
        if math.isnan(f):
            raise ValueError("a measurement is NaN")
        out.append(f)
    return sorted(out)


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between closest ranks (numpy's default);
    None for no values. None entries are skipped (a run that did not reach the mark)."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    xs = _clean(values)
    if not xs:
        return None
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def median(values: Iterable[float]) -> float | None:
    return percentile(values, 50)


def summary(values: Iterable[float]) -> dict:
    """{"n", "median", "p95", "min", "max", "values"} of the values that are not None."""
    xs = _clean(values)
    return {"n": len(xs), "median": percentile(xs, 50), "p95": percentile(xs, 95),
            "min": xs[0] if xs else None, "max": xs[-1] if xs else None, "values": xs}


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, None when either is missing or b is zero."""
    if a is None or b is None or b == 0:
        return None
    return a / b
