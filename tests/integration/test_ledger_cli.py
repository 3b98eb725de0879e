"""``kassa ledger check``, ``kassa sandbox chargeback`` and ``tokenize`` from the command line."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import orjson
from typer.testing import CliRunner

from kassa.adapters.db.driver import Stmt
from kassa.bootstrap import open_store
from kassa.cli.main import app
from testkit import create_project

if TYPE_CHECKING:
    import pytest

runner = CliRunner()


def test_ledger_check_passes_on_an_empty_ledger(
    database_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No postings: exit 0 and an ok report."""
    monkeypatch.setenv("KASSA_DATA_DIR", str(tmp_path))
    done = runner.invoke(app, ["ledger", "check", "--database-url", database_url, "--json"])
    assert done.exit_code == 0, done.output
    assert orjson.loads(done.stdout)["ok"] is True


def test_ledger_check_fails_on_an_unbalanced_transaction(
    database_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction whose postings do not sum to zero makes the check exit 1 naming it."""
    monkeypatch.setenv("KASSA_DATA_DIR", str(tmp_path))

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


def test_tokenize_vaults_the_card_and_prints_its_number_hash(
    database_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hash printed is the vault's; the same card gives the same hash; no number shown."""
    monkeypatch.setenv("KASSA_DATA_DIR", str(tmp_path))
    project = asyncio.run(create_project(database_url)).id
    args = ["sandbox", "tokenize", project, "4242 4242 4242 4242", "--month", "1", "--year", "31"]
    done = runner.invoke(app, [*args, "--database-url", database_url, "--json"])
    assert done.exit_code == 0, done.output
    found = orjson.loads(done.stdout)
    assert (found["brand"], found["last4"]) == ("visa", "4242")
    assert "4242424242424242" not in done.stdout
    again = runner.invoke(app, [*args, "--database-url", database_url])
    assert again.stdout.strip() == found["number_hash"]

    async def stored() -> list[tuple[object, ...]]:
        store = await open_store(database_url)
        try:
            return await store.driver.fetch(
                "SELECT number_hash, card FROM vault_cards WHERE project_id = ?", (project,)
            )
        finally:
            await store.close()

    [(number_hash, card)] = asyncio.run(stored())
    assert number_hash == found["number_hash"]
    assert "4242424242424242" not in str(card)


def test_tokenize_refuses_bad_cards_unknown_projects_and_production(
    database_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Luhn-invalid or expired input and unknown projects exit 1; outside the sandbox, 2."""
    monkeypatch.setenv("KASSA_DATA_DIR", str(tmp_path))
    project = asyncio.run(create_project(database_url)).id
    url = ["--database-url", database_url]
    expiry = ["--month", "12", "--year", "30"]
    bad = runner.invoke(app, ["sandbox", "tokenize", project, "4242424242424241", *expiry, *url])
    assert bad.exit_code == 1
    assert "bank_card.number: fails the Luhn check" in bad.output
    month = ["--month", "13", "--year", "30"]
    bad = runner.invoke(app, ["sandbox", "tokenize", project, "4242424242424242", *month, *url])
    assert bad.exit_code == 1
    unknown = runner.invoke(
        app, ["sandbox", "tokenize", "pj_nope", "4242424242424242", *expiry, *url]
    )
    assert unknown.exit_code == 1
    assert "pj_nope" in unknown.output
    monkeypatch.setenv("KASSA_SANDBOX", "0")
    live = runner.invoke(app, ["sandbox", "tokenize", project, "4242424242424242", *expiry, *url])
    assert live.exit_code == 2
