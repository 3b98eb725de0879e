"""``kassa admin …``: the dashboard's operator password; what ``kassa serve`` prints about it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import orjson
import typer

from kassa.cli.context import DatabaseUrl, opened_store, run, settings
from kassa.domain.errors import InvalidRequest

if TYPE_CHECKING:
    from kassa.config import Settings

app = typer.Typer(help="The dashboard's admin user.", no_args_is_help=True)


async def _ensure(config: Settings) -> str | None:
    from kassa.adapters.clock import SystemClock  # noqa: PLC0415 - keep --help fast
    from kassa.adapters.db.admin_sql import SqlAdmin  # noqa: PLC0415
    from kassa.service.admin import ensure_password  # noqa: PLC0415

    async with opened_store(config) as store:
        return await ensure_password(SqlAdmin(store.driver), SystemClock())


def announce_dashboard(config: Settings, *, human: bool) -> None:
    """Create the admin password on the first start and print it once, with the URL.

    ``human`` (``--demo``, or console logs): a block of text. Otherwise the server's output is
    JSON lines, so it is one JSON line (``"event": "dashboard"``) that log tooling can parse.
    """
    password = run(_ensure(config))
    if not human:
        line: dict[str, str] = {
            "event": "dashboard",
            "level": "info",
            "dashboard_url": f"{config.base_url}/dashboard",
            "dashboard_user": "admin",
        }
        if password is not None:
            line["dashboard_password"] = password
            line["note"] = "shown once; only its hash is stored (kassa admin set-password)"
        sys.stdout.buffer.write(orjson.dumps(line) + b"\n")
        sys.stdout.buffer.flush()
        return
    typer.echo("kassa dashboard")
    typer.echo(f"  {'dashboard_url':<20} {config.base_url}/dashboard")
    typer.echo(f"  {'dashboard_user':<20} admin")
    if password is not None:
        typer.echo(f"  {'dashboard_password':<20} {password}")
        typer.echo("  (shown once; only its hash is stored — kassa admin set-password changes it)")
    else:
        typer.echo("  password set earlier (kassa admin set-password to change it)")


@app.command("set-password")
def set_password(
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the new password from standard input"
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Set the dashboard's admin password (prompted twice, or one line on stdin); log-ins end."""
    from kassa.adapters.clock import SystemClock  # noqa: PLC0415 - keep --help fast
    from kassa.adapters.db.admin_sql import SqlAdmin  # noqa: PLC0415
    from kassa.service import admin  # noqa: PLC0415

    config = settings(database_url=database_url)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)

    async def go() -> None:
        async with opened_store(config) as store:
            await admin.set_password(SqlAdmin(store.driver), SystemClock(), password)

    try:
        run(go())
    except InvalidRequest as exc:
        typer.echo(f"kassa: {exc.description}", err=True)
        raise typer.Exit(1) from None
    typer.echo("dashboard password changed; every dashboard log-in has ended")
