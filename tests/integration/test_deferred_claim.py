"""``session/create``'s deferred idempotency claim on SQLite and PostgreSQL.

Its key is inserted, done with the reply, by the transaction that stores the session (one
statement per request on PostgreSQL instead of a claim plus a write). What an eager claim
guarantees must still hold: one session per key however many requests race with it, the
same bytes for all of them, a key used with another body refused, an error storing nothing.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from kassa.domain.errors import IdempotencyKeyAlreadyExists, InvalidRequest
from kassa.domain.money import Money
from kassa.domain.session import ApiVersion
from kassa.service import sessions
from kassa.service.commands import CreateSession, DraftInput
from kassa.service.idempotency import Reply, fingerprint, run_idempotent

if TYPE_CHECKING:
    from acquiring_kit import Kassa

RACERS = 8


async def _count(kassa: Kassa, sql: str) -> int:
    [(n,)] = await kassa.store.driver.fetch(sql, (kassa.project.id,))
    return int(n)


def _create(kassa: Kassa, amount: int = 1000) -> CreateSession:
    draft = DraftInput(amount=Money(amount, "usd"), metadata="m", has_metadata=True)
    return CreateSession(kassa.project.id, ApiVersion.V1, draft)


async def _run(kassa: Kassa, key: str, body: bytes, run: Any) -> Reply:
    deps = kassa.deps
    return await run_idempotent(
        deps.store,
        deps.clock,
        deps.idempotency,
        project_id=kassa.project.id,
        key=key,
        request_fingerprint=fingerprint("session/create", body),
        run=run,
        deferred=True,
    )


async def test_racing_creates_with_one_key_store_one_session_and_answer_alike(
    open_kassa: Any,
) -> None:
    """Every racer runs the use case before any commits; one commit wins, all replay it."""
    kassa = await open_kassa()
    gate = asyncio.Barrier(RACERS)
    runs = 0

    async def run() -> Reply:
        nonlocal runs
        runs += 1
        if runs <= RACERS:
            await gate.wait()  # all racers decided, none committed: the race is real
        return await sessions.create_session(kassa.deps, _create(kassa))

    replies = await asyncio.gather(*(_run(kassa, "k-race", b"{}", run) for _ in range(RACERS)))
    assert runs == RACERS  # the losers replayed the stored reply, none ran again
    assert len({r.body for r in replies}) == 1
    assert await _count(kassa, "SELECT count(*) FROM sessions WHERE project_id = ?") == 1
    [(state, stored)] = await kassa.store.driver.fetch(
        "SELECT state, response_body FROM idempotency_keys WHERE project_id = ?",
        (kassa.project.id,),
    )
    assert state == "done"
    assert bytes(stored) == replies[0].body


async def test_a_deferred_key_refuses_another_body_and_replays_its_own(open_kassa: Any) -> None:
    """The stored key behaves as an eagerly claimed one: same body replays, another refused."""
    kassa = await open_kassa()
    first = await _run(
        kassa, "k-1", b"a", lambda: sessions.create_session(kassa.deps, _create(kassa))
    )
    again = await _run(
        kassa, "k-1", b"a", lambda: sessions.create_session(kassa.deps, _create(kassa))
    )
    assert again.body == first.body
    with pytest.raises(IdempotencyKeyAlreadyExists) as refused:
        await _run(kassa, "k-1", b"b", lambda: sessions.create_session(kassa.deps, _create(kassa)))
    assert "different request" in str(refused.value)
    assert await _count(kassa, "SELECT count(*) FROM sessions WHERE project_id = ?") == 1


async def test_a_refused_deferred_request_stores_nothing(open_kassa: Any) -> None:
    """An error of the use case leaves no key: the same key then runs and succeeds once."""
    kassa = await open_kassa()

    async def refuse() -> Reply:
        raise InvalidRequest("amount_details.amount: must be positive")

    with pytest.raises(InvalidRequest):
        await _run(kassa, "k-2", b"x", refuse)
    count_keys = "SELECT count(*) FROM idempotency_keys WHERE project_id = ?"
    assert await _count(kassa, count_keys) == 0
    done = await _run(
        kassa, "k-2", b"x", lambda: sessions.create_session(kassa.deps, _create(kassa))
    )
    assert done.status == 200
    assert await _count(kassa, count_keys) == 1
