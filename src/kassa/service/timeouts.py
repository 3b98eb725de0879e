"""Expire pending waits; holds are released and ``payment_finished`` is queued.

No confirm → ``confirm_timeout``, no 3DS → ``3DS_error``, hold not captured →
``capture_timeout``.

Sessions carry ``deadline_at`` (their earliest pending timeout), so the sweep reads only the
sessions that are due. Each is expired in its own version-checked transaction: a confirm that
commits first wins, and the sweep then finds nothing left to expire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.domain.payment import Awaiting, FailureCode, PaymentStatus
from kassa.service.acquiring import Changes, end
from kassa.service.retry import retry_on_conflict

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.service.deps import Deps

BATCH = 100
_EXPIRY = {
    Awaiting.CONFIRM: (FailureCode.CONFIRM_TIMEOUT, "no session/confirm in time"),
    Awaiting.CUSTOMER: (FailureCode.THREE_DS_ERROR, "the customer did not pass 3DS in time"),
    Awaiting.CAPTURE: (FailureCode.CAPTURE_TIMEOUT, "the hold was not captured in time"),
}


async def _expire(deps: Deps, project_id: str, session_id: str, now: datetime) -> bool:
    async with deps.store.unit_of_work() as uow:
        session = await deps.store.get_session(project_id, session_id)
        project = await deps.store.get_project(project_id)
        if session is None or project is None:
            return False
        changes = Changes(session, now)
        expired = False
        for payment in session.payments:
            due = payment.deadline_at is not None and payment.deadline_at <= now
            if payment.status is PaymentStatus.PENDING and due and payment.awaiting:
                code, description = _EXPIRY[payment.awaiting]
                await end(deps, changes, payment, code, description)
                expired = True
        if not expired:
            return False
        changes.apply(deps, uow, project)
        await uow.commit()
        return True


async def sweep_timeouts(deps: Deps, now: datetime) -> int:
    """Expire every wait due at ``now``; return how many sessions changed."""
    changed = 0
    while True:
        due = await deps.store.sessions_due(now, BATCH)
        batch = 0
        for session in due:
            project_id, session_id = session.project_id, session.id

            async def expire(p: str = project_id, s: str = session_id) -> bool:
                return await _expire(deps, p, s, now)

            batch += await retry_on_conflict(expire)
        changed += batch
        if len(due) < BATCH or batch == 0:
            return changed
