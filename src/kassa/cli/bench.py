"""``kassa bench …``: benchmarks that report speed as a ratio to a same-run baseline.

Each subcommand is bounded in requests and time and talks only to 127.0.0.1. Add a new
benchmark as a subcommand here, with its logic under ``kassa.bench``.
"""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 - Typer reads the annotations at run time

import typer

from kassa.cli.context import settings

app = typer.Typer(help="Benchmarks (reports under docs/benchmarks/).", no_args_is_help=True)


@app.command("api")
def api(
    database_url: str = typer.Option(
        "postgresql://postgres@127.0.0.1:5432/test",
        "--database-url",
        help="sqlite:///… or a PostgreSQL URL; a scratch database is created beside it",
    ),
    requests: int = typer.Option(5000, "--requests", min=100, max=200_000),
    concurrency: int = typer.Option(32, "--concurrency", min=1, max=512),
    out: Path | None = typer.Option(None, "--out", help="Append the report to this file"),
) -> None:
    """Signed session/create throughput vs the bare HTTP stack and pgbench, in one run."""
    from kassa.bench.api import bench_api  # noqa: PLC0415 - load the benchmark only when run

    settings()
    report = bench_api(database_url, requests, concurrency)
    text = report.markdown()
    typer.echo(text)
    if out is not None:
        with out.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n\n")


@app.command("webhooks")
def webhooks(  # noqa: PLR0917 - Typer maps each parameter to one option
    database_url: str = typer.Option(
        "postgresql://postgres@127.0.0.1:5432/test",
        "--database-url",
        help="A PostgreSQL URL; a scratch database is created beside it and dropped after",
    ),
    deliveries: int = typer.Option(4000, "--deliveries", min=500, max=100_000),
    rounds: int = typer.Option(3, "--rounds", min=1, max=10, help="interleaved repetitions"),
    rate: float = typer.Option(200.0, "--rate", min=10, max=2000, help="changes/s for the lag"),
    lag_seconds: float = typer.Option(10.0, "--lag-seconds", min=2, max=120),
    out: Path | None = typer.Option(None, "--out", help="Append the report to this file"),
) -> None:
    """Webhook deliveries/s with 1 and 3 workers, and p99 commit-to-delivery lag."""
    from kassa.bench.webhooks import bench_webhooks  # noqa: PLC0415 - load only when run

    if not database_url.startswith(("postgresql://", "postgres://")):
        typer.echo("kassa: bench webhooks needs PostgreSQL (several workers)", err=True)
        raise typer.Exit(2)
    report = bench_webhooks(
        database_url,
        deliveries=deliveries,
        rounds=rounds,
        rate=rate,
        lag_seconds=lag_seconds,
    )
    text = report.markdown()
    typer.echo(text)
    if out is not None:
        with out.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n\n")
