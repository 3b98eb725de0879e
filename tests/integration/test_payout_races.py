"""Payouts racing for one wallet, and confirm racing cancel on one payout.

100 payouts of 100 each against a wallet of 6000: exactly 60 are reserved and 40 refused with
``insufficient_funds``; the balance never goes below zero and the ledger, the balance rows and
the processor agree. The requests overlap for certain: a barrier holds every intent until all
100 have decided. On SQLite (one writer) and on PostgreSQL (real concurrent connections).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from payout_kit import payout_body, payouts_of
from probes import Barrier

if TYPE_CHECKING:
    from acquiring_kit import Kassa


async def test_a_hundred_payouts_against_a_wallet_for_sixty(open_kassa: Any) -> None:
    """60 reserved, 40 insufficient_funds, nothing below zero, every reservation accounted."""
    barrier = Barrier(parties=100, timeout=20)
    k: Kassa = await open_kassa(barrier)
    await k.topup(6000)
    barrier.reset()
    answers = await asyncio.gather(
        *(k.post("session/init/payout", payout_body(amount=100)) for _ in range(100))
    )
    assert barrier.arrived == 100  # every payout decided before any reservation committed
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 60 + [422] * 40
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 422} == {
        "insufficient_funds"
    }
    assert await k.wallet() == {"usd": 0}
    balances = {(b.account, b.amount) for b in await k.store.balances()}
    assert ("payout_wallet", 0) in balances
    assert ("in_flight_payouts", 6000) in balances
    rows = await k.store.driver.fetch(
        "SELECT COUNT(*) FROM sessions WHERE project_id = ?", (k.project.id,)
    )
    assert rows[0][0] == 60  # a refused payout created nothing


async def test_confirm_and_cancel_race_on_a_payout_has_one_winner(open_kassa: Any) -> None:
    """One wins; the rail is called only if confirm won; the money is paid or returned once."""
    barrier = Barrier()
    k: Kassa = await open_kassa(barrier)
    await k.topup(8 * 500)
    for _ in range(8):
        session = (await k.ok("session/init/payout", payout_body(amount=500)))["session"]
        body = {"session_id": session["id"]}
        barrier.reset()
        before = barrier.conflicts
        got = await asyncio.gather(k.post("session/confirm", body), k.post("session/cancel", body))
        assert barrier.conflicts == before + 1
        assert sorted(r.status_code for r in got) == [200, 409]
        [payout] = payouts_of(await k.session(session["id"]))
        calls = await k.processor_calls(payout["id"])
        assert (payout["status"] == "succeeded") == (calls == [("payout", payout["id"], 500)])
        assert (await k.webhook_types(session["id"])).count("payment_finished") == 1
        await k.ledger_ok()
