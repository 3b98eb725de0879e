"""The benchmark report's one percentile (nearest rank), used by every scenario's measure."""

from __future__ import annotations

import random

from kassa.bench.report import Measure, percentile


def test_nearest_rank_percentiles_of_a_hundred_values() -> None:
    """Of 1..100 the p-th percentile is p."""
    ordered = [float(v) for v in range(1, 101)]
    assert [percentile(ordered, p) for p in (1, 50, 95, 99, 100)] == [1.0, 50.0, 95.0, 99.0, 100.0]


def test_a_percentile_is_always_a_value_that_was_measured() -> None:
    """Never interpolated, never out of range; none measured reads 0."""
    assert percentile([], 99) == 0.0
    assert percentile([7.0], 1) == percentile([7.0], 99) == 7.0
    assert [percentile([1.0, 2.0, 3.0], p) for p in (0, 50, 99)] == [1.0, 2.0, 3.0]


def test_a_measure_sorts_its_latencies_whatever_their_order() -> None:
    """``Measure.of`` takes latencies in any order; its rate is requests per second."""
    latencies = [float(v) for v in range(1, 201)]
    random.Random(5).shuffle(latencies)
    measure = Measure.of(latencies, requests=200, errors=3, seconds=2.0, unit="flows/s")
    assert (measure.p50_ms, measure.p95_ms, measure.p99_ms, measure.max_ms) == (100, 190, 198, 200)
    assert (measure.rate, measure.errors, measure.unit) == (100.0, 3, "flows/s")
    empty = Measure.of([], requests=0, errors=0, seconds=0.0)
    assert (empty.p99_ms, empty.max_ms, empty.rate) == (0.0, 0.0, 0.0)
