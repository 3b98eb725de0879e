"""The sweeper: finish processor calls a crash interrupted, and expire waits that timed out.

No confirm → ``confirm_timeout`` (payments and payouts: a payout's reservation goes back to
the wallet), no 3DS → ``3DS_error``, hold not captured → ``capture_timeout``; a hold is
released at the processor first (through the same pipeline).

Sessions carry ``deadline_at``: their earliest wait deadline or call ``recover_at``, so a sweep
reads only the sessions that are due. A call past its ``recover_at`` is asked again with the
same key (the processor gives its first answer) and recorded once (``operations.drive``). Each
expiry is its own version-checked change: a confirm that commits first wins, and the sweep
then finds nothing left to expire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.domain.errors import ConcurrentUpdate, InvalidSessionStatus
from kassa.domain.operation import Awaiting
from kassa.domain.payment import FailureCode, PaymentError, PaymentStatus
from kassa.domain.payout import PayoutStatus
from kassa.service.operations import change_session, drive, next_call
from kassa.service.payments import end_waiting

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.domain.project import Project
    from kassa.domain.session import PaymentSession
    from kassa.service.deps import Deps
    from kassa.service.operations import Change

BATCH = 100
EXPIRY = {
    Awaiting.CONFIRM: (FailureCode.CONFIRM_TIMEOUT, "no session/confirm in time"),
    Awaiting.CUSTOMER: (FailureCode.THREE_DS_ERROR, "the customer did not pass 3DS in time"),
    Awaiting.CAPTURE: (FailureCode.CAPTURE_TIMEOUT, "the hold was not captured in time"),
}


def _recoverable(session: PaymentSession, now: datetime) -> bool:
    found = next_call(session)
    return found is not None and found[1].recover_at <= now


async def _expire(deps: Deps, project: Project, session: PaymentSession, now: datetime) -> bool:
    expired = False

    async def decide(ch: Change) -> None:
        nonlocal expired
        for payment in ch.session.payments:
            due = payment.deadline_at is not None and payment.deadline_at <= now
            if payment.status is PaymentStatus.PENDING and due and payment.awaiting:
                code, description = EXPIRY[payment.awaiting]
                end_waiting(deps, ch, payment, PaymentError(code.value, description))
                expired = True
        for payout in ch.session.payouts:
            due = payout.deadline_at is not None and payout.deadline_at <= now
            if payout.status is PayoutStatus.PENDING and due:
                code, description = EXPIRY[Awaiting.CONFIRM]
                ch.put_payout(payout.fail(PaymentError(code.value, description), ch.now))
                expired = True

    await change_session(deps, project, decide, session.api_version, session_id=session.id)
    return expired


async def sweep_session(deps: Deps, session: PaymentSession, now: datetime) -> bool:
    """Recover the session's interrupted calls and expire its due waits; True if it changed."""
    project = await deps.store.get_project(session.project_id)
    if project is None:
        return False
    changed = False
    if _recoverable(session, now):
        await drive(deps, project, session)
        changed = True
    return await _expire(deps, project, session, now) or changed


async def sweep_timeouts(deps: Deps, now: datetime) -> int:
    """Recover and expire everything due at ``now``; return how many sessions changed.

    A session that lost to a concurrent change is left to the next sweep. Any other failure
    does not stop the sweep of the other sessions; the first one is raised at the end (the
    worker logs it), and the failed session stays due.
    """
    changed = 0
    seen: set[str] = set()
    failure: Exception | None = None
    while True:
        due = [s for s in await deps.store.sessions_due(now, BATCH) if s.id not in seen]
        for session in due:
            seen.add(session.id)
            try:
                changed += await sweep_session(deps, session, now)
            except (InvalidSessionStatus, ConcurrentUpdate):
                continue
            except Exception as exc:  # noqa: BLE001 - sweep the rest, raise the first below
                failure = failure or exc
        if len(due) < BATCH:
            break
    if failure is not None:
        raise failure
    return changed
