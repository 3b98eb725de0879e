"""``kassa bench SCENARIO`` runs end to end and writes a well-formed report (not the figures).

Each scenario runs once for two seconds on one database (the ones that need several
processes on PostgreSQL, the others alternating), as the real command: wrk or the flow
driver against real ``kassa serve`` processes, the same-run baselines, the report in
markdown and JSON. No figure is asserted: speed is the benchmark's business, not the
suite's; what is checked is that every load was served without errors and every goal of the
scenario was stated with its measurement.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

PG_URL = os.environ.get("KASSA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SMOKE = ["--duration", "2", "--connections", "8", "--rate", "100"]
# scenario → (database, extra options, goals it must state)
RUNS: dict[str, tuple[str, list[str], int]] = {
    "create": ("postgresql", ["--workers", "2", "--profile"], 3),
    "status": ("sqlite", [], 1),
    "cpu": ("postgresql", [], 0),
    "card-flow": ("postgresql", ["--profile"], 1),
    "refund": ("sqlite", [], 0),
    "payout-flow": ("postgresql", [], 0),
    "mixed": ("sqlite", [], 0),
    "webhooks": ("postgresql", [], 2),
    "sizes": ("sqlite", ["--sessions", "15000"], 2),
    "soak": ("postgresql", ["--requests", "400"], 2),
    "dashboard": ("sqlite", ["--sessions", "3000"], 3),
}


def _bench(scenario: str, database: str, extra: list[str], tmp: Path) -> dict[str, Any]:
    url = f"sqlite:///{tmp / 'bench.sqlite3'}" if database == "sqlite" else PG_URL
    done = subprocess.run(
        [sys.executable, "-m", "kassa", "bench", scenario, "--database-url", url,
         "--baseline-url", PG_URL, "--out", str(tmp / "out"),
         *SMOKE, *extra],
        capture_output=True, text=True, check=False, timeout=600,
        env={**os.environ, "KASSA_DATA_DIR": str(tmp / "data")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    stem = f"{scenario}-{'sqlite' if database == 'sqlite' else 'postgresql'}"
    markdown = (tmp / "out" / f"{stem}.md").read_text(encoding="utf-8")
    report: dict[str, Any] = json.loads((tmp / "out" / f"{stem}.json").read_text("utf-8"))
    assert markdown.startswith(f"# kassa bench {scenario} (")
    assert markdown in done.stdout
    return report


@pytest.mark.parametrize("scenario", list(RUNS))
def test_each_scenario_runs_and_reports(scenario: str, tmp_path: Path) -> None:
    """Loads served with no errors, figures measured, each goal stated with its figure."""
    database, extra, goals = RUNS[scenario]
    report = _bench(scenario, database, extra, tmp_path)
    assert report["scenario"] == scenario
    assert report["command"].startswith(f"kassa bench {scenario} ")
    assert report["results"], report
    for name, measured in {**report["results"], **report["baselines"]}.items():
        assert measured["requests"] > 0, name
        assert measured["errors"] == 0, (name, measured, report["notes"])
        assert measured["seconds"] > 0, name
        assert 0 <= measured["p50_ms"] <= measured["p99_ms"] <= measured["max_ms"], name
        assert measured["rate"] == pytest.approx(measured["requests"] / measured["seconds"])
    assert len(report["goals"]) >= goals, report["goals"]
    for goal in report["goals"]:
        assert isinstance(goal["met"], bool)
        assert goal["goal"]
        assert goal["measured"]
    assert all(isinstance(v, (int, float)) for v in report["figures"].values())
    if "--profile" in extra:  # py-spy sampled one API process during kassa's load
        profiles = [n for n in report["notes"] if n.startswith("profile of one API process")]
        assert profiles, report["notes"]
        assert f"under {scenario} " in profiles[0]  # what it holds depends on the second
        # sampled: a two-second smoke run may catch the API process between requests
