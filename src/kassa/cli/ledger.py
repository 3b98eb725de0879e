"""``kassa ledger check``: replay the postings and verify the ledger's invariants."""

from __future__ import annotations

import orjson
import typer

from kassa.cli.context import DatabaseUrl, opened_deps, run, settings

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)


@app.command("check")
def check(
    database_url: str | None = DatabaseUrl,
    as_json: bool = typer.Option(False, "--json", help="One JSON object on stdout"),
) -> None:
    """Verify the ledger and reconcile it with every operation and the processor's record.

    Balanced transactions, no internal account below zero, balance rows equal to their
    postings, each operation's postings equal to its state, the processor's own record of its
    calls equal to kassa's (see ``kassa.service.queries``).
    """
    from kassa.service.queries import check_ledger  # noqa: PLC0415 - keep --help fast

    config = settings(database_url=database_url)

    async def go() -> tuple[int, int, list[str]]:
        async with opened_deps(config) as deps:
            report = await check_ledger(deps.store, deps.processor)
        return report.postings, report.transactions, report.problems

    postings, transactions, problems = run(go())
    if as_json:
        out = {"ok": not problems, "postings": postings, "transactions": transactions}
        typer.echo(orjson.dumps({**out, "problems": problems}).decode())
    elif problems:
        for problem in problems:
            typer.echo(f"ledger: {problem}", err=True)
    else:
        typer.echo(f"ledger ok: {transactions} transactions, {postings} postings")
    if problems:
        raise typer.Exit(1)
