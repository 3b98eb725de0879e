"""``X-PARTNER-IDEMPOTENCY-KEY``: key + body fingerprint; running → conflict; done → replay.

``run_idempotent`` claims the key and runs the use case with the claim as the *current claim*
(a context variable): it rides on every unit of work of that request instead of on every
signature. The response is stored by the same transaction that commits the request's writes
(``commit_reply``, or ``service/operations.py`` for operations), so a replay can never disagree
with the database. A request that fails releases its key: errors are not replayed and the
client may retry. A key whose request died before committing is taken over once its lease has
passed. A key whose request committed an operation's intent and then waits on the processor is
*bound* to that operation: never taken over, and completed with the final reply by whoever
records the processor's answer (that request, or the recovery sweeper after a crash).

A use case may *defer* its claim: it runs first and its first commit inserts the key in the
same transaction as its writes — done with the reply (``session/create``, which commits once
and calls nobody), or bound to the operation whose intent it commits (the payment, refund and
payout methods, ``service/operations.py``) — one statement per request fewer. If the key
exists by then (a replay, a request in flight, another body) that commit fails and nothing of
it is written; so does any error of the use case before it. Either way the request then goes
the eager way (claim, replay or refuse, run again), so every answer is the one an eager claim
would give.
Once that commit stored the key, the claim is as good as an eager one: a later error is the
request's answer (the bound key stays, as it would), never a second run.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from kassa.domain.errors import (
    IdempotencyKeyAlreadyExists,
    IdempotencyKeyInFlight,
    InvalidRequest,
    KassaError,
)
from kassa.service.ports import IdempotencyClaim, IdempotencyRecord, IdempotencyState

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime

    from kassa.service.ports import Clock, Store, UnitOfWork

MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP status and the exact body bytes sent."""

    status: int
    body: bytes
    session_id: str | None = None  # for the request log; unknown on a replay


_CLAIM: ContextVar[IdempotencyClaim | None] = ContextVar("kassa_idempotency_claim", default=None)
_STORED: ContextVar[list[bool] | None] = ContextVar("kassa_deferred_claim_stored", default=None)


def current_claim() -> IdempotencyClaim | None:
    """The idempotency claim of the request being handled, if it sent a key."""
    return _CLAIM.get()


def claim_stored() -> None:
    """Note that a commit stored the current deferred claim's key (no eager rerun after it)."""
    stored = _STORED.get()
    if stored is not None:
        stored.append(True)


async def commit_reply(uow: UnitOfWork, reply: Reply) -> Reply:
    """Store ``reply`` under the current claim (if any) and commit it with the writes."""
    claim = current_claim()
    if claim is not None:
        uow.complete_idempotency(claim, reply.status, reply.body)
    await uow.commit()
    return reply


@dataclass(frozen=True, slots=True)
class IdempotencyPolicy:
    """How long keys are kept and how long a running request holds its key."""

    ttl: timedelta = timedelta(hours=24)
    lease: timedelta = timedelta(seconds=60)


FRESH_CLAIM = timedelta(seconds=2)  # a claim this young is most likely still running


def retry_after(existing: IdempotencyRecord, now: datetime, policy: IdempotencyPolicy) -> int:
    """Whole seconds a client should wait before retrying a key that is in flight.

    A claim younger than ``FRESH_CLAIM`` is probably a request still being answered: 1 s.
    An older one may belong to a process that died; it can be taken over when its lease runs
    out, so the answer is the time left on the lease (at least 1 s). A bound key's lease ends
    when the recovery sweeper may finish its operation.
    """
    left = max(1, math.ceil((existing.lease_until - now).total_seconds()))
    if existing.state is IdempotencyState.BOUND:
        return left  # its lease is the recovery time, not a claim's
    claimed_at = existing.lease_until - policy.lease
    if now - claimed_at < FRESH_CLAIM:
        return 1
    return left


def fingerprint(method: str, body: bytes) -> str:
    """What makes two requests "the same": the method path and the exact body bytes."""
    digest = hashlib.sha256()
    digest.update(method.encode("utf-8"))
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


async def run_idempotent(
    store: Store,
    clock: Clock,
    policy: IdempotencyPolicy,
    *,
    project_id: str,
    key: str | None,
    request_fingerprint: str,
    run: Callable[[], Awaitable[Reply]],
    deferred: bool = False,
) -> Reply:
    """Run ``run`` once per key (the claim current while it runs); replay its stored reply.

    ``deferred``: ``run`` commits once and calls nobody, so its claim may be stored by its own
    commit (see the module docstring).
    """
    if key is None:
        return await run()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        msg = f"X-PARTNER-IDEMPOTENCY-KEY: must be 1 to {MAX_KEY_LENGTH} printable characters"
        raise InvalidRequest(msg)
    if deferred:
        reply = await _run_deferred(clock, policy, project_id, key, request_fingerprint, run)
        if reply is not None:
            return reply
    now = clock.now()
    record = _running(now, policy, project_id, key, request_fingerprint)
    owner = record.owner
    existing = await store.claim_idempotency(record, now)
    if existing is not None:
        if existing.fingerprint != request_fingerprint:
            msg = "idempotency key already used with a different request"
            raise IdempotencyKeyAlreadyExists(msg)
        if existing.state is IdempotencyState.DONE and existing.response_body is not None:
            return Reply(existing.response_status or 200, existing.response_body)
        msg = "a request with this idempotency key is already in progress"
        raise IdempotencyKeyInFlight(msg, retry_after(existing, now, policy))
    claim = IdempotencyClaim(project_id=project_id, key=key, owner=owner)
    token = _CLAIM.set(claim)
    try:
        return await run()
    except BaseException:
        await store.release_idempotency(claim)  # a bound key stays: its operation finishes
        raise
    finally:
        _CLAIM.reset(token)


def _running(
    now: datetime, policy: IdempotencyPolicy, project_id: str, key: str, request_fingerprint: str
) -> IdempotencyRecord:
    """A new running claim of ``key``, owned by this request (a fresh owner token)."""
    return IdempotencyRecord(
        project_id=project_id,
        key=key,
        fingerprint=request_fingerprint,
        state=IdempotencyState.RUNNING,
        owner=secrets.token_hex(16),
        lease_until=now + policy.lease,
        expires_at=now + policy.ttl,
        created_at=now,
    )


async def _run_deferred(  # noqa: PLR0917 - run_idempotent's own arguments
    clock: Clock,
    policy: IdempotencyPolicy,
    project_id: str,
    key: str,
    request_fingerprint: str,
    run: Callable[[], Awaitable[Reply]],
) -> Reply | None:
    """Run with a claim its commit stores; None if the key existed or the use case refused."""
    record = _running(clock.now(), policy, project_id, key, request_fingerprint)
    token = _CLAIM.set(IdempotencyClaim(project_id, key, record.owner, deferred=record))
    stored: list[bool] = []
    stored_token = _STORED.set(stored)
    try:
        return await run()
    except KassaError:  # DeferredClaimLost among them: the key existed at the commit
        if stored:
            raise  # the key is stored with the intent: this error is the answer
        # Nothing was written: replay, refuse or run again the eager way, in its own order.
        return None
    finally:
        _STORED.reset(stored_token)
        _CLAIM.reset(token)
