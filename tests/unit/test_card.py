"""Card rules: Luhn check, brand by BIN, expiry format; numbers are validated, never echoed."""

from __future__ import annotations

import pytest

from kassa.domain.card import brand_of, check_expiry, luhn_valid, normalize_pan
from kassa.domain.errors import InvalidRequest


@pytest.mark.parametrize(
    "number",
    [
        "4242424242424242",
        "5555555555554444",
        "4000000000003220",
        "4000000000000002",
        "378282246310005",
        "6011111111111117",
        "2200000000000004",
        "0",
    ],
)
def test_luhn_accepts_valid_numbers(number):
    """Known test card numbers pass the Luhn check."""
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4242424242424241", "5555555555554445", "1"])
def test_luhn_refuses_a_wrong_check_digit(number):
    """A changed check digit fails."""
    assert not luhn_valid(number)


def test_pan_spaces_are_stripped():
    """``4242 4242 4242 4242`` is accepted as the 16 digits."""
    assert normalize_pan("4242 4242 4242 4242", "f") == "4242424242424242"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("42424242424", "12 to 19 digits"),
        ("42424242424242424242", "12 to 19 digits"),
        ("4242-4242-4242-4242", "12 to 19 digits"),
        ("".join(chr(0xFF10 + int(d)) for d in "4242424242424242"), "12 to 19 digits"),
        ("4242424242424241", "Luhn"),
    ],
)
def test_bad_pan_is_refused_naming_the_field(raw, why):
    """Wrong length, non-ASCII digits or a failed Luhn check raise naming the field."""
    with pytest.raises(InvalidRequest, match=rf"payment_details\.card\.bank_card\.number: .*{why}"):
        normalize_pan(raw, "payment_details.card.bank_card.number")


def test_refusal_never_repeats_the_number():
    """The error description names the field, not the digits."""
    with pytest.raises(InvalidRequest) as caught:
        normalize_pan("4242424242424241", "number")
    assert "4242424242424241" not in caught.value.description


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "visa"),
        ("5555555555554444", "mastercard"),
        ("2221000000000009", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("3530111333300000", "jcb"),
        ("2200000000000004", "mir"),
        ("36227206271667", "diners"),
        ("6200000000000005", "unionpay"),
        ("6759000000000005", "maestro"),
        ("5018000000000009", "maestro"),
        ("9999999999999995", "unknown"),
    ],
)
def test_brand_comes_from_the_bin(number, brand):
    """The card brand is read from the leading digits."""
    assert brand_of(number) == brand


@pytest.mark.parametrize(
    ("month", "year", "expected"),
    [("5", "30", ("05", "30")), ("12", "2031", ("12", "31")), ("01", "00", ("01", "00"))],
)
def test_expiry_is_normalised_to_two_digits(month, year, expected):
    """``MM``/``M`` and ``YY``/``YYYY`` become two-digit strings."""
    assert check_expiry(month, year, "card") == expected


@pytest.mark.parametrize(
    ("month", "year", "field"),
    [
        ("13", "30", "card.expiration_month"),
        ("00", "30", "card.expiration_month"),
        ("ab", "30", "card.expiration_month"),
        ("05", "3", "card.expiration_year"),
        ("05", "203", "card.expiration_year"),
        ("05", "", "card.expiration_year"),
    ],
)
def test_bad_expiry_is_refused_naming_the_field(month, year, field):
    """Out-of-range months and odd-length years raise naming the sub-field."""
    with pytest.raises(InvalidRequest, match=field.replace(".", r"\.")):
        check_expiry(month, year, "card")
