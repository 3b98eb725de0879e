"""Wire pieces shared by payments, payouts and refunds: times, money, masked instruments.

Cards show only ``{brand, last4, bin}``; account numbers, IBANs, phones and wallet numbers
only their last four, as ``"****1234"``. Absent fields are omitted, never null.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

from kassa.domain.instrument import (
    BankCard,
    FasterPaymentAccount,
    FpsVerification,
    GlobalBankAccount,
    PayoutCard,
    RecurrentCharge,
    UnprocessedDestination,
    UnprocessedMethod,
    VaultedCard,
)

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.domain.instrument import CardRef, PaymentInstrument, PayoutDestination, Sealed
    from kassa.domain.json import JSONObject
    from kassa.domain.money import Money
    from kassa.domain.refund import TransactionInfo


def timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds and ``Z``: ``2024-05-27T02:03:00.000000Z``.

    ``isoformat`` (a third cheaper than ``strftime``, and always four year digits) ends an
    aware UTC time with ``+00:00``, which becomes the ``Z``.
    """
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def amount_details(money: Money) -> JSONObject:
    """``{"amount": minor, "currency": "usd"}``."""
    return {"amount": money.minor, "currency": money.currency}


def amounts(money: Money, fee: int = 0) -> JSONObject:
    """Bank 131's ``Amounts``: ``{gross, net, fee: {merchant_fee}}`` (no fees are set: 0)."""
    return {
        "gross": amount_details(money),
        "net": {"amount": money.minor - fee, "currency": money.currency},
        "fee": {"merchant_fee": {"amount": fee, "currency": money.currency}},
    }


def transaction_info(info: TransactionInfo) -> JSONObject:
    """``{"rrn", "auth_code"}``."""
    return {"rrn": info.rrn, "auth_code": info.auth_code}


def customer_object(customer: JSONObject) -> JSONObject:
    """A Customer with ``contacts: []`` when none were given (clients iterate it)."""
    return customer if "contacts" in customer else {**customer, "contacts": []}


def masked(value: Sealed) -> str:
    """A sealed number as the wire shows it: its last four only."""
    return f"****{value.last4}"


def _card(card: CardRef) -> JSONObject:
    return {"brand": card.brand, "last4": card.last4, "bin": card.bin}


def _bank_account(system: str, body: JSONObject) -> JSONObject:
    return {"type": "bank_account", "bank_account": {"system_type": system, system: body}}


def _present(**fields: str | Sealed | None) -> JSONObject:
    """The given fields, sealed ones masked, absent ones omitted."""
    out: JSONObject = {}
    for name, value in fields.items():
        if isinstance(value, str):
            out[name] = value
        elif value is not None:
            out[name] = masked(value)
    return out


def _global_account(value: GlobalBankAccount) -> JSONObject:
    body = _present(description=value.description)
    for name in ("iban", "account_number", "bank_account_number"):
        sealed = getattr(value, name)
        if sealed is not None:
            body[name] = masked(sealed)
    for name in ("swift_bic_code", "sort_code", "routing_code", "account_type", "branch_number"):
        plain = getattr(value, name)
        if plain is not None:
            body[name] = plain
    return _bank_account("global", body)


def instrument(value: PaymentInstrument | PayoutDestination) -> JSONObject:  # noqa: PLR0911
    """An instrument or destination as shown on the wire, masked."""
    if isinstance(value, BankCard | VaultedCard | PayoutCard):
        return {"type": "card", "card": _card(value.card)}
    if isinstance(value, RecurrentCharge):
        recurrent: JSONObject = {"token": value.token, "initiator": value.initiator.value}
        return {"type": "recurrent", "recurrent": recurrent}
    if isinstance(value, UnprocessedMethod | UnprocessedDestination):
        return {"type": value.type, **value.data}
    if isinstance(value, GlobalBankAccount):
        return _global_account(value)
    if isinstance(value, FasterPaymentAccount):
        body = _present(phone=value.phone, bank_id=value.bank_id, description=value.description)
        return _bank_account("faster_payment_system", body)
    if isinstance(value, FpsVerification):
        check = _present(phone=value.phone, bank_id=value.bank_id)
        return _bank_account("faster_payment_system_verification", check)
    wallet = _present(name=value.name, description=value.description, msisdn=value.msisdn)
    return {"type": "wallet", "wallet": {"type": "global", "global": wallet}}
