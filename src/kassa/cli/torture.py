"""``kassa torture``: the reliability suite (``tests/reliability/``), longer.

The same tests ``make test`` runs, sized up through ``KASSA_TORTURE_*`` (read by
``tests/reliability_tally.scale``): more SIGKILLs, more generated cases, longer loads. It runs
from a source checkout (the suite is not part of the installed package) with the dev extra
installed, and regenerates ``docs/reliability.md`` with the larger counts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer


def torture(  # noqa: PLR0917 - Typer options
    kills: int = typer.Option(200, "--kills", help="SIGKILLs of the API and the worker"),
    cases: int = typer.Option(50_000, "--cases", help="generated hostile requests"),
    seconds: int = typer.Option(120, "--seconds", help="length of each load under faults"),
    clients: int = typer.Option(1000, "--clients", help="slow clients held open at once"),
    only: str | None = typer.Option(None, "-k", help="pytest -k expression: a part of it"),
    checkout: Path = typer.Option(
        Path(), "--checkout", help="the kassa source checkout holding tests/reliability"
    ),
) -> None:
    """Run tests/reliability sized up (kills, cases, seconds, clients); exit as pytest does."""
    suite = checkout / "tests" / "reliability"
    if not suite.is_dir():
        typer.echo(f"no reliability suite at {suite} (run from a kassa checkout)", err=True)
        raise typer.Exit(2)
    env = {
        **os.environ,
        "KASSA_TORTURE_KILLS": str(kills),
        "KASSA_TORTURE_CASES": str(cases),
        "KASSA_TORTURE_SECONDS": str(seconds),
        "KASSA_TORTURE_CLIENTS": str(clients),
    }
    args = [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider", "-q",
            "-o", "timeout=0"]  # fmt: skip
    if only:
        args += ["-k", only]
    done = subprocess.run(args, cwd=checkout, env=env, check=False)  # noqa: S603 - our suite
    raise typer.Exit(done.returncode)
