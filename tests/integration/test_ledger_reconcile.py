"""``kassa ledger check`` reconciles the ledger with the operations and the processor.

Each corruption of the ledger, the operations or the processor's record is reported with a
message naming the operation. SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from acquiring_kit import Kassa, init_body
from kassa.adapters.db.driver import Stmt
from kassa.cli.main import app
from kassa.service.queries import check_ledger


async def _paid_and_refunded(k: Kassa) -> dict[str, str]:
    sid = (await k.ok("session/init/payment", init_body()))["session"]["id"]
    await k.ok("session/confirm", {"session_id": sid})
    body = {"session_id": sid, "amount_details": {"amount": 2500, "currency": "usd"}}
    refund = (await k.ok("session/refund", body))["session"]["acquiring_payments"][0]["refunds"][0]
    pending = (await k.ok("session/init/payment", init_body()))["session"]
    cancelled = (await k.ok("session/init/payment", init_body()))["session"]["id"]
    await k.ok("session/cancel", {"session_id": cancelled})
    payment = (await k.session(sid))["acquiring_payments"][0]["id"]
    cancelled_payment = (await k.session(cancelled))["acquiring_payments"][0]["id"]
    return {
        "sid": sid,
        "payment": payment,
        "refund": refund["id"],
        "pending_payment": pending["acquiring_payments"][0]["id"],
        "cancelled_payment": cancelled_payment,
    }


async def _sql(k: Kassa, sql: str, *params: Any) -> None:
    await k.store.driver.write([Stmt(sql, params)])


async def _drop_transaction(k: Kassa, operation: str, kind: str) -> None:
    found = await k.store.driver.fetch(
        "SELECT id FROM ledger_transactions WHERE operation_id = ? AND kind = ?", (operation, kind)
    )
    [(tx,)] = found
    await k.store.driver.write(
        [
            Stmt("DELETE FROM ledger_postings WHERE transaction_id = ?", (tx,)),
            Stmt("DELETE FROM ledger_transactions WHERE id = ?", (tx,)),
        ]
    )


Corrupt = Callable[[Kassa, dict[str, str]], Awaitable[None]]
CASES: list[tuple[str, Corrupt, str, str]] = [
    (
        "wrong_capture_amount",
        lambda k, ids: _sql(
            k,
            "UPDATE sessions SET doc = REPLACE(doc, '\"captured\":10000', '\"captured\":9000') "
            "WHERE id = ?",
            ids["sid"],
        ),
        "payment",
        "captured 9000",
    ),
    (
        "missing_capture_postings",
        lambda k, ids: _drop_transaction(k, ids["payment"], "capture"),
        "payment",
        "capture postings sum to 0",
    ),
    (
        "open_hold_not_posted",
        lambda k, ids: _drop_transaction(k, ids["pending_payment"], "authorise"),
        "pending_payment",
        "hold postings sum to 0",
    ),
    (
        "refund_without_postings",
        lambda k, ids: _drop_transaction(k, ids["refund"], "refund"),
        "refund",
        "returned 0 to the payer",
    ),
    (
        "balance_row_drifted",
        lambda k, _ids: _sql(
            k,
            "UPDATE balances SET amount = amount + 1 WHERE project_id = ? "
            "AND account = 'merchant_balance'",
            k.project.id,
        ),
        "",
        "balance row",
    ),
    (
        "processor_captured_a_released_payment",
        lambda k, ids: _sql(
            k,
            "INSERT INTO processor_calls (key, kind, operation_id, amount, currency, answer, "
            "created_at) VALUES (?, 'capture', ?, 10000, 'usd', '{\"outcome\":\"done\"}', 0)",
            ids["cancelled_payment"] + ":capture",
            ids["cancelled_payment"],
        ),
        "cancelled_payment",
        "both captured and released",
    ),
]


@pytest.mark.parametrize(("name", "corrupt", "names", "says"), CASES, ids=[c[0] for c in CASES])
async def test_each_corruption_is_reported_naming_the_operation(
    open_kassa: Any, name: str, corrupt: Corrupt, names: str, says: str
) -> None:
    """Clean before; after the corruption the check fails with a message about that operation."""
    k: Kassa = await open_kassa()
    ids = await _paid_and_refunded(k)
    await k.ledger_ok()
    await corrupt(k, ids)
    report = await check_ledger(k.store, k.deps.processor)
    assert not report.ok, name
    matching = [p for p in report.problems if says in p and (not names or ids[names] in p)]
    assert matching, report.problems
    await _repair(k)


async def _repair(k: Kassa) -> None:
    """Leave the database clean for the fixture's own ledger check."""
    await k.store.driver.write(
        [
            Stmt("DELETE FROM ledger_postings"),
            Stmt("DELETE FROM ledger_transactions"),
            Stmt("DELETE FROM balances"),
            Stmt("DELETE FROM processor_calls"),
            Stmt("DELETE FROM outbox"),
            Stmt("DELETE FROM sessions"),
        ]
    )


def test_the_command_exits_1_and_prints_the_problem(
    database_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kassa ledger check`` on a drifted balance row: exit 1, the row named on stderr."""
    import asyncio

    monkeypatch.setenv("KASSA_DATA_DIR", str(tmp_path))

    async def drift() -> None:
        from kassa.bootstrap import open_store

        store = await open_store(database_url)
        try:
            await store.driver.write(
                [
                    Stmt(
                        "INSERT INTO balances (project_id, account, currency, amount) "
                        "VALUES ('pj_x', 'merchant_balance', 'usd', 7)"
                    )
                ]
            )
        finally:
            await store.close()

    asyncio.run(drift())
    done = CliRunner().invoke(app, ["ledger", "check", "--database-url", database_url])
    assert done.exit_code == 1
    assert "pj_x account merchant_balance (usd): balance row 7" in done.output
