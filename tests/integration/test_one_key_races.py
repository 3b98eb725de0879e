"""Many requests with one idempotency key, on the methods whose claim is deferred.

``init/payment``, ``session/refund`` and ``init/payout`` store their key with the commit of
their operation's intent (``service/idempotency.py``), so requests with one key may all decide
before any commits. Exactly one intent commits; every other request writes nothing and is told
the key is in flight, or gets the winner's reply — never an error of its own making, never a
second charge, refund or reservation. In-process, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from acquiring_kit import init_body
from payout_kit import payout_body, payouts_of
from probes import Barrier, CountingHold, HoldAt

if TYPE_CHECKING:
    import httpx

    from acquiring_kit import Kassa

RACERS = 50
IN_FLIGHT = "idempotency_key_already_exists"


async def _first_held_then_more(
    kassa: Kassa, hold: HoldAt, method: str, body: dict[str, Any]
) -> tuple[asyncio.Task[httpx.Response], list[httpx.Response]]:
    """``method`` with key ``k`` held at ``hold``'s step; 49 more sent meanwhile, answered."""
    hold.armed = True
    first = asyncio.create_task(kassa.post(method, body, idempotency_key="k"))
    await asyncio.wait_for(hold.reached.wait(), 10)
    others = await asyncio.gather(
        *(kassa.post(method, body, idempotency_key="k") for _ in range(RACERS - 1))
    )
    return first, list(others)


async def _racing_to_commit(
    kassa: Kassa, hold: CountingHold, method: str, body: dict[str, Any]
) -> tuple[list[httpx.Response], int]:
    """All racers' answers (the first held before its commit), and how many decided."""
    decided = hold.seen["intent:decided"]
    first, others = await _first_held_then_more(kassa, hold, method, body)
    hold.release()
    answers = [*others, await first]
    return answers, hold.seen["intent:decided"] - decided


async def _held_winner_keeps_its_key(
    kassa: Kassa, hold: HoldAt, method: str, body: dict[str, Any]
) -> httpx.Response:
    """The first request held after its intent; 49 more told "in flight"; its reply replays."""
    first, others = await _first_held_then_more(kassa, hold, method, body)
    assert {r.status_code for r in others} == {400}
    assert all(r.json()["error"]["code"] == IN_FLIGHT for r in others)
    assert all(int(r.headers["retry-after"]) >= 1 for r in others)
    hold.release()
    won = await first
    assert won.status_code == 200, won.text
    replay = await kassa.post(method, body, idempotency_key="k")
    assert replay.content == won.content
    return won


def _one_reply_or_in_flight(answers: list[httpx.Response]) -> bytes:
    """Every answer is one and the same 200 body or "in flight"; that body."""
    replies = {r.content for r in answers if r.status_code == 200}
    assert len(replies) == 1, replies
    refused = [r for r in answers if r.status_code != 200]
    assert all(r.status_code == 400 for r in refused), [r.text for r in refused]
    assert all(r.json()["error"]["code"] == IN_FLIGHT for r in refused)
    return replies.pop()


async def _sessions(kassa: Kassa) -> int:
    rows = await kassa.store.driver.fetch(
        "SELECT COUNT(*) FROM sessions WHERE project_id = ?", (kassa.project.id,)
    )
    return int(rows[0][0])


async def _one_authorised_session(kassa: Kassa) -> None:
    """The project holds one session, and the processor authorised once."""
    assert await _sessions(kassa) == 1
    assert [c[0] for c in await kassa.processor_calls()] == ["authorize"]


async def test_fifty_simultaneous_inits_with_one_key_charge_once(open_kassa: Any) -> None:
    """50 init/payment with one key while the first holds after its intent: one payment.

    The first request's intent committed, storing its key bound to the payment, and it is held
    there, before the processor call, until the other 49 have answered: each decided, lost the
    key at its own commit, and was told the key is in flight (with ``Retry-After``). Then the
    first goes on; a retry with the key replays its reply.
    """
    hold = HoldAt("intent:committed")
    kassa = await open_kassa(hold)
    await _held_winner_keeps_its_key(kassa, hold, "session/init/payment", init_body())
    await _one_authorised_session(kassa)


async def test_inits_with_one_key_racing_to_their_commit_make_one_payment(open_kassa: Any) -> None:
    """50 init/payment with one key, the first held before its commit: one of them wins.

    All 50 decide (the probe counts them); the first commit stores the key and every other
    commit fails as a whole: one session, one authorisation, one reply.
    """
    hold = CountingHold("intent:decided")
    kassa = await open_kassa(hold)
    body = init_body()
    answers, decided = await _racing_to_commit(kassa, hold, "session/init/payment", body)
    assert decided == RACERS  # the race: every request reached its commit
    reply = _one_reply_or_in_flight(answers)
    await _one_authorised_session(kassa)
    replay = await kassa.post("session/init/payment", body, idempotency_key="k")
    assert replay.content == reply


async def test_refunds_with_one_key_racing_to_their_commit_refund_once(open_kassa: Any) -> None:
    """50 ``session/refund`` of one payment with one key: one refund, sent to the processor once.

    A barrier holds every request after its decision until all 50 have decided on the same
    session; then one intent commits. Every other commit fails as a whole (on the key, or on
    the session's version — then its rerun finds nothing left to refund, an error of its own
    that is never the answer): the key is in flight, or replays.
    """
    barrier = Barrier(parties=RACERS, timeout=20)
    kassa = await open_kassa(barrier, auto_confirm=True)
    sid = (await kassa.ok("session/init/payment", init_body()))["session"]["id"]
    body = {"session_id": sid}
    barrier.reset()
    answers = await asyncio.gather(
        *(kassa.post("session/refund", body, idempotency_key="k") for _ in range(RACERS))
    )
    assert barrier.arrived == RACERS  # the race: every request decided before any committed
    reply = _one_reply_or_in_flight(list(answers))
    [refund] = (await kassa.session(sid))["acquiring_payments"][0]["refunds"]
    assert refund["status"] == "accepted"
    assert await kassa.processor_calls(refund["id"]) == [("refund", refund["id"], 10000)]
    assert (await kassa.webhook_types(sid)).count("payment_refunded") == 1
    replay = await kassa.post("session/refund", body, idempotency_key="k")
    assert replay.content == reply


async def test_payouts_with_one_key_racing_for_a_wallet_of_one_reserve_once(
    open_kassa: Any,
) -> None:
    """50 ``init/payout`` with one key against a wallet that holds exactly one payout.

    Every racer decides a new session; one commits its reservation. Each other commit fails
    as a whole on the key (checked before the wallet's guarded debit, which would refuse it
    too), so ``insufficient_funds`` is never an answer: the key is in flight, or replays.
    One session, one payout, one reservation.
    """
    hold = CountingHold("intent:decided")
    kassa = await open_kassa(hold, auto_confirm=True)
    await kassa.topup(1000)
    answers, decided = await _racing_to_commit(
        kassa, hold, "session/init/payout", payout_body(amount=1000)
    )
    assert decided == RACERS
    reply = _one_reply_or_in_flight(answers)
    assert await _sessions(kassa) == 1
    assert await kassa.wallet() == {"usd": 0}
    [payout] = payouts_of(await kassa.session(json.loads(reply)["session"]["id"]))
    assert await kassa.processor_calls(payout["id"]) == [("payout", payout["id"], 1000)]
    await kassa.ledger_ok()


async def test_a_payout_held_after_its_reservation_keeps_its_key_from_49_more(
    open_kassa: Any,
) -> None:
    """The first payout reserved the whole wallet and is held: 49 more are told "in flight"."""
    hold = HoldAt("intent:committed")
    kassa = await open_kassa(hold, auto_confirm=True)
    await kassa.topup(1000)
    await _held_winner_keeps_its_key(kassa, hold, "session/init/payout", payout_body(amount=1000))
    assert await _sessions(kassa) == 1
