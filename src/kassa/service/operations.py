"""The one path that changes an operation: intent → processor call → record, each step once.

::

    change(deps, project, decide)                       a use case is only its ``decide``
      1. intent   (one transaction, retried on a version conflict: nothing external ran yet)
                  load the session · decide (domain moves through ``Change.put``) · write the
                  session, the postings and webhooks the moves imply (``domain/transitions``)
                  · if a processor call is now pending: bind the idempotency key to it,
                  else store the reply under the key · commit
      2. drive    while the session has a pending call (outside any transaction):
                  ask the processor with the call's key · record the answer in a second
                  transaction (the decision for that call kind, same writes; the last
                  record also stores the reply under every key bound to the change). It
                  starts from the session as the previous step committed it, without
                  reading it again: the write is guarded by the version that step stored,
                  so if anyone changed the session meanwhile the record reloads and retries
      3. reply    rendered once from the state as committed

A crash anywhere leaves either nothing (before the intent commit) or a committed intent whose
``PendingCall.recover_at`` makes the session due for the sweeper (``service/timeouts.py``),
which runs step 2 again with the same keys: the processor answers a repeated key with its
first answer, so the operation finishes exactly once, with its postings and one webhook.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from kassa.domain.errors import ConcurrentUpdate, SessionNotFound
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.ledger import LedgerTransaction, moves
from kassa.domain.session import ReplyTo
from kassa.domain.transitions import (
    lookup,
    payment_effects,
    payment_transition,
    payout_effects,
    payout_transition,
    refund_effects,
    refund_transition,
)
from kassa.service import calls, wire
from kassa.service.idempotency import Reply, claim_stored, current_claim
from kassa.service.outbox import record_webhook
from kassa.service.ports import IdempotencyClaim

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.domain.operation import PendingCall
    from kassa.domain.payment import AcquiringPayment
    from kassa.domain.payout import Payout
    from kassa.domain.project import Project
    from kassa.domain.recurrent import RecurrentToken
    from kassa.domain.session import ApiVersion, PaymentSession
    from kassa.domain.transitions import Effect, WebhookType
    from kassa.service.deps import Deps
    from kassa.service.ports import UnitOfWork

MAX_ATTEMPTS = 8  # version conflicts retried per transaction


@dataclass(slots=True)
class Change:
    """What one transaction does to one session: moves, and the consequences they imply."""

    session: PaymentSession
    project: Project
    now: datetime
    uow: UnitOfWork
    new: bool = False
    webhooks: list[WebhookType] = field(default_factory=list)
    ledger: list[LedgerTransaction] = field(default_factory=list)
    tokens: list[RecurrentToken] = field(default_factory=list)
    changed: bool = False

    def put(self, payment: AcquiringPayment) -> AcquiringPayment:
        """Store ``payment`` in the session; its transitions bring their webhooks and postings."""
        before = self.session.payment_by_id(payment.id)
        effects: list[Effect] = []
        for refund in payment.refunds:
            old = next((r for r in (before.refunds if before else ()) if r.id == refund.id), None)
            moved = refund_transition(old, refund)
            if moved is not None:
                self._announce(lookup(moved).webhook)
                effects += refund_effects(payment, old, refund)
        moved = payment_transition(before, payment)
        if moved is not None:
            self._announce(lookup(moved).webhook)
        effects += payment_effects(before, payment)
        for effect in effects:
            self._post(effect, payment.amount.currency)
        self.session = self.session.with_payment(payment, self.now)
        self.changed = True
        return payment

    def put_payout(self, payout: Payout) -> Payout:
        """Store ``payout`` in the session; its transition brings its webhook and postings."""
        before = self.session.payout_by_id(payout.id)
        moved = payout_transition(before, payout)
        if moved is not None:
            self._announce(lookup(moved).webhook)
        for effect in payout_effects(before, payout):
            self._post(effect, payout.amount.currency)
        self.session = self.session.with_payout(payout, self.now)
        self.changed = True
        return payout

    def replace_session(self, session: PaymentSession) -> None:
        """A change of the session itself (cancel a created session); no operation moved."""
        self.session = session
        self.changed = True

    def _announce(self, webhook: WebhookType | None) -> None:
        if webhook is not None and webhook not in self.webhooks:
            self.webhooks.append(webhook)  # one webhook per type per transaction: same body

    def _post(self, effect: Effect, currency: str) -> None:
        postings = moves(effect.moves, effect.operation_id)
        if not postings:
            return
        self.ledger.append(
            LedgerTransaction(
                id=new_id(IdPrefix.LEDGER_TRANSACTION),
                project_id=self.session.project_id,
                session_id=self.session.id,
                operation_id=effect.operation_id,
                kind=effect.kind,
                currency=currency,
                created_at=self.now,
                postings=postings,
            ),
        )


Decide = Callable[[Change], Awaitable[None]]


def _write(deps: Deps, ch: Change) -> None:
    uow = ch.uow
    if ch.new:
        uow.add_session(ch.session)
    else:
        uow.update_session(ch.session)
    for tx in ch.ledger:
        uow.add_ledger_transaction(tx)
    for token in ch.tokens:
        uow.add_recurrent_token(token)
    for webhook in ch.webhooks:
        record_webhook(deps, uow, ch.project, webhook, ch.session)


def _settle_replies(deps: Deps, ch: Change, version: ApiVersion | None) -> None:
    """Bind the request's key while a call is pending; store the final reply once none is.

    ``version`` is the request's API version in its intent step, None when recording.
    """
    claim = current_claim() if version is not None else None
    session = ch.session
    bound = {r.key for r in session.replies}
    mine = None if claim is None or claim.key in bound else claim
    if session.calls_pending:
        if mine is not None and version is not None:
            ch.uow.bind_idempotency(mine, ch.now + deps.acquiring.recovery_after)
            reply_to = ReplyTo(mine.key, mine.owner, version)
            ch.session = replace(session, replies=(*session.replies, reply_to))
        return
    ch.session = replace(session, replies=())
    for target in session.replies:
        done = IdempotencyClaim(session.project_id, target.key, target.owner)
        ch.uow.complete_idempotency(done, 200, wire.session_reply(ch.session, target.api_version))
    if mine is not None and version is not None:  # the claim itself: it may be deferred
        ch.uow.complete_idempotency(mine, 200, wire.session_reply(ch.session, version))


async def _transact(
    deps: Deps,
    project: Project,
    load: Callable[[], Awaitable[PaymentSession]],
    decide: Decide,
    version: ApiVersion | None,
    *,
    new: bool,
    step: str,
    start: PaymentSession | None = None,
) -> PaymentSession:
    """One step's transaction, retried on a version conflict.

    ``start``: the session as the previous step committed it, for the first attempt instead
    of ``load`` (its version guards the write; after a conflict every attempt loads).
    """
    for attempt in range(MAX_ATTEMPTS):
        async with deps.store.unit_of_work() as uow:
            session = start if attempt == 0 and start is not None else await load()
            ch = Change(session, project, deps.clock.now(), uow, new=new)
            await decide(ch)
            if not ch.changed:
                return ch.session
            _settle_replies(deps, ch, version)
            _write(deps, ch)
            await deps.probe.at(f"{step}:decided", session.id)
            try:
                await uow.commit()
            except ConcurrentUpdate:
                if attempt == MAX_ATTEMPTS - 1:
                    raise
                await deps.probe.at("conflict", session.id)
                continue
            if version is not None:
                claim_stored()  # a deferred claim's key is in the database from now on
        await deps.probe.at(f"{step}:committed", ch.session.id)
        # As stored: an update wrote the next version (``UnitOfWork.update_session``).
        return ch.session if new else replace(ch.session, version=ch.session.version + 1)
    raise AssertionError  # pragma: no cover - the loop returns or raises


async def change(
    deps: Deps,
    project: Project,
    decide: Decide,
    version: ApiVersion,
    *,
    session_id: str | None = None,
    new_session: Callable[[], PaymentSession] | None = None,
) -> Reply:
    """Change an operation of ``session_id`` (or of a new session) by ``decide``; the reply.

    The three steps of the module docstring. ``decide`` raises to refuse (nothing is written)
    or moves operations through ``Change.put``.
    """
    session = await change_session(
        deps, project, decide, version, session_id=session_id, new_session=new_session
    )
    return Reply(200, wire.session_reply(session, version), session.id)


async def change_session(
    deps: Deps,
    project: Project,
    decide: Decide,
    version: ApiVersion,
    *,
    session_id: str | None = None,
    new_session: Callable[[], PaymentSession] | None = None,
) -> PaymentSession:
    """``change`` without the reply: the session as committed after the last record."""

    async def load() -> PaymentSession:
        if new_session is not None:
            return new_session()
        return await load_session(deps, project.id, session_id or "")

    session = await _transact(
        deps, project, load, decide, version, new=new_session is not None, step="intent"
    )
    return await drive(deps, project, session)


async def load_session(deps: Deps, project_id: str, session_id: str) -> PaymentSession:
    """The project's session, or ``SessionNotFound`` (also for another project's id)."""
    session = await deps.store.get_session(project_id, session_id)
    if session is None:
        msg = f"session {session_id} not found"
        raise SessionNotFound(msg)
    return session


def pending_calls(session: PaymentSession) -> list[tuple[AcquiringPayment | Payout, PendingCall]]:
    """Every processor call the session waits on, with its operation (a refund: its payment)."""
    found: list[tuple[AcquiringPayment | Payout, PendingCall]] = []
    for payment in session.payments:
        found += [(payment, c) for c in (payment.call, *(r.call for r in payment.refunds)) if c]
    found += [(payout, payout.call) for payout in session.payouts if payout.call is not None]
    return found


def next_call(session: PaymentSession) -> tuple[AcquiringPayment | Payout, PendingCall] | None:
    """The first processor call the session waits on, with its operation."""
    calls = pending_calls(session)
    return calls[0] if calls else None


async def drive(deps: Deps, project: Project, session: PaymentSession) -> PaymentSession:
    """Ask the processor for every pending call of ``session`` and record each answer."""
    while (found := next_call(session)) is not None:
        payment, call = found
        await deps.probe.at("call:before", session.id)
        answer = await calls.ask(deps, session, payment, call)
        await deps.probe.at("call:after", session.id)
        session_id = session.id

        async def reload(sid: str = session_id) -> PaymentSession:
            return await load_session(deps, project.id, sid)

        async def record(ch: Change, key: str = call.key, got: object = answer) -> None:
            now_found = _call_by_key(ch.session, key)
            if now_found is not None:  # else: already recorded by someone else
                await calls.record(deps, ch, now_found[0], now_found[1], got)

        session = await _transact(
            deps, project, reload, record, None, new=False, step="record", start=session
        )
    return session


def _call_by_key(
    session: PaymentSession, key: str
) -> tuple[AcquiringPayment | Payout, PendingCall] | None:
    return next(((op, call) for op, call in pending_calls(session) if call.key == key), None)
