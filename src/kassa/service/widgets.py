"""What the card widgets do once the form is checked: vault a card, pay a session, say how it ended.

- ``tokenize``: the card goes to the vault (``service/instruments.py``: keyed ``number_hash`` +
  AES-GCM ciphertext; the CVC is never asked for) and the public token is marked used, in one
  transaction: a replayed or concurrent second post cannot vault under a used token.
- ``pay``: the payment runs through ``service/payments.py:start_payment``, the code of
  ``session/start/payment``, so the merchant gets the same webhooks; then the token is marked
  used. The session's own state guards against a second payment (start needs ``created``).
- ``outcome``: where the customer goes next (success, failure, the 3DS page, or wait).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from kassa.domain.errors import InternalError
from kassa.domain.instrument import BankCard
from kassa.domain.operation import Awaiting
from kassa.domain.payment import PaymentStatus
from kassa.domain.session import SessionStatus
from kassa.service import payments
from kassa.service.commands import BankCardInput, CardInput, DraftInput, StartPayment
from kassa.service.instruments import resolve_instrument
from kassa.service.operations import load_session

if TYPE_CHECKING:
    from kassa.domain.card_form import CardFields
    from kassa.domain.instrument import CardRef
    from kassa.domain.json import JSONObject
    from kassa.domain.public_token import AcquiringWidget
    from kassa.domain.session import PaymentSession
    from kassa.service.deps import Deps
    from kassa.service.public_tokens import OpenWidget


def _card_input(card: CardFields) -> CardInput:
    return CardInput(
        bank_card=BankCardInput(
            number=card.number,
            expiration_month=card.month,
            expiration_year=card.year,
            cardholder_name=card.cardholder_name,
        ),
    )


async def tokenize(deps: Deps, opened: OpenWidget, card: CardFields) -> CardRef:
    """Vault the card for the token's project and mark the token used, in one transaction."""
    project_id = opened.project.id
    async with deps.store.unit_of_work() as uow:
        instrument = await resolve_instrument(deps, uow, project_id, _card_input(card), "card")
        if not isinstance(instrument, BankCard):  # pragma: no cover - a clear card was given
            msg = "the tokenized card has no card reference"
            raise InternalError(msg)
        ref = instrument.card
        result: JSONObject = {
            "number_hash": ref.number_hash,
            "brand": ref.brand,
            "last4": ref.last4,
        }
        uow.use_public_token(opened.token.token_hash, deps.clock.now(), result)
        await uow.commit()
    return ref


def payment_options(
    session: PaymentSession, widget: AcquiringWidget, *, recurrent: bool, return_url: str
) -> JSONObject:
    """The session's payment options with the widget's: its return URL, the customer's choice.

    The 3DS page sends the customer back to ``return_url`` (the widget's result page). With the
    checkbox shown, the customer's answer decides ``recurrent``; without it, the merchant's.
    """
    options: JSONObject = dict(session.draft.payment_options or {})
    options["return_url"] = return_url
    if widget.show_recurrent_checkbox:
        if recurrent:
            options["recurrent"] = True
        else:
            options.pop("recurrent", None)
    return options


async def pay(
    deps: Deps, opened: OpenWidget, card: CardFields, *, recurrent: bool, return_url: str
) -> PaymentSession:
    """Start the session's payment with the card, as ``session/start/payment`` does.

    This is the widget's one call into the acquiring use cases (no idempotency claim: the
    public token and the session's status make a second payment impossible).
    """
    session, widget = opened.session, opened.token.acquiring
    if session is None or widget is None:  # pragma: no cover - open_widget(ACQUIRING) sets both
        msg = "an acquiring widget without its session"
        raise InternalError(msg)
    draft = DraftInput(
        payment_details=_card_input(card),
        payment_options=payment_options(
            session, widget, recurrent=recurrent, return_url=return_url
        ),
    )
    cmd = StartPayment(opened.project.id, session.api_version, draft, session.id)
    await payments.start_payment(deps, opened.project, cmd)
    paid = await load_session(deps, opened.project.id, session.id)
    payment_id = "" if paid.payment is None else paid.payment.id
    async with deps.store.unit_of_work() as uow:
        uow.use_public_token(opened.token.token_hash, deps.clock.now(), {"payment_id": payment_id})
        await uow.commit()
    return paid


class Outcome(StrEnum):
    """Where the acquiring widget sends the customer after a payment attempt."""

    SUCCESS = "succeeded"  # success URL (or page); also a hold when ``success_on_hold``
    FAILURE = "failed"  # failure URL (or page): declined, 3DS failed, cancelled, timed out
    ACTION = "action_required"  # the 3DS page is still waiting for the customer
    WAITING = "pending"  # authorised, waiting for the merchant's confirm or capture


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome and, for ``ACTION``, the 3DS page link."""

    outcome: Outcome
    action_url: str | None = None


def outcome(session: PaymentSession, widget: AcquiringWidget) -> Result:
    """How the session's payment stands, as the customer should see it."""
    payment = session.payment
    if payment is None:
        cancelled = session.status is SessionStatus.CANCELLED
        return Result(Outcome.FAILURE if cancelled else Outcome.WAITING)
    if payment.status is PaymentStatus.SUCCEEDED:
        return Result(Outcome.SUCCESS)
    if payment.status is PaymentStatus.FAILED:
        return Result(Outcome.FAILURE)
    if payment.status is PaymentStatus.PENDING and payment.awaiting is Awaiting.CUSTOMER:
        redirect = (payment.customer_interaction or {}).get("redirect")
        url = redirect.get("url") if isinstance(redirect, dict) else None
        return Result(Outcome.ACTION, url if isinstance(url, str) else None)
    if payment.status is PaymentStatus.PENDING and widget.success_on_hold:
        return Result(Outcome.SUCCESS)
    return Result(Outcome.WAITING)


async def frame_origins_of_payment(deps: Deps, payment_id: str) -> tuple[str, ...]:
    """The origins allowed to frame a payment's 3DS page: its project's widget origins."""
    session = await deps.store.find_session_by_payment(payment_id)
    project = None if session is None else await deps.store.get_project(session.project_id)
    return () if project is None else project.allowed_origins
