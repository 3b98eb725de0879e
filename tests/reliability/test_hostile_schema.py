"""Schemathesis against a real ``kassa serve``: every API method of ``/openapi.json``, signed.

Every generated request (positive and negative generation, half each) goes out with the
project header and a valid ``X-PARTNER-SIGN`` over the exact bytes, so the cases reach the
parsers and use cases instead of stopping at the signature check. Every answer must be a
200 ``ok`` or the documented error envelope with its documented status (``hostile_kit``),
never a 500; and after every rejected request the row count of every table is what it was
before it (the server runs without its in-process worker, so nothing else writes).

Generation only (no shrinking, no example database): the size is
``scale("cases", 5000)`` per database, spread over the operations; a failure prints the seed
and the offending requests.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

import reliability_tally
from hostile_kit import RowCounter, envelope_problem, send_case
from testkit import KassaServer, create_project

if TYPE_CHECKING:
    from collections.abc import Iterator

    from schemathesis.generation.case import Case
    from schemathesis.schemas import APIOperation

    from testkit import ProjectHandle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quiet_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KassaServer]:
    """A server without the in-process worker: only requests write to the database."""
    running = KassaServer(
        module_database_url, tmp_path_factory.mktemp("schema"), KASSA_WORKER="0"
    ).start()
    try:
        yield running
    finally:
        running.stop()


def api_operations(base_url: str) -> list[APIOperation]:
    """Every operation of ``/openapi.json`` under ``/api/`` (the signed methods)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if op.path.startswith("/api/")]


class Run:
    """What one generated run sent and saw."""

    def __init__(self, server: KassaServer, project: ProjectHandle, counter: RowCounter) -> None:
        """Send as ``project`` to ``server``; count rows with ``counter``."""
        self.http = httpx.Client(base_url=server.base_url, timeout=30.0)
        self.project = project
        self.counter = counter
        self.last = counter.counts()
        self.cases = 0
        self.rejected = 0
        self.rejected_unchanged = 0
        self.accepted = 0
        self.by_status: dict[int, int] = {}
        self.per_operation: dict[str, int] = {}
        self.problems: list[str] = []
        self.send_seconds = 0.0
        self.count_seconds = 0.0

    def one(self, label: str, case: Case) -> None:
        """Send one case and judge the answer and the row counts."""
        t0 = time.perf_counter()
        raw, response = send_case(self.http, case, self.project.id, self.project.key)
        t1 = time.perf_counter()
        now = self.counter.counts()
        self.send_seconds += t1 - t0
        self.count_seconds += time.perf_counter() - t1
        self.cases += 1
        self.per_operation[label] = self.per_operation.get(label, 0) + 1
        self.by_status[response.status_code] = self.by_status.get(response.status_code, 0) + 1
        problem = envelope_problem(
            response.status_code, response.headers.get("content-type", ""), response.content
        )
        if response.status_code >= 400:
            self.rejected += 1
            changed = {t: (self.last[t], now[t]) for t in now if now[t] != self.last[t]}
            if changed:
                problem = (problem + "; " if problem else "") + f"rejected but wrote {changed}"
            else:
                self.rejected_unchanged += 1
        else:
            self.accepted += 1
        if problem is not None and len(self.problems) < 20:
            self.problems.append(
                f"{label}: {problem}\n  request: {raw[:500]!r}\n  headers: "
                f"{dict(case.headers)!r}\n  answer {response.status_code}: {response.text[:300]}"
            )
        elif problem is not None:
            self.problems.append(label)
        self.last = now


def generate(op: APIOperation, mode: GenerationMode, n: int, start: int) -> list[Case]:
    """``n`` generated cases of one operation in one mode, with seed ``start``."""
    strategy: st.SearchStrategy[Any] = op.as_strategy(generation_mode=mode)
    cases: list[Case] = []

    @seed(start)
    @settings(
        max_examples=n,
        phases=[Phase.generate],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def sample(case: Case) -> None:
        cases.append(case)

    sample()
    return cases


class Generated:
    """The cases of one ``make test`` run, generated once and sent to every database."""

    def __init__(self, base_url: str, target: int, base_seed: int) -> None:
        """At least ``target`` cases over every operation, half positive, half negative."""
        started = time.monotonic()
        self.operations = api_operations(base_url)
        self.seed = base_seed
        self.cases: list[tuple[str, Case]] = []
        rounds = 0
        while len(self.cases) < target and rounds < 5:
            per_op = max(2, (target - len(self.cases)) // (2 * len(self.operations)) + 1)
            for i, op in enumerate(self.operations):
                label = f"{op.method.upper()} {op.path}"
                for j, mode in enumerate((GenerationMode.POSITIVE, GenerationMode.NEGATIVE)):
                    made = generate(op, mode, per_op, base_seed + 1000 * rounds + 2 * i + j)
                    self.cases += [(label, case) for case in made]
            rounds += 1
        self.seconds = time.monotonic() - started


_GENERATED: dict[str, Generated] = {}


def generated(base_url: str) -> Generated:
    """The module's cases (generated by the first test that asks, from its server's schema)."""
    if "cases" not in _GENERATED:
        target = reliability_tally.scale("cases", 5000)
        base_seed = int(os.environ.get("KASSA_HOSTILE_SEED", random.randrange(2**32)))
        _GENERATED["cases"] = Generated(base_url, target, base_seed)
    return _GENERATED["cases"]


def test_generated_requests_to_every_method_answer_documented_errors_and_write_nothing(
    quiet_server: KassaServer, module_database_url: str
) -> None:
    """≥ ``scale("cases", 5000)`` signed generated requests: no 500, envelope, nothing written."""
    target = reliability_tally.scale("cases", 5000)
    made = generated(quiet_server.base_url)
    base_seed = made.seed
    operations = made.operations
    assert len(operations) >= 30, [op.path for op in operations]
    project = asyncio.run(create_project(quiet_server.database_url, name="fuzz"))
    counter = RowCounter(module_database_url)
    run = Run(quiet_server, project, counter)
    started = time.monotonic()
    try:
        for label, case in made.cases:
            run.one(label, case)
    finally:
        run.http.close()
        counter.close()
    seconds = time.monotonic() - started
    dialect = "sqlite" if module_database_url.startswith("sqlite") else "postgres"
    reliability_tally.record(
        "hostile",
        f"schemathesis-{dialect}",
        {
            "cases": run.cases,
            "operations": len(run.per_operation),
            "accepted (200 ok)": run.accepted,
            "rejected": run.rejected,
            "rejected that changed nothing": run.rejected_unchanged,
            "500 answers": sum(v for k, v in run.by_status.items() if k >= 500),
            "undocumented answers": len(run.problems),
            "statuses": " ".join(f"{k}:{v}" for k, v in sorted(run.by_status.items())),
            "seconds generating (once for both databases)": round(made.seconds, 1),
            "seconds sending and checking": round(seconds, 1),
            "seconds sending": round(run.send_seconds, 1),
            "seconds counting rows": round(run.count_seconds, 1),
            "seed": base_seed,
        },
        "KASSA_HOSTILE_SEED=<seed> .venv/bin/pytest tests/reliability/test_hostile_schema.py",
        notes=[
            (
                "Schemathesis 4 strategies from /openapi.json, positive and negative modes, "
                "every request signed with the project's key; row counts of every table checked "
                "after every request (a rejected one must leave them as they were)."
            ),
        ],
    )
    missing = {f"{op.method.upper()} {op.path}" for op in operations} - set(run.per_operation)
    assert not missing, missing
    assert run.cases >= target, (run.cases, target)
    assert not run.problems, f"seed {base_seed}:\n" + "\n".join(run.problems)
    assert run.rejected > 0
    assert run.rejected_unchanged == run.rejected
