"""``kassa bench …``: benchmarks that report speed as a ratio to a same-run baseline.

``kassa bench SCENARIO``: create, status, cpu, card-flow, refund, payout-flow, mixed, webhooks,
sizes, soak, dashboard (the runner in ``kassa.bench.runner``, scenarios in
``kassa.bench.scenarios``). Each is bounded in requests and time and talks only to 127.0.0.1;
reports go to ``--out`` (docs/benchmarks/).
"""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 - Typer reads the annotations at run time

import typer

from kassa.cli.context import settings

app = typer.Typer(help="Benchmarks (reports under docs/benchmarks/).", no_args_is_help=True)


PG = "postgresql://postgres@127.0.0.1:5432/test"


def _scenario(name: str, doc: str) -> None:
    """Add ``kassa bench NAME`` running ``kassa.bench.scenarios.SCENARIOS[name]``."""

    def command(  # noqa: PLR0917 - Typer maps each parameter to one option
        database_url: str = typer.Option(
            PG,
            "--database-url",
            help="sqlite:///… or PostgreSQL; a scratch database is made beside it, then dropped",
        ),
        baseline_url: str = typer.Option(
            PG, "--baseline-url", help="PostgreSQL for the bare-minimum server and pgbench"
        ),
        duration: int = typer.Option(15, "--duration", min=2, max=3600, help="seconds per load"),
        connections: int = typer.Option(32, "--connections", min=1, max=1024),
        rate: float = typer.Option(1000.0, "--rate", min=10, max=20_000, help="fixed-rate req/s"),
        workers: int = typer.Option(2, "--workers", min=1, max=16, help="API processes (PG)"),
        sessions: int = typer.Option(
            0, "--sessions", min=0, max=10_000_000, help="sessions seeded before the run"
        ),
        requests: int = typer.Option(
            1_000_000, "--requests", min=100, max=100_000_000, help="soak: requests in all"
        ),
        localstripe: str | None = typer.Option(
            None, "--localstripe", help="create: a localstripe executable to measure too"
        ),
        profile: bool = typer.Option(
            False, "--profile", help="py-spy one API process during kassa's measured load"
        ),
        pgbouncer: bool = typer.Option(
            False, "--pgbouncer", help="PostgreSQL: kassa through a pgbouncer (transaction mode)"
        ),
        out: Path | None = typer.Option(
            None, "--out", help="folder for <scenario>-<database>.md and .json"
        ),
    ) -> None:
        from kassa.bench.report import Report  # noqa: PLC0415 - load the benchmark when run
        from kassa.bench.runner import Options, measure  # noqa: PLC0415
        from kassa.bench.scenarios import SCENARIOS  # noqa: PLC0415

        settings()
        options = Options(
            database_url=database_url,
            baseline_url=baseline_url,
            seconds=duration,
            connections=connections,
            rate=rate,
            workers=workers,
            sessions=sessions,
            requests=requests,
            localstripe=localstripe,
            profile=profile,
            pgbouncer=pgbouncer,
        )
        database = "SQLite" if database_url.startswith("sqlite") else "PostgreSQL"
        if pgbouncer and database == "SQLite":
            typer.echo("kassa: --pgbouncer needs PostgreSQL", err=True)
            raise typer.Exit(2)
        database += "+pgbouncer" if pgbouncer else ""
        line = (
            f"kassa bench {name} --database-url {database_url.rsplit('@', maxsplit=1)[-1]} "
            f"--duration {duration} --connections {connections} --rate {rate:g} "
            f"--workers {workers} --sessions {sessions}" + (" --pgbouncer" if pgbouncer else "")
        )
        report = Report(name, database, line, {"workers": workers, "connections": connections})
        measure(report, options, SCENARIOS[name])
        typer.echo(report.markdown())
        if out is not None:
            for path in report.write(out):
                typer.echo(f"wrote {path}")

    command.__doc__ = doc
    app.command(name)(command)


for _name, _doc in (
    ("create", "Signed session/create vs the bare-minimum server and pgbench, one run."),
    ("status", "session/status of stored sessions vs session/create, one run."),
    ("cpu", "CPU per session/create, kassa's app vs the bare one, in-process (no HTTP)."),
    ("card-flow", "init/payment → ready_to_confirm → confirm → payment_finished: flows/s."),
    ("refund", "Refunds of paid payments until their payment_refunded arrives."),
    ("payout-flow", "init/payout → ready_to_confirm → confirm → payment_finished: flows/s."),
    ("mixed", "A realistic mix of create, status, card flows, refunds and payouts."),
    ("webhooks", "Webhook deliveries/s with 1 and 3 workers, and commit-to-delivery lag."),
    ("sizes", "create and status at 10,000 and at --sessions (1,000,000) stored sessions."),
    ("soak", "--requests (1,000,000) create/status requests; RSS per API process after each run."),
    ("dashboard", "The dashboard's list, deep keyset page and searches at --sessions (1,000,000)."),
):
    _scenario(_name, _doc)
