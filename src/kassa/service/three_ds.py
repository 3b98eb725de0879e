"""The sandbox 3DS step: the customer passes or fails the challenge on kassa's own page.

The page link carries a per-payment secret token; without it nothing is shown or changed.
Passing re-authorises with 3DS done (then ready_to_confirm / ready_to_capture / succeeded),
failing ends the payment with ``3DS_error``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kassa.domain.errors import SessionNotFound
from kassa.domain.payment import AcquiringPayment, Awaiting, FailureCode, PaymentStatus
from kassa.service.acquiring import Changes, authorise, end
from kassa.service.payments import card_number

if TYPE_CHECKING:
    from kassa.domain.session import PaymentSession
    from kassa.service.commands import ThreeDsAnswer
    from kassa.service.deps import Deps


@dataclass(frozen=True, slots=True)
class ThreeDsPage:
    """What the 3DS page shows: the payment, and whether the challenge is still open."""

    payment: AcquiringPayment
    open: bool


def _matching(session: PaymentSession | None, payment_id: str, token: str) -> AcquiringPayment:
    for payment in () if session is None else session.payments:
        secret = payment.three_ds_token
        if payment.id == payment_id and secret and hmac.compare_digest(secret, token):
            return payment
    msg = "no such 3DS challenge"
    raise SessionNotFound(msg)


async def three_ds_page(deps: Deps, payment_id: str, token: str) -> ThreeDsPage:
    """The payment behind a 3DS link (``SessionNotFound`` for a wrong id or token)."""
    session = await deps.store.find_session_by_payment(payment_id)
    payment = _matching(session, payment_id, token)
    waiting = payment.status is PaymentStatus.PENDING and payment.awaiting is Awaiting.CUSTOMER
    return ThreeDsPage(payment, open=waiting)


async def answer_three_ds(deps: Deps, cmd: ThreeDsAnswer) -> AcquiringPayment:
    """Pass or fail the challenge; returns the payment as committed."""
    now = deps.clock.now()
    async with deps.store.unit_of_work() as uow:
        session = await deps.store.find_session_by_payment(cmd.payment_id)
        payment = _matching(session, cmd.payment_id, cmd.token)
        assert session is not None  # noqa: S101 - _matching found the payment in it
        project = await deps.store.get_project(session.project_id)
        if project is None:
            raise SessionNotFound("no such 3DS challenge")
        payment.require(Awaiting.CUSTOMER, "3DS")
        changes = Changes(session, now)
        if cmd.passed:
            resumed = replace(payment.resume(now), three_ds_passed=True)
            pan = await card_number(deps, project.id, resumed.instrument, None)
            done = await authorise(deps, project, changes, changes.put(resumed), pan)
        else:
            done = await end(
                deps,
                changes,
                payment,
                FailureCode.THREE_DS_ERROR,
                "the customer failed 3DS authentication",
            )
        changes.apply(deps, uow, project)
        await uow.commit()
        return done
