"""``session/multi/init`` (v2): several payments and payouts in one session, all or nothing.

The session's status and ``next_action`` are derived from all its operations (written in
docs/payouts.md): any operation live → ``in_progress``; else any succeeded → ``accepted``;
else ``cancelled``; ``next_action`` is ``confirm`` while anything waits for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from acquiring_kit import init_body
from payout_kit import account, card, payout_body, wallet
from testkit import table_counts

if TYPE_CHECKING:
    from acquiring_kit import Kassa


def _multi(payments: int = 2, payouts: int = 2, amount: int = 1000) -> dict[str, Any]:
    return {
        "payment_list": [init_body(amount=5000 + i) for i in range(payments)],
        "payout_list": [
            payout_body([card(), account(), wallet()][i % 3], amount, version="v2")
            for i in range(payouts)
        ],
    }


async def test_one_session_holds_every_operation_and_confirm_finishes_them_all(
    open_kassa: Any,
) -> None:
    """Two payments and two payouts: each follows its flow; one confirm finishes all four."""
    k: Kassa = await open_kassa()
    await k.topup(5000)
    session = (await k.ok("session/multi/init", _multi(), version="v2"))["session"]
    assert [p["status"] for p in session["payment_list"]] == ["pending", "pending"]
    assert [p["status"] for p in session["payout_list"]] == ["pending", "pending"]
    assert (session["status"], session["next_action"]) == ("in_progress", "confirm")
    assert await k.wallet() == {"usd": 3000}
    done = (await k.ok("session/confirm", {"session_id": session["id"]}, version="v2"))["session"]
    assert [p["status"] for p in done["payment_list"]] == ["succeeded", "succeeded"]
    assert [p["status"] for p in done["payout_list"]] == ["succeeded", "succeeded"]
    assert done["status"] == "accepted"
    assert "next_action" not in done
    types = await k.webhook_types(session["id"])
    assert types.count("payment_finished") >= 1
    assert types[0] == "ready_to_confirm"


async def test_cancel_fails_every_pending_operation_together(open_kassa: Any) -> None:
    """Holds released, reservations returned, the session cancelled."""
    k: Kassa = await open_kassa()
    await k.topup(5000)
    session = (await k.ok("session/multi/init", _multi(), version="v2"))["session"]
    done = (await k.ok("session/cancel", {"session_id": session["id"]}, version="v2"))["session"]
    assert {p["status"] for p in (*done["payment_list"], *done["payout_list"])} == {"failed"}
    assert done["status"] == "cancelled"
    assert await k.wallet() == {"usd": 5000}
    assert "holds" not in await k.balances()


async def test_one_bad_item_refuses_the_whole_request_naming_it(open_kassa: Any) -> None:
    """A bad IBAN in payout_list[1], a missing reference in payment_list[1]: 400, nothing."""
    k: Kassa = await open_kassa()
    await k.topup(5000)
    before = await table_counts(k.database_url)
    bad = _multi()
    bad["payout_list"][1]["payout_details"]["bank_account"]["global"]["iban"] = (
        "GB00WEST12345698765432"
    )
    said = await k.error("session/multi/init", bad, 400, "invalid_request", version="v2")
    assert said.startswith("payout_list[1].payout_details.bank_account.global.iban")
    bad = _multi()
    bad["payment_list"][1]["customer"] = {}
    said = await k.error("session/multi/init", bad, 400, "invalid_request", version="v2")
    assert said.startswith("payment_list[1].customer.reference")
    bad = _multi()
    del bad["payout_list"][0]["participant_details"]
    said = await k.error("session/multi/init", bad, 400, "invalid_request", version="v2")
    assert said.startswith("payout_list[0].participant_details.recipient.full_name")
    await k.error("session/multi/init", _multi(payouts=6), 422, "insufficient_funds", version="v2")
    await k.error("session/multi/init", {}, 400, "invalid_request", version="v2")
    assert await table_counts(k.database_url) == before


async def test_status_follows_all_operations(open_kassa: Any) -> None:
    """A declined payment beside a pending payout: in_progress; the payout paid: accepted."""
    k: Kassa = await open_kassa()
    await k.topup(5000)
    body = {
        "payment_list": [init_body("4000000000000002")],
        "payout_list": [payout_body(card(), 1000, version="v2")],
    }
    session = (await k.ok("session/multi/init", body, version="v2"))["session"]
    assert session["payment_list"][0]["status"] == "failed"
    assert (session["status"], session["next_action"]) == ("in_progress", "confirm")
    done = (await k.ok("session/confirm", {"session_id": session["id"]}, version="v2"))["session"]
    assert done["status"] == "accepted"
