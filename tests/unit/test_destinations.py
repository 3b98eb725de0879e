"""Payout destinations at the edge: every field rule, each error naming its field."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from kassa.api.auth import parse
from kassa.api.schemas.payout import PayoutInitV1
from kassa.domain.errors import InvalidRequest
from payout_kit import account, fps, wallet


def _parse(method: dict[str, Any]) -> PayoutInitV1:
    return parse(PayoutInitV1, orjson.dumps({"payment_method": method}))


GLOBAL = "payment_method.bank_account.global"


@pytest.mark.parametrize(
    ("method", "where", "says"),
    [
        (account(iban="GB82WEST12345698765431"), f"{GLOBAL}.iban", "checksum"),
        (account(iban="XX82WEST1234"), f"{GLOBAL}.iban", "not a valid IBAN"),
        (account(swift_bic_code="DEUTDEF"), f"{GLOBAL}.swift_bic_code", "8 or 11"),
        (account(routing_code="111000026"), f"{GLOBAL}.routing_code", "checksum"),
        (account(routing_code="11100002"), f"{GLOBAL}.routing_code", "9-digit"),
        (account(sort_code="123456"), f"{GLOBAL}.sort_code", "12-34-56"),
        (account(account_type="CURRENT"), f"{GLOBAL}.account_type", "CHECKING"),
        (account(account_number="12/34"), f"{GLOBAL}.account_number", "letters, digits"),
        (account(description=""), f"{GLOBAL}.description", "at least 1"),
        (
            fps(phone="12"),
            "payment_method.bank_account.faster_payment_system.phone",
            "phone number",
        ),
        (wallet(msisdn="63"), "payment_method.wallet.global.msisdn", "phone number"),
        (
            {"type": "bank_account", "bank_account": {"system_type": "swift", "swift": {}}},
            "payment_method.bank_account.system_type",
            "global",
        ),
        (
            {"type": "wallet", "wallet": {"type": "qiwi", "qiwi": {}}},
            "payment_method.wallet.type",
            "",
        ),
    ],
    ids=[
        "iban_checksum",
        "iban_country",
        "bic_length",
        "aba_checksum",
        "aba_length",
        "sort_code",
        "account_type",
        "account_number",
        "description",
        "fps_phone",
        "msisdn",
        "system_type",
        "wallet_type",
    ],
)
def test_each_field_rule_is_invalid_request_naming_the_field(method, where, says):
    """A field breaking its rule: 400 whose description starts with the field's path."""
    with pytest.raises(InvalidRequest) as caught:
        _parse(method)
    assert caught.value.description.startswith(f"{where}:"), caught.value.description
    assert says in caught.value.description


def test_valid_values_are_kept_normalised():
    """IBAN and BIC compacted; phones as E.164 digits: 79680000000 read with RU as default."""
    model = _parse(account(iban="GB82 WEST 1234 5698 7654 32", swift_bic_code="DEUTDEFF500"))
    assert model.payment_method is not None
    details = model.payment_method.bank_account.global_  # type: ignore[union-attr]
    assert (details.iban, details.swift_bic_code) == ("GB82WEST12345698765432", "DEUTDEFF500")
    phone = _parse(fps(phone="89680000000")).payment_method
    assert phone.bank_account.faster_payment_system.phone == "79680000000"  # type: ignore[union-attr]
    msisdn = _parse(wallet(msisdn="+63 917 123 4567")).payment_method
    assert msisdn.wallet.global_.msisdn == "639171234567"  # type: ignore[union-attr]
