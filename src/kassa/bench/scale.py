"""Scenarios over size and time: ``sizes`` (10,000 vs N stored sessions) and ``soak`` (RSS).

- ``sizes``: ``session/create`` and ``session/status`` with 10,000 sessions stored, then with
  ``--sessions`` (default 1,000,000) stored, seeded in bulk (``bench/seed.py``: COPY on
  PostgreSQL, executemany on SQLite), in one run. The cost per request is the server's CPU
  milliseconds per request; flat means the big table costs at most 10 % more.
- ``soak``: ``--requests`` (default 1,000,000) requests, a create (no idempotency key, so one
  signed body may repeat) for every three status reads, in wrk runs of ``--duration`` seconds;
  the API processes' RSS after each run. The goal: under 200 MB each at the end, and no growth
  after the first run beyond noise (10 %).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from kassa.bench.procs import usage
from kassa.bench.report import Measure
from kassa.bench.seed import seed_sessions
from kassa.bench.signed import create_requests, status_requests

if TYPE_CHECKING:
    from kassa.bench.runner import Bench
    from kassa.bench.signed import BenchProject, Prepared

SMALL = 10_000
BIG = 1_000_000
FLAT = 1.10  # at most 10 % more CPU per request on the big table
GOAL_RSS_MB = 200.0
GROWTH = 0.10  # RSS may move this much after the first run (allocator noise)


def _pair(bench: Bench, base: str, project: BenchProject, ids: list[str], tag: str) -> None:
    """Measure create, then status, at the current size: rates and CPU ms per request."""
    report = bench.report
    count = min(200_000, 4000 * bench.options.seconds)
    made = bench.wrk(base, create_requests(project, count, tag))
    report.results[f"session/create, {tag} stored"] = made
    report.figures[f"CPU ms per create, {tag} stored"] = bench.cpu_ms_per_request
    read = bench.wrk(base, status_requests(project, ids))
    report.results[f"session/status, {tag} stored"] = read
    report.figures[f"CPU ms per status, {tag} stored"] = bench.cpu_ms_per_request


def sizes(bench: Bench) -> None:
    """The same loads at 10,000 and at ``--sessions`` (1,000,000) stored sessions."""
    big = bench.options.sessions or BIG
    project = bench.project()
    ids = asyncio.run(seed_sessions(bench.url, project.id, SMALL))
    base = bench.start_kassa(worker=False)
    bench.wrk(base, status_requests(project, ids[:2000]), seconds=min(3, bench.options.seconds))
    small_tag, big_tag = f"{SMALL:,}", f"{big:,}"
    _pair(bench, base, project, ids, small_tag)
    bench.stop_all()
    asyncio.run(seed_sessions(bench.url, project.id, max(0, big - SMALL)))
    base = bench.start_kassa(worker=False)
    bench.wrk(base, status_requests(project, ids[:2000]), seconds=min(3, bench.options.seconds))
    _pair(bench, base, project, ids, big_tag)
    figures = bench.report.figures
    for method in ("create", "status"):
        small = figures[f"CPU ms per {method}, {small_tag} stored"]
        large = figures[f"CPU ms per {method}, {big_tag} stored"]
        ratio = large / small if small else 0.0
        figures[f"{method}: CPU per request, {big_tag} / {small_tag}"] = ratio
        rates = (
            bench.report.results[f"session/{method}, {small_tag} stored"].rate,
            bench.report.results[f"session/{method}, {big_tag} stored"].rate,
        )
        bench.report.goal(
            f"{method}: cost per request flat from {small_tag} to {big_tag} sessions",
            met=0 < ratio <= FLAT,
            detail=f"CPU per request x{ratio:.2f}; {rates[0]:,.0f} → {rates[1]:,.0f} req/s",
        )


def _soak_requests(project: BenchProject, ids: list[str]) -> list[Prepared]:
    keyless = [replace(c, key=None) for c in create_requests(project, 1000, "soak")]
    reads = status_requests(project, ids[: 3 * len(keyless)])
    mixed: list[Prepared] = []
    for n, made in enumerate(keyless):
        mixed += [made, *reads[3 * n : 3 * n + 3]]
    return mixed


def soak(bench: Bench) -> None:
    """``--requests`` requests in runs of ``--duration`` s; RSS of each API process after each."""
    project = bench.project()
    ids = asyncio.run(seed_sessions(bench.url, project.id, SMALL))
    base = bench.start_kassa(worker=False)
    load = _soak_requests(project, ids)
    sent, runs, totals = 0, 0, Measure(0, 0, 0.0, 0.0, 0.0, 0.0, 0.0)
    peaks: list[float] = []
    while sent < bench.options.requests:
        measured = bench.wrk(base, load)
        sent += measured.requests
        runs += 1
        if bench.server_pid is not None:
            rss = usage(bench.server_pid).rss_mb
            peaks.append(max(rss[1:] or rss))
        totals = Measure(
            totals.requests + measured.requests,
            totals.errors + measured.errors,
            totals.seconds + measured.seconds,
            max(totals.p50_ms, measured.p50_ms),
            max(totals.p95_ms, measured.p95_ms),
            max(totals.p99_ms, measured.p99_ms),
            max(totals.max_ms, measured.max_ms),
        )
    report = bench.report
    report.results[f"soak: create + 3 status, {runs} runs (worst run's percentiles)"] = totals
    report.figures["requests sent"] = sent
    if not peaks:
        return
    first, last = peaks[0], peaks[-1]
    report.figures["RSS MB per API process after the first run"] = first
    report.figures["RSS MB per API process at the end"] = last
    report.notes.append("RSS MB after each run: " + ", ".join(f"{p:.0f}" for p in peaks))
    report.goal(
        f"RSS < {GOAL_RSS_MB:.0f} MB per API process after {sent:,} requests",
        met=last < GOAL_RSS_MB,
        detail=f"{last:.0f} MB",
    )
    report.goal(
        "no RSS growth after the first run (≤ 10 %)",
        met=last <= first * (1 + GROWTH),
        detail=f"{first:.0f} → {last:.0f} MB",
    )
