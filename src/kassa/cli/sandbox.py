"""``kassa sandbox …``: events that only the card schemes could cause, simulated."""

from __future__ import annotations

import typer

from kassa.cli.context import DatabaseUrl, run, settings
from kassa.domain.errors import KassaError

app = typer.Typer(help="Sandbox processor events.", no_args_is_help=True)


@app.command("chargeback")
def chargeback(
    payment_id: str = typer.Argument(..., help="pm_… of a succeeded payment"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Charge back what is left of a payment; the project gets ``payment_refunded``."""
    from kassa import bootstrap  # noqa: PLC0415 - keep --help fast
    from kassa.service.refunds import chargeback as charge_back  # noqa: PLC0415

    config = settings(database_url=database_url)

    async def go() -> str:
        container = await bootstrap.build(config)
        try:
            session = await charge_back(container.deps, payment_id)
        finally:
            await container.close()
        refund = session.payments[-1].refunds[-1]
        return f"chargeback {refund.id}: {refund.amount.minor} {refund.amount.currency}"

    try:
        typer.echo(run(go()))
    except KassaError as exc:
        typer.echo(f"kassa: {exc.description}", err=True)
        raise typer.Exit(1) from None
