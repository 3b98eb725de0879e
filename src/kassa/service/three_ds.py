"""The sandbox 3DS step: the customer passes or fails the challenge on kassa's own page.

The page link carries a per-payment secret token; without it nothing is shown or changed.
Passing authorises again with 3DS done (then ready_to_confirm / ready_to_capture / succeeded),
failing ends the payment with ``3DS_error``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kassa.domain.errors import SessionNotFound
from kassa.domain.operation import Awaiting, CallKind
from kassa.domain.payment import AcquiringPayment, FailureCode, PaymentError, PaymentStatus
from kassa.service.operations import change_session

if TYPE_CHECKING:
    from kassa.domain.session import PaymentSession
    from kassa.service.commands import ThreeDsAnswer
    from kassa.service.deps import Deps
    from kassa.service.operations import Change


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
    found = await deps.store.find_session_by_payment(cmd.payment_id)
    _matching(found, cmd.payment_id, cmd.token)
    project = None if found is None else await deps.store.get_project(found.project_id)
    if found is None or project is None:
        raise SessionNotFound("no such 3DS challenge")

    async def decide(ch: Change) -> None:
        payment = _matching(ch.session, cmd.payment_id, cmd.token)
        payment.require(Awaiting.CUSTOMER, "3DS")
        if cmd.passed:
            recover_at = ch.now + deps.acquiring.recovery_after
            passed = replace(payment, three_ds_passed=True)
            ch.put(passed.calling(CallKind.AUTHORIZE, payment.amount.minor, ch.now, recover_at))
        else:
            why = PaymentError(
                FailureCode.THREE_DS_ERROR.value, "the customer failed 3DS authentication"
            )
            ch.put(payment.fail(why, ch.now))

    session = await change_session(deps, project, decide, found.api_version, session_id=found.id)
    done = session.payment_by_id(cmd.payment_id)
    if done is None:  # pragma: no cover - the payment was in the session
        raise SessionNotFound("no such 3DS challenge")
    return done
