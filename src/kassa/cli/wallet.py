"""``kassa wallet …``: prefund a project's payout wallet and read its balance (the ledger)."""

from __future__ import annotations

import orjson
import typer

from kassa.cli.context import DatabaseUrl, opened_store, run, settings
from kassa.domain.errors import InvalidRequest, ProjectNotFound

app = typer.Typer(help="The prefunded payout wallet.", no_args_is_help=True)


@app.command("topup")
def topup(
    project_id: str = typer.Argument(..., help="pj_… whose wallet is funded"),
    amount: int = typer.Option(..., "--amount", help="minor units (10000 = 100.00 USD)"),
    currency: str = typer.Option(..., "--currency", help="ISO 4217 code, e.g. usd"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Prefund the payout wallet: a ledger transaction ``merchant_bank → payout_wallet``."""
    from kassa.adapters.clock import SystemClock  # noqa: PLC0415 - keep --help fast
    from kassa.domain.money import Money  # noqa: PLC0415
    from kassa.service.wallet import balances, topup  # noqa: PLC0415

    config = settings(database_url=database_url)

    async def go() -> str:
        async with opened_store(config) as store:
            tx = await topup(store, SystemClock(), project_id, Money(amount, currency))
            now = {m.currency: m.minor for m in await balances(store, project_id)}
        return f"topped up {tx.operation_id}: {amount} {tx.currency}; balance {now[tx.currency]}"

    try:
        typer.echo(run(go()))
    except ProjectNotFound as exc:
        typer.echo(f"kassa: {exc.description}", err=True)
        raise typer.Exit(1) from None
    except InvalidRequest as exc:
        typer.echo(f"kassa: {exc.description}", err=True)
        raise typer.Exit(2) from None


@app.command("balance")
def balance(
    project_id: str = typer.Argument(..., help="pj_…"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object on stdout"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """The payout wallet per currency, summed from the ledger (reservations excluded)."""
    from kassa.service.projects import load_project  # noqa: PLC0415 - keep --help fast
    from kassa.service.wallet import balances  # noqa: PLC0415

    config = settings(database_url=database_url)

    async def go() -> dict[str, int]:
        async with opened_store(config) as store:
            await load_project(store, project_id)
            return {m.currency: m.minor for m in await balances(store, project_id)}

    try:
        found = run(go())
    except ProjectNotFound as exc:
        typer.echo(f"kassa: {exc.description}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(orjson.dumps({"project_id": project_id, "wallets": found}).decode())
        return
    for currency, minor in found.items():
        typer.echo(f"{currency} {minor}")
    if not found:
        typer.echo("no wallet funded yet")
