"""``service/idempotency.py`` on fakes: run once per key, replay bytes, conflict otherwise."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from kassa.domain.errors import (
    IdempotencyKeyAlreadyExists,
    IdempotencyKeyInFlight,
    InternalError,
    InvalidRequest,
)
from kassa.service.idempotency import (
    IdempotencyPolicy,
    Reply,
    claim_stored,
    current_claim,
    fingerprint,
    retry_after,
    run_idempotent,
)
from kassa.service.ports import IdempotencyRecord, IdempotencyState
from kassa.testing import FrozenClock, InMemoryStore

if TYPE_CHECKING:
    from kassa.service.ports import IdempotencyClaim

POLICY = IdempotencyPolicy(ttl=timedelta(hours=24), lease=timedelta(seconds=60))
FP_A = fingerprint("/api/v1/session/create", b'{"a":1}')
FP_B = fingerprint("/api/v1/session/create", b'{"a":2}')


class Handler:
    """A use case that counts its runs and stores its reply under the claim."""

    def __init__(self, store: InMemoryStore, body: bytes = b'{"status":"ok","n":1}') -> None:
        """Reply ``body`` on each run."""
        self.store = store
        self.body = body
        self.runs = 0
        self.claims: list[IdempotencyClaim | None] = []

    async def __call__(self) -> Reply:
        """Run once: complete the current claim in the unit of work, like a real use case."""
        claim = current_claim()
        self.runs += 1
        self.claims.append(claim)
        async with self.store.unit_of_work() as uow:
            if claim is not None:
                uow.complete_idempotency(claim, 200, self.body)
            await uow.commit()
        return Reply(200, self.body, "ps_1")


@pytest.fixture
def store() -> InMemoryStore:
    """A fresh fake database."""
    return InMemoryStore()


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock."""
    return FrozenClock()


async def call(store, clock, run, *, key="k-1", fp=FP_A, project="pj_a") -> Reply:
    """``run_idempotent`` with the test policy."""
    return await run_idempotent(
        store, clock, POLICY, project_id=project, key=key, request_fingerprint=fp, run=run
    )


def test_fingerprint_covers_method_path_and_every_byte():
    """Same path and bytes → same fingerprint; one byte or another method → different."""
    assert fingerprint("/api/v1/session/create", b"{}") == fingerprint(
        "/api/v1/session/create", b"{}"
    )
    assert fingerprint("/api/v1/session/create", b"{}") != fingerprint(
        "/api/v1/session/create", b"{ }"
    )
    assert fingerprint("/api/v1/session/create", b"{}") != fingerprint(
        "/api/v2/session/create", b"{}"
    )


async def test_without_a_key_the_use_case_just_runs(store, clock):
    """No header: no claim, nothing stored, every call runs."""
    handler = Handler(store)
    await call(store, clock, handler, key=None)
    await call(store, clock, handler, key=None)
    assert handler.runs == 2
    assert handler.claims == [None, None]
    assert store.state.idempotency == {}


async def test_same_key_and_body_replays_the_stored_bytes(store, clock):
    """The second call returns the first reply byte for byte without running again."""
    handler = Handler(store, b'{"status":"ok","x":"\xd0\x96"}')
    first = await call(store, clock, handler)
    handler.body = b"something else"
    second = await call(store, clock, handler)
    assert handler.runs == 1
    assert (second.status, second.body) == (200, first.body)


async def test_same_key_with_another_body_is_refused(store, clock):
    """Reusing a finished key for a different request is ``idempotency_key_already_exists``."""
    await call(store, clock, Handler(store))
    with pytest.raises(IdempotencyKeyAlreadyExists, match="different request"):
        await call(store, clock, Handler(store), fp=FP_B)


async def test_same_key_while_running_is_refused(store, clock):
    """A second request while the first is still running gets the conflict, not a second run."""
    started, release = asyncio.Event(), asyncio.Event()
    handler = Handler(store)

    async def slow():
        started.set()
        await release.wait()
        return await handler()

    first = asyncio.create_task(call(store, clock, slow))
    await started.wait()
    with pytest.raises(IdempotencyKeyInFlight, match="in progress") as fresh:
        await call(store, clock, handler)
    assert fresh.value.retry_after == 1  # a young claim is most likely about to answer
    clock.advance(timedelta(seconds=20))
    with pytest.raises(IdempotencyKeyInFlight) as old:
        await call(store, clock, handler)
    assert old.value.retry_after == 40  # maybe a dead process: wait out the lease
    with pytest.raises(IdempotencyKeyAlreadyExists, match="different request") as other:
        await call(store, clock, handler, fp=FP_B)
    assert not isinstance(other.value, IdempotencyKeyInFlight)
    release.set()
    await first
    assert handler.runs == 1


async def test_failure_releases_the_key(store, clock):
    """A failed request is not replayed: the key is free and the retry runs."""

    async def failing():
        raise InvalidRequest("amount_details.amount: must be greater than 0")

    with pytest.raises(InvalidRequest):
        await call(store, clock, failing)
    assert store.state.idempotency == {}
    handler = Handler(store)
    await call(store, clock, handler, fp=FP_B)
    assert handler.runs == 1


async def test_abandoned_key_is_taken_over_after_the_lease(store, clock):
    """A key whose request died (never completed or released) is reusable once the lease ends."""
    started = asyncio.Event()

    async def dies():
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(call(store, clock, dies))
    await started.wait()
    with pytest.raises(IdempotencyKeyAlreadyExists):
        await call(store, clock, Handler(store))
    clock.advance(timedelta(seconds=61))
    handler = Handler(store)
    await call(store, clock, handler)
    assert handler.runs == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.state.idempotency["pj_a", "k-1"].response_body == handler.body


async def test_key_is_kept_for_its_retention_time(store, clock):
    """A finished key replays for 24 h; after that it may be used for a new request."""
    await call(store, clock, Handler(store))
    clock.advance(timedelta(hours=23))
    with pytest.raises(IdempotencyKeyAlreadyExists):
        await call(store, clock, Handler(store), fp=FP_B)
    clock.advance(timedelta(hours=2))
    handler = Handler(store, b"new")
    assert (await call(store, clock, handler, fp=FP_B)).body == b"new"


async def test_keys_belong_to_one_project(store, clock):
    """Project B's key ``k-1`` is independent of project A's."""
    a, b = Handler(store, b"a"), Handler(store, b"b")
    await call(store, clock, a, project="pj_a")
    assert (await call(store, clock, b, project="pj_b", fp=FP_B)).body == b"b"
    assert (a.runs, b.runs) == (1, 1)


@pytest.mark.parametrize("key", ["", "x" * 256, "line\nbreak", "tab\tkey"])
async def test_malformed_key_is_refused_naming_the_header(store, clock, key):
    """Empty, over-long or unprintable keys are ``invalid_request`` naming the header."""
    with pytest.raises(InvalidRequest, match=r"^X-PARTNER-IDEMPOTENCY-KEY"):
        await call(store, clock, Handler(store), key=key)


async def test_fifty_simultaneous_calls_run_once(store, clock):
    """50 calls while the first is still running: one runs, 49 are told it is in flight.

    The first call holds until all the others have answered, so they overlap for certain.
    """
    handler = Handler(store)
    answered = 0
    everyone = asyncio.Event()

    async def holding():
        await asyncio.wait_for(everyone.wait(), 10)
        return await handler()

    async def one() -> Reply | BaseException:
        nonlocal answered
        try:
            return await call(store, clock, holding)
        except IdempotencyKeyAlreadyExists as exc:
            return exc
        finally:
            answered += 1
            if answered == 49:
                everyone.set()

    results = await asyncio.gather(*(one() for _ in range(50)))
    assert handler.runs == 1
    in_flight = [r for r in results if isinstance(r, IdempotencyKeyInFlight)]
    assert len(in_flight) == 49  # the race happened: every other call saw the first running
    assert [r.body for r in results if isinstance(r, Reply)] == [handler.body]


def test_a_bound_key_says_to_come_back_when_recovery_may_finish_it():
    """A key bound to a pending processor call: Retry-After is the time until its recovery.

    Its lease is ``recovery_after`` long (30 s), not a claim's; the young-claim answer (1 s)
    would spend a client's whole retry budget before the sweeper could finish the operation.
    """
    now = FrozenClock().now()
    bound = IdempotencyRecord(
        "pj_1", "k", FP_A, IdempotencyState.BOUND, "o", now + timedelta(seconds=30), now
    )
    policy = IdempotencyPolicy(lease=timedelta(seconds=3))
    assert retry_after(bound, now, policy) == 30
    assert retry_after(bound, now + timedelta(seconds=29, milliseconds=500), policy) == 1
    running = replace(bound, state=IdempotencyState.RUNNING, lease_until=now + policy.lease)
    assert retry_after(running, now, policy) == 1  # a young claim: about to answer


async def test_deferred_claims_on_the_fakes_store_the_key_with_the_commit(store, clock):
    """A deferred run stores the key done; a racing second run replays it; no key on error."""
    handler = Handler(store)
    gate = asyncio.Barrier(2)

    async def racer() -> Reply:
        await gate.wait()  # both decided before either committed
        return await handler()

    async def deferred(run, key="k-d"):
        return await run_idempotent(
            store, clock, POLICY, project_id="pj_a", key=key, request_fingerprint=FP_A,
            run=run, deferred=True,
        )  # fmt: skip

    replies = await asyncio.gather(deferred(racer), deferred(racer))
    assert handler.runs == 2  # both ran; one commit stored the key, the other replayed it
    assert {r.body for r in replies} == {handler.body}
    assert all(c is not None and c.deferred is not None for c in handler.claims)
    assert store.state.idempotency["pj_a", "k-d"].state is IdempotencyState.DONE

    async def refuse() -> Reply:
        raise InvalidRequest("no")

    with pytest.raises(InvalidRequest):
        await deferred(refuse, key="k-e")
    assert ("pj_a", "k-e") not in store.state.idempotency


async def test_a_deferred_claim_bound_by_its_intent_is_never_run_again(store, clock):
    """Binding inserts the key bound; an error after that commit is the answer, not a rerun.

    Before the key is stored an error sends the request the eager way (it runs again under
    an eager claim); once an operation's intent stored it (``claim_stored``), running the
    use case again would start a second operation, so the error is the reply.
    """
    runs: list[IdempotencyClaim | None] = []

    async def intent_then_fail() -> Reply:
        claim = current_claim()
        runs.append(claim)
        assert claim is not None
        async with store.unit_of_work() as uow:
            uow.bind_idempotency(claim, clock.now() + timedelta(seconds=30))
            await uow.commit()
        if claim.deferred is not None:
            claim_stored()
        raise InternalError("the processor call failed after the intent")

    with pytest.raises(InternalError):
        await run_idempotent(
            store, clock, POLICY, project_id="pj_a", key="k-b", request_fingerprint=FP_A,
            run=intent_then_fail, deferred=True,
        )  # fmt: skip
    assert len(runs) == 1
    assert runs[0] is not None
    assert runs[0].deferred is not None
    stored = store.state.idempotency["pj_a", "k-b"]
    assert stored.state is IdempotencyState.BOUND
    assert stored.owner == runs[0].owner
    with pytest.raises(IdempotencyKeyInFlight):  # a retry waits for the operation
        await call(store, clock, intent_then_fail, key="k-b")
    assert len(runs) == 1
