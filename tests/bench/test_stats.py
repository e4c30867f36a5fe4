import math

import pytest

from bench.stats import median, percentile, ratio, summary


def test_median_odd_and_even():
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5


def test_percentile_interpolates_like_numpy():
    xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert percentile(xs, 95) == pytest.approx(9.55)
    assert percentile(xs, 0) == 1
    assert percentile(xs, 100) == 10
    assert percentile([7.0], 95) == 7.0


def test_none_entries_are_skipped_and_empty_is_none():
    assert median([None, 5, None]) == 5
    assert median([]) is None
    assert percentile([None], 50) is None


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        percentile([1, 2], 101)
    with pytest.raises(ValueError):
        median([1.0, math.nan])


def test_summary_and_ratio():
    s = summary([0.3, 0.1, None, 0.2])
    assert s["n"] == 3 and s["median"] == pytest.approx(0.2)
    assert s["min"] == 0.1 and s["max"] == 0.3 and s["values"] == [0.1, 0.2, 0.3]
    assert s["p95"] == pytest.approx(0.29)
    assert summary([])["median"] is None
    assert ratio(3, 2) == 1.5
    assert ratio(None, 2) is None and ratio(1, 0) is None
