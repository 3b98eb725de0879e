"""``kassa ledger check`` and ``kassa sandbox chargeback`` from the command line."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import orjson
from typer.testing import CliRunner

from kassa.adapters.db.driver import Stmt
from kassa.bootstrap import open_store
from kassa.cli.main import app

if TYPE_CHECKING:
    import pytest

runner = CliRunner()


def test_ledger_check_passes_on_an_empty_ledger(database_url: str) -> None:
    """No postings: exit 0 and an ok report."""
    done = runner.invoke(app, ["ledger", "check", "--database-url", database_url, "--json"])
    assert done.exit_code == 0, done.output
    assert orjson.loads(done.stdout)["ok"] is True


def test_ledger_check_fails_on_an_unbalanced_transaction(database_url: str) -> None:
    """A transaction whose postings do not sum to zero makes the check exit 1 naming it."""

    async def corrupt() -> None:
        store = await open_store(database_url)
        try:
            await store.driver.write(
                [
                    Stmt(
                        "INSERT INTO ledger_transactions (id, project_id, session_id, "
                        "operation_id, kind, currency, created_at) "
                        "VALUES ('lt_bad', 'pj', 'ps', 'pm', 'capture', 'usd', 0)",
                    ),
                    Stmt(
                        "INSERT INTO ledger_postings (transaction_id, project_id, account, "
                        "currency, amount, operation_id) "
                        "VALUES ('lt_bad', 'pj', 'merchant_balance', 'usd', 5, 'pm')",
                    ),
                ],
            )
        finally:
            await store.close()

    asyncio.run(corrupt())
    done = runner.invoke(app, ["ledger", "check", "--database-url", database_url])
    assert done.exit_code == 1
    assert "lt_bad" in done.output


def test_chargeback_of_unknown_payment_exits_1(
    database_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown payment id is reported, nothing changes."""
    monkeypatch.setenv("KASSA_DATA_DIR", str(tmp_path))
    done = runner.invoke(app, ["sandbox", "chargeback", "pm_nope", "--database-url", database_url])
    assert done.exit_code == 1
    assert "pm_nope" in done.output
