"""Money: int minor units, ISO 4217 currencies with their real exponents, no mixing."""

from __future__ import annotations

import pytest

from kassa.domain.errors import InvalidRequest
from kassa.domain.money import EXPONENTS, Money, normalize_currency


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        ("usd", 2),
        ("EUR", 2),
        ("rub", 2),
        ("jpy", 0),
        ("krw", 0),
        ("kwd", 3),
        ("bhd", 3),
        ("clf", 4),
    ],
)
def test_exponent_comes_from_the_iso_table(currency, exponent):
    """JPY has no decimals, KWD three, CLF four: never an assumed 2."""
    assert Money(100, currency).exponent == exponent


def test_every_table_entry_is_a_three_letter_upper_case_code():
    """The table is keyed by ISO 4217 alpha codes and holds exponents 0 to 4."""
    assert len(EXPONENTS) > 150
    assert all(len(c) == 3 and c.isalpha() and c.isupper() for c in EXPONENTS)
    assert set(EXPONENTS.values()) == {0, 2, 3, 4}


def test_currency_is_case_insensitive_and_stored_lower_case():
    """``"USD"`` and ``"usd"`` are the same currency; the wire shows lower case."""
    assert Money(10000, "USD") == Money(10000, "usd")
    assert Money(10000, "BrL").currency == "brl"


@pytest.mark.parametrize("code", ["xyz", "us", "usdd", "", "\u0415\u0412\u0420", "XXX"])
def test_unknown_currency_is_refused(code):
    """Codes outside the ISO 4217 table raise ``invalid_request`` naming the field."""
    with pytest.raises(InvalidRequest, match="currency"):
        normalize_currency(code)


@pytest.mark.parametrize("amount", [10.0, 0.1, "100", True, None])
def test_amount_must_be_an_int(amount):
    """Floats, strings and booleans are not minor units."""
    with pytest.raises(InvalidRequest, match="amount"):
        Money(amount, "usd")


def test_amounts_of_one_currency_add_and_subtract():
    """Sum and difference stay exact ints in the same currency."""
    assert Money(10, "usd") + Money(5, "USD") == Money(15, "usd")
    assert Money(10, "usd") - Money(15, "usd") == Money(-5, "usd")
    assert -Money(7, "jpy") == Money(-7, "jpy")


@pytest.mark.parametrize("op", ["add", "sub"])
def test_mixing_currencies_raises(op):
    """Adding or subtracting two currencies is an error, never a silent sum."""
    a, b = Money(10, "usd"), Money(10, "eur")
    with pytest.raises(ValueError, match="cannot combine usd with eur"):
        _ = a + b if op == "add" else a - b


@pytest.mark.parametrize("minor", [0, -1, -10000])
def test_positive_refuses_zero_and_negative(minor):
    """Amounts on the wire must be above zero; the description names the field."""
    with pytest.raises(InvalidRequest, match=r"amount_details\.amount"):
        Money(minor, "usd").positive()


def test_positive_returns_the_amount():
    """A positive amount passes through unchanged."""
    assert Money(1, "kwd").positive() == Money(1, "kwd")


def test_money_is_immutable():
    """``Money`` is a frozen value."""
    m = Money(1, "usd")
    with pytest.raises(AttributeError):
        m.minor = 2  # type: ignore[misc]
