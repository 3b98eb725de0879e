"""``kassa``: the command line. Settings are read once, here, from flags and ``KASSA_*``."""

from __future__ import annotations

import os

import typer

from kassa import __version__
from kassa.cli import admin, bench, context, projects, wallet, webhooks
from kassa.cli import ledger as ledger_cli
from kassa.cli import sandbox as sandbox_cli
from kassa.cli.call import call
from kassa.cli.context import DatabaseUrl, settings
from kassa.cli.torture import torture

app = typer.Typer(
    name="kassa",
    help="Self-hostable Smart Glocal-compatible payment-session gateway.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(projects.app, name="projects")
app.add_typer(bench.app, name="bench")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(wallet.app, name="wallet")
app.command("call")(call)
app.command("torture")(torture)
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(sandbox_cli.app, name="sandbox")
app.add_typer(admin.app, name="admin")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def migrate(database_url: str | None = DatabaseUrl) -> None:
    """Create or upgrade the database schema to the newest migration."""
    from kassa.adapters.db.migrate import upgrade  # noqa: PLC0415 - alembic loads slowly

    config = settings(database_url=database_url)
    upgrade(config.database_url)
    typer.echo(f"database migrated: {config.database_url}")


@app.command()
def worker(
    database_url: str | None = DatabaseUrl,
    metrics_port: int | None = typer.Option(
        None,
        "--metrics-port",
        help="Serve Prometheus metrics on 127.0.0.1:PORT",
    ),
) -> None:
    """Deliver webhooks and run periodic jobs until SIGTERM (run several; they coordinate)."""
    from kassa.cli.context import run  # noqa: PLC0415
    from kassa.logging import configure  # noqa: PLC0415
    from kassa.worker import run_worker  # noqa: PLC0415 - aiohttp loads only here

    config = settings(database_url=database_url)
    configure(config.log_level, json=config.log_json)
    run(run_worker(config, metrics_port=metrics_port))


@app.command("server-key")
def server_key() -> None:
    """Print the server public key PEM (verifies kassa's webhooks)."""
    typer.echo(context.server_key(settings()).public_pem, nl=False)


@app.command()
def serve(  # noqa: PLR0917 - Typer options
    host: str | None = typer.Option(None, "--host", help="default 127.0.0.1"),
    port: int | None = typer.Option(None, "--port", help="default 8131"),
    database_url: str | None = DatabaseUrl,
    workers: int = typer.Option(1, "--workers", help="API processes (PostgreSQL only)"),
    no_worker: bool = typer.Option(False, "--no-worker", help="No in-process webhook worker"),
    demo: bool = typer.Option(
        False,
        "--demo",
        help="Create/reuse the demo project first; allow loopback webhooks unless "
        "KASSA_ALLOW_PRIVATE_WEBHOOKS says otherwise",
    ),
) -> None:
    """Serve the API."""
    import uvicorn  # noqa: PLC0415

    # The demo's receivers live on this machine: --demo relaxes the SSRF guard, unless the
    # environment decides explicitly. Production (no --demo) keeps it on by default.
    demo_private = demo and "KASSA_ALLOW_PRIVATE_WEBHOOKS" not in os.environ
    config = settings(
        host=host,
        port=port,
        database_url=database_url,
        worker=False if no_worker else None,
        allow_private_webhooks=True if demo_private else None,
    )
    if workers > 1 and config.database_url.startswith("sqlite"):
        typer.echo("kassa: --workers > 1 needs PostgreSQL (SQLite has one writer)", err=True)
        raise typer.Exit(2)
    if demo:
        from kassa.cli.demo import ensure_demo_project  # noqa: PLC0415

        ensure_demo_project(config)
    admin.announce_dashboard(config, human=demo or not config.log_json)
    # Worker processes rebuild Settings from the environment: hand them the flags.
    os.environ.update(
        {
            "KASSA_HOST": config.host,
            "KASSA_PORT": str(config.port),
            "KASSA_DATABASE_URL": config.database_url,
            "KASSA_WORKER": "1" if config.worker else "0",
            "KASSA_ALLOW_PRIVATE_WEBHOOKS": "1" if config.allow_private_webhooks else "0",
        },
    )
    uvicorn.run(
        "kassa.api.app:app_from_env",
        factory=True,
        host=config.host,
        port=config.port,
        workers=workers,
        access_log=False,
        log_level="warning",
        server_header=False,
    )


def main() -> None:
    """Entry point of the ``kassa`` script."""
    app()
