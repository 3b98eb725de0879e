"""A benchmark's figures: measurements, baselines measured in the same run, and the ratios.

Written as ``docs/benchmarks/<scenario>.md`` (for people) and ``.json`` (for machines).
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path


def _load() -> float:
    """The machine's 1-minute load average now."""
    import os  # noqa: PLC0415

    return os.getloadavg()[0]


def percentile(ordered: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of sorted values; 0 for none."""
    if not ordered:
        return 0.0
    return float(ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))])


@dataclass(frozen=True, slots=True)
class Measure:
    """One load run: completed requests (or flows), errors, and the latency distribution."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    unit: str = "req/s"

    @classmethod
    def of(
        cls,
        latencies_ms: Iterable[float],
        *,
        requests: int,
        errors: int,
        seconds: float,
        unit: str = "req/s",
    ) -> Measure:
        """A run's measure from its latencies (each percentile by ``percentile``)."""
        ordered = sorted(latencies_ms)
        return cls(
            requests=requests,
            errors=errors,
            seconds=seconds,
            p50_ms=percentile(ordered, 50),
            p95_ms=percentile(ordered, 95),
            p99_ms=percentile(ordered, 99),
            max_ms=ordered[-1] if ordered else 0.0,
            unit=unit,
        )

    @property
    def rate(self) -> float:
        """Completed per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    def row(self, name: str) -> str:
        """A markdown table row."""
        return (
            f"| {name} | {self.rate:,.0f} {self.unit} | {self.p50_ms:.1f} | {self.p95_ms:.1f} | "
            f"{self.p99_ms:.1f} | {self.max_ms:.1f} | {self.errors} of {self.requests} |"
        )


@dataclass(slots=True)
class Report:
    """Everything one ``kassa bench SCENARIO`` run measured."""

    scenario: str
    database: str
    command: str
    settings: dict[str, Any]
    results: dict[str, Measure] = field(default_factory=dict)  # kassa runs, by label
    baselines: dict[str, Measure] = field(default_factory=dict)  # same-run baselines
    figures: dict[str, float] = field(default_factory=dict)  # pgbench tps, RSS, CPU…
    goals: list[tuple[str, bool, str]] = field(default_factory=list)  # (goal, met, detail)
    notes: list[str] = field(default_factory=list)
    load_before: float = field(default_factory=_load)

    def ratio(self, result: str, baseline: str) -> float:
        """``results[result].rate / baselines[baseline].rate`` (0 if the baseline is 0)."""
        base = self.baselines[baseline].rate
        return self.results[result].rate / base if base else 0.0

    def goal(self, text: str, *, met: bool, detail: str) -> None:
        """Record whether a goal of the performance issue was met, and by how much."""
        self.goals.append((text, met, detail))

    def markdown(self) -> str:
        """The report for ``docs/benchmarks/``."""
        head = "| run | rate | p50 ms | p95 ms | p99 ms | max ms | errors |"
        lines = [
            f"# kassa bench {self.scenario} ({self.database})",
            "",
            (
                f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on "
                f"{platform.node() or 'this machine'} ({_cpus()} cores). Command:"
            ),
            "",
            f"    {self.command}",
            "",
            "Settings: " + ", ".join(f"{k}={v}" for k, v in self.settings.items()),
            "",
            (
                f"Machine load (1-minute load average) when the run began: {self.load_before:.2f}"
                " (it includes the decaying load of a benchmark run just before); the same-run"
                " ratios compare like with like, absolute rates less so."
            ),
            "",
            head,
            "|---|---|---|---|---|---|---|",
            *(m.row(name) for name, m in self.results.items()),
            *(m.row(f"baseline: {name}") for name, m in self.baselines.items()),
        ]
        if self.figures:
            lines += ["", "| figure | value |", "|---|---|"]
            lines += [f"| {k} | {v:,.2f} |" for k, v in self.figures.items()]
        if self.goals:
            lines += ["", "| goal | met | measured |", "|---|---|---|"]
            lines += [f"| {g} | {'yes' if ok else '**no**'} | {d} |" for g, ok, d in self.goals]
        if self.notes:
            lines += ["", *(f"- {n}" for n in self.notes)]
        return "\n".join(lines) + "\n"

    def write(self, folder: Path) -> tuple[Path, Path]:
        """``<folder>/<scenario>[-<database>].md`` and ``.json``."""
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{self.scenario}-{self.database.lower()}"
        md, js = folder / f"{stem}.md", folder / f"{stem}.json"
        md.write_text(self.markdown(), encoding="utf-8")
        data = {
            "scenario": self.scenario,
            "database": self.database,
            "command": self.command,
            "settings": self.settings,
            "results": {k: {**asdict(v), "rate": v.rate} for k, v in self.results.items()},
            "baselines": {k: {**asdict(v), "rate": v.rate} for k, v in self.baselines.items()},
            "figures": self.figures,
            "goals": [{"goal": g, "met": ok, "measured": d} for g, ok, d in self.goals],
            "notes": self.notes,
            "load_before": self.load_before,
        }
        js.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return md, js


def _cpus() -> int:
    import os  # noqa: PLC0415

    return os.cpu_count() or 1
