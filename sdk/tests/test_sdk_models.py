"""Models: money as int, unknown fields kept, discriminated unions, nothing null on the wire."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kassa_client import (
    AmountDetails,
    BankAccountMethod,
    CardDetails,
    CardMethod,
    Customer,
    InternetBankingDetails,
    PaymentSession,
    RecurrentDetails,
    Refund,
    WalletMethod,
)
from kassa_client.models import OtherPaymentDetails, OtherPaymentMethod


@pytest.mark.parametrize("amount", [1.5, "100", 100.0, True])
def test_amount_must_be_an_int_of_minor_units(amount):
    """Floats, strings and booleans are refused: money is an int of minor units."""
    with pytest.raises(ValidationError):
        AmountDetails(amount=amount, currency="usd")


def test_absent_fields_are_omitted_never_null():
    """``to_wire`` leaves out every ``None``, nested ones too."""
    customer = Customer(reference="u1")
    assert customer.to_wire() == {"reference": "u1"}
    assert CardDetails.from_bank_card("4242424242424242", "05", "30").to_wire() == {
        "type": "card",
        "card": {
            "type": "bank_card",
            "bank_card": {
                "number": "4242424242424242",
                "expiration_month": "05",
                "expiration_year": "30",
            },
        },
    }


def test_card_number_and_cvc_stay_out_of_repr():
    """``repr`` of a request never shows the PAN or the CVC."""
    text = repr(CardDetails.from_bank_card("4242424242424242", "05", "30", "987"))
    assert "4242424242424242" not in text
    assert "987" not in text


def test_unknown_fields_are_kept_and_sent_back():
    """A field this client does not model is in ``model_extra`` and in ``to_wire``."""
    customer = Customer.model_validate({"reference": "u", "loyalty": {"tier": 3}})
    assert customer.model_extra == {"loyalty": {"tier": 3}}
    assert customer.to_wire() == {"reference": "u", "loyalty": {"tier": 3}}


@pytest.mark.parametrize(
    ("payment_details", "cls"),
    [
        ({"type": "card", "card": {"last4": "4242"}}, CardDetails),
        (
            {"type": "recurrent", "recurrent": {"token": "t", "initiator": "client"}},
            RecurrentDetails,
        ),
        ({"type": "internet_banking", "internet_banking": {"type": "pix"}}, InternetBankingDetails),
        ({"type": "crypto_wallet", "crypto_wallet": {"type": "ton"}}, OtherPaymentDetails),
    ],
)
def test_payment_details_union(payment_details, cls):
    """``type`` picks the class; an unmodelled type is kept whole in ``OtherPaymentDetails``."""
    session = PaymentSession.model_validate(
        {"id": "ps", "status": "created", "payment_details": payment_details}
    )
    assert type(session.payment_details) is cls
    assert session.payment_details is not None
    assert session.payment_details.to_wire() == payment_details


@pytest.mark.parametrize(
    ("method", "cls"),
    [
        ({"type": "card", "card": {"last4": "1111"}}, CardMethod),
        (
            {"type": "bank_account", "bank_account": {"system_type": "upi", "upi": {}}},
            BankAccountMethod,
        ),
        (
            {"type": "wallet", "wallet": {"type": "global", "global": {"msisdn": "63"}}},
            WalletMethod,
        ),
        ({"type": "tax", "tax": {"x": 1}}, OtherPaymentMethod),
    ],
)
def test_payment_method_union_in_either_version(method, cls):
    """Payout destinations parse under the v1 or v2 name into ``payment_method``."""
    for name in ("payment_method", "payout_details"):
        session = PaymentSession.model_validate({"id": "ps", "status": "created", name: method})
        assert type(session.payment_method) is cls
        assert session.payment_method is not None
        assert session.payment_method.to_wire() == method


def test_unknown_session_status_is_refused():
    """Statuses are the protocol's enum; anything else is not a protocol answer."""
    with pytest.raises(ValidationError):
        PaymentSession.model_validate({"id": "ps", "status": "exploded"})


def test_timestamps_parse_to_aware_datetimes():
    """ISO 8601 with ``Z`` or an offset."""
    session = PaymentSession.model_validate(
        {"id": "ps", "status": "created", "created_at": "2024-05-27T02:03:00.000000Z"}
    )
    assert session.created_at is not None
    assert session.created_at.utcoffset() is not None


def test_destination_details_are_the_system_object():
    """``bank_account.details`` / ``wallet.details``: the object named by the system or type."""
    account = BankAccountMethod.model_validate(
        {
            "type": "bank_account",
            "bank_account": {"system_type": "global", "global": {"iban": "****5432"}},
        }
    )
    assert account.bank_account.details == {"iban": "****5432"}
    account.bank_account.details["iban"] = "changed"  # a copy: the model is not changed
    assert account.to_wire()["bank_account"]["global"] == {"iban": "****5432"}
    wallet = WalletMethod.of("global", name="GCash", msisdn="639171234567")
    assert wallet.wallet.details == {"name": "GCash", "msisdn": "639171234567"}
    bare = BankAccountMethod.model_validate(
        {"type": "bank_account", "bank_account": {"system_type": "upi"}}
    )
    assert bare.bank_account.details == {}


def test_refund_reads_amounts_and_split_info():
    """A refund's ``amounts`` and ``revenue_split_info`` are typed, not left in ``model_extra``."""
    refund = Refund.model_validate(
        {
            "id": "rf_1",
            "status": "accepted",
            "amounts": {"gross": {"amount": 500, "currency": "usd"}},
            "revenue_split_info": [{"contractor_alias": "a", "amount": 100}],
        }
    )
    assert refund.amounts is not None
    assert refund.amounts.gross == AmountDetails(amount=500, currency="usd")
    assert refund.revenue_split_info == [{"contractor_alias": "a", "amount": 100}]
    assert refund.model_extra == {}
