"""``kassa sandbox …``: events that only the card schemes could cause, simulated."""

from __future__ import annotations

import orjson
import typer

from kassa.cli.context import DatabaseUrl, opened_deps, run, settings
from kassa.domain.errors import KassaError

app = typer.Typer(help="Sandbox processor events.", no_args_is_help=True)


@app.command("chargeback")
def chargeback(
    payment_id: str = typer.Argument(..., help="pm_… of a succeeded payment"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Charge back what is left of a payment; the project gets ``payment_refunded``."""
    from kassa.service.refunds import chargeback as charge_back  # noqa: PLC0415 - fast --help

    config = settings(database_url=database_url)

    async def go() -> str:
        async with opened_deps(config) as deps:
            session = await charge_back(deps, payment_id)
        refund = session.payments[-1].refunds[-1]
        return f"chargeback {refund.id}: {refund.amount.minor} {refund.amount.currency}"

    try:
        typer.echo(run(go()))
    except KassaError as exc:
        typer.echo(f"kassa: {exc.description}", err=True)
        raise typer.Exit(1) from None


@app.command("tokenize")
def tokenize(  # noqa: PLR0917 - Typer maps parameters to arguments and options
    project_id: str = typer.Argument(..., help="pj_… the card is vaulted for"),
    number: str = typer.Argument(..., help="card number (Luhn-valid; sandbox test cards)"),
    month: str = typer.Option(..., "--month", help="expiry month MM"),
    year: str = typer.Option(..., "--year", help="expiry year YY"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object on stdout"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Vault a card as the tokenization widget would; print its ``number_hash``.

    Use it as ``payment_details.card = {"type": "encrypted_card", "encrypted_card":
    {"number_hash": …}}`` or in ``token/info``. Sandbox only: a production kassa takes no card
    numbers on its command line.
    """
    from kassa.service.commands import BankCardInput  # noqa: PLC0415
    from kassa.service.tokens import tokenize_card  # noqa: PLC0415

    config = settings(database_url=database_url)
    if not config.sandbox:
        typer.echo("kassa: sandbox tokenize needs KASSA_SANDBOX=1", err=True)
        raise typer.Exit(2)
    card = BankCardInput(number=number, expiration_month=month, expiration_year=year)

    async def go() -> dict[str, str]:
        async with opened_deps(config) as deps:
            ref = await tokenize_card(deps, project_id, card)
        return {"number_hash": ref.number_hash, "brand": ref.brand, "last4": ref.last4}

    try:
        found = run(go())
    except KassaError as exc:
        typer.echo(f"kassa: {exc.description}", err=True)
        raise typer.Exit(1) from None
    typer.echo(orjson.dumps(found).decode() if as_json else found["number_hash"])
