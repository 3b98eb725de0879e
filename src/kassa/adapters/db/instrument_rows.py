"""Instruments and payout destinations ↔ JSON, as stored in session documents and the vault.

Each kind is tagged (``"kind": "bank_card"`` …); sessions stored before typed instruments
(``{type, card?, data}``) still read. Sealed values keep only their ciphertext and last four.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kassa.domain.instrument import (
    BankCard,
    CardRef,
    FasterPaymentAccount,
    FpsVerification,
    GlobalBankAccount,
    GlobalWallet,
    PayoutCard,
    RecurrentCharge,
    Sealed,
    UnprocessedDestination,
    UnprocessedMethod,
    VaultedCard,
)
from kassa.domain.recurrent import Initiator

if TYPE_CHECKING:
    from collections.abc import Callable

    from kassa.domain.instrument import PaymentInstrument, PayoutDestination
    from kassa.domain.json import JSONObject


def card_to_json(card: CardRef) -> JSONObject:
    """A vaulted card reference as stored (no number, no CVC)."""
    out: JSONObject = {
        "number_hash": card.number_hash,
        "brand": card.brand,
        "last4": card.last4,
        "bin": card.bin,
    }
    for name in ("expiration_month", "expiration_year", "cardholder_name"):
        value = getattr(card, name)
        if value is not None:
            out[name] = value
    return out


def card_from_json(data: dict[str, Any]) -> CardRef:
    """Inverse of ``card_to_json``."""
    return CardRef(
        number_hash=data["number_hash"],
        brand=data["brand"],
        last4=data["last4"],
        bin=data["bin"],
        expiration_month=data.get("expiration_month"),
        expiration_year=data.get("expiration_year"),
        cardholder_name=data.get("cardholder_name"),
    )


_SEALED = ("iban", "account_number", "bank_account_number")


def _sealed_to_json(value: Sealed | None) -> JSONObject | None:
    return None if value is None else {"last4": value.last4, "ciphertext": value.ciphertext}


def _sealed_from_json(data: dict[str, Any] | None) -> Sealed | None:
    return None if data is None else Sealed(data["last4"], data["ciphertext"])


def _card_kind(kind: str) -> Callable[[Any], JSONObject]:
    return lambda v: {"kind": kind, "card": card_to_json(v.card)}


def _recurrent_to_json(value: RecurrentCharge) -> JSONObject:
    out: JSONObject = {
        "kind": "recurrent",
        "token": value.token,
        "initiator": value.initiator.value,
    }
    if value.card is not None:
        out["card"] = card_to_json(value.card)
    return out


def _account_to_json(value: GlobalBankAccount) -> JSONObject:
    account: JSONObject = {"kind": "global_bank_account", "description": value.description}
    for name in ("swift_bic_code", "sort_code", "routing_code", "account_type", "branch_number"):
        account[name] = getattr(value, name)
    for name in _SEALED:
        account[name] = _sealed_to_json(getattr(value, name))
    return account


_WRITERS: dict[type, Callable[[Any], JSONObject]] = {
    BankCard: _card_kind("bank_card"),
    VaultedCard: _card_kind("vaulted_card"),
    PayoutCard: _card_kind("payout_card"),
    RecurrentCharge: _recurrent_to_json,
    UnprocessedMethod: lambda v: {"kind": "method", "type": v.type, "data": v.data},
    UnprocessedDestination: lambda v: {"kind": "destination", "type": v.type, "data": v.data},
    GlobalBankAccount: _account_to_json,
    FasterPaymentAccount: lambda v: {
        "kind": "fps_account",
        "phone": _sealed_to_json(v.phone),
        "bank_id": v.bank_id,
        "description": v.description,
    },
    FpsVerification: lambda v: {
        "kind": "fps_verification",
        "phone": _sealed_to_json(v.phone),
        "bank_id": v.bank_id,
    },
    GlobalWallet: lambda v: {
        "kind": "global_wallet",
        "name": v.name,
        "description": v.description,
        "msisdn": _sealed_to_json(v.msisdn),
    },
}


def instrument_to_json(value: PaymentInstrument | PayoutDestination | None) -> JSONObject | None:
    """A stored instrument or destination, tagged by its ``kind``."""
    return None if value is None else _WRITERS[type(value)](value)


def _legacy_instrument(data: dict[str, Any]) -> PaymentInstrument | PayoutDestination:
    """Sessions stored before typed instruments: ``{type, card?, data}``."""
    card = data.get("card")
    body = data.get("data") or {}
    if data["type"] == "card" and card is not None:
        return BankCard(card_from_json(card))
    if data["type"] == "recurrent":
        recurrent = body.get("recurrent") or {}
        return RecurrentCharge(
            recurrent.get("token", ""),
            Initiator(recurrent.get("initiator", Initiator.MERCHANT.value)),
            None if card is None else card_from_json(card),
        )
    return UnprocessedMethod(data["type"], body)


def _recurrent(data: dict[str, Any]) -> RecurrentCharge:
    card = data.get("card")
    return RecurrentCharge(
        data["token"], Initiator(data["initiator"]), None if card is None else card_from_json(card)
    )


def _global_account(data: dict[str, Any]) -> GlobalBankAccount:
    return GlobalBankAccount(
        description=data.get("description"),
        iban=_sealed_from_json(data.get("iban")),
        swift_bic_code=data.get("swift_bic_code"),
        account_number=_sealed_from_json(data.get("account_number")),
        sort_code=data.get("sort_code"),
        bank_account_number=_sealed_from_json(data.get("bank_account_number")),
        routing_code=data.get("routing_code"),
        account_type=data.get("account_type"),
        branch_number=data.get("branch_number"),
    )


_READERS: dict[str, Callable[[dict[str, Any]], PaymentInstrument | PayoutDestination]] = {
    "bank_card": lambda d: BankCard(card_from_json(d["card"])),
    "vaulted_card": lambda d: VaultedCard(card_from_json(d["card"])),
    "payout_card": lambda d: PayoutCard(card_from_json(d["card"])),
    "recurrent": _recurrent,
    "method": lambda d: UnprocessedMethod(d["type"], d.get("data") or {}),
    "destination": lambda d: UnprocessedDestination(d["type"], d.get("data") or {}),
    "global_bank_account": _global_account,
    "fps_account": lambda d: FasterPaymentAccount(
        _sealed_from_json(d.get("phone")), d.get("bank_id"), d.get("description")
    ),
    "fps_verification": lambda d: FpsVerification(
        _sealed_from_json(d.get("phone")), d.get("bank_id")
    ),
    "global_wallet": lambda d: GlobalWallet(
        d.get("name"), d.get("description"), _sealed_from_json(d.get("msisdn"))
    ),
}


def instrument_from_json(
    data: dict[str, Any] | None,
) -> PaymentInstrument | PayoutDestination | None:
    """Inverse of ``instrument_to_json`` (also reads the older untyped form)."""
    if data is None:
        return None
    kind = data.get("kind")
    return _legacy_instrument(data) if kind is None else _READERS[kind](data)


def payment_instrument_from_json(data: dict[str, Any] | None) -> PaymentInstrument | None:
    """A stored payment instrument (never a payout destination)."""
    value = instrument_from_json(data)
    if value is not None and not isinstance(
        value, BankCard | VaultedCard | RecurrentCharge | UnprocessedMethod
    ):
        msg = f"stored payment instrument is a {type(value).__name__}"
        raise TypeError(msg)
    return value


def destination_from_json(data: dict[str, Any] | None) -> PayoutDestination | None:
    """A stored payout destination (never a payment instrument)."""
    value = instrument_from_json(data)
    if isinstance(value, BankCard | VaultedCard | RecurrentCharge | UnprocessedMethod):
        if isinstance(value, UnprocessedMethod):
            return UnprocessedDestination(value.type, value.data)
        if isinstance(value, BankCard):  # legacy: a payout card was stored as a plain card
            return PayoutCard(value.card)
        msg = f"stored payout destination is a {type(value).__name__}"
        raise TypeError(msg)
    return value
