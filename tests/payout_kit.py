"""Payout request bodies for the tests: one per destination of the protocol (§4.7)."""

from __future__ import annotations

from typing import Any

RECIPIENT = {"recipient": {"full_name": "John Johnson"}}
IBAN = "GB82WEST12345698765432"  # the ISO 13616 example: mod-97 valid
BIC = "DEUTDEFF"
ROUTING = "111000025"  # a valid ABA routing number
FPS_BANK = "100000000069"  # in the sandbox's fps/banks
FPS_PHONE = "79680000000"  # as the protocol's examples write it: digits without +
MSISDN = "639171234567"  # a Philippine mobile number


def card(number: str = "4242424242424242") -> dict[str, Any]:
    """``{"type": "card", "card": {"type": "bank_card", …}}`` (no expiry for a payout)."""
    return {"type": "card", "card": {"type": "bank_card", "bank_card": {"number": number}}}


def vaulted(number_hash: str) -> dict[str, Any]:
    """A card from the vault by its ``number_hash``."""
    return {
        "type": "card",
        "card": {"type": "encrypted_card", "encrypted_card": {"number_hash": number_hash}},
    }


def account(**fields: Any) -> dict[str, Any]:
    """``bank_account`` with ``system_type: "global"`` (IBAN by default)."""
    body = {"description": "purpose of remittance", "iban": IBAN} | fields
    return {"type": "bank_account", "bank_account": {"system_type": "global", "global": body}}


def fps(phone: str = FPS_PHONE, bank_id: str = FPS_BANK) -> dict[str, Any]:
    """``bank_account`` with ``system_type: "faster_payment_system"``."""
    body = {"phone": phone, "bank_id": bank_id, "description": "Wire for agreement 5015553111"}
    return {
        "type": "bank_account",
        "bank_account": {"system_type": "faster_payment_system", "faster_payment_system": body},
    }


def wallet(msisdn: str = MSISDN) -> dict[str, Any]:
    """``wallet`` with ``type: "global"``."""
    body = {"name": "GCash", "description": "salary", "msisdn": msisdn}
    return {"type": "wallet", "wallet": {"type": "global", "global": body}}


def payout_body(
    destination: dict[str, Any] | None = None,
    amount: int = 1000,
    currency: str = "usd",
    *,
    version: str = "v1",
    recipient: dict[str, Any] | None = RECIPIENT,
    **extra: Any,
) -> dict[str, Any]:
    """A ``session/init/payout`` body with the destination under the version's name."""
    name = "payout_details" if version == "v2" else "payment_method"
    body: dict[str, Any] = {
        name: destination or card(),
        "amount_details": {"amount": amount, "currency": currency},
        **extra,
    }
    if recipient is not None:
        body["participant_details"] = recipient
    return body


def payouts_of(session: dict[str, Any], version: str = "v1") -> list[dict[str, Any]]:
    """The payouts of a session in the version's names."""
    return list(session.get("payout_list" if version == "v2" else "payments", []))
