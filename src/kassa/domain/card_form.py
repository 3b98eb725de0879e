"""The card form of the widgets: what the customer typed, checked field by field.

The checks return problem codes per field (``number: luhn``), which the page shows in the
customer's language; nothing here raises, so every field's problem is reported at once.
The CVC is checked for form only and never kept: the result has no place for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from kassa.domain.card import brand_of, luhn_valid

if TYPE_CHECKING:
    from datetime import date

_MIN_PAN, _MAX_PAN = 12, 19
_MAX_NAME = 100
_CENTURY = 2000
_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/?\s*(\d{2}|\d{4})\s*$")
_CVC = re.compile(r"^\d{3,4}$")


class Problem(StrEnum):
    """Why a field was refused (the page turns it into a sentence)."""

    REQUIRED = "required"
    DIGITS = "digits"  # not 12 to 19 digits
    LUHN = "luhn"
    FORMAT = "format"
    PAST = "past"
    TOO_LONG = "too_long"


@dataclass(frozen=True, slots=True)
class CardFields:
    """A checked card: number (digits only), ``MM``, ``YY``, optional cardholder name."""

    number: str = field(repr=False)
    month: str
    year: str
    cardholder_name: str | None = None

    @property
    def brand(self) -> str:
        """Brand by the BIN."""
        return brand_of(self.number)

    @property
    def last4(self) -> str:
        """The last four digits."""
        return self.number[-4:]


@dataclass(frozen=True, slots=True)
class CheckedForm:
    """Either ``card`` or ``problems`` (field name → problem)."""

    card: CardFields | None
    problems: dict[str, Problem]


def check_number(raw: str) -> tuple[str, Problem | None]:
    """Digits of the number (spaces allowed between them) and its problem, if any."""
    number = raw.replace(" ", "")
    if not number:
        return "", Problem.REQUIRED
    if not number.isascii() or not number.isdigit() or not _MIN_PAN <= len(number) <= _MAX_PAN:
        return "", Problem.DIGITS
    if not luhn_valid(number):
        return "", Problem.LUHN
    return number, None


def check_expiry(raw: str, today: date) -> tuple[str, str, Problem | None]:
    """``MM``, ``YY`` from ``MM/YY`` (or ``MMYY``, ``MM/YYYY``); the current month is valid."""
    if not raw.strip():
        return "", "", Problem.REQUIRED
    found = _EXPIRY.match(raw)
    if found is None or not 1 <= int(found.group(1)) <= 12:  # noqa: PLR2004 - months
        return "", "", Problem.FORMAT
    month, year = found.group(1).zfill(2), found.group(2)[-2:]
    if (_CENTURY + int(year), int(month)) < (today.year, today.month):
        return "", "", Problem.PAST
    return month, year, None


def check_card_form(
    form: dict[str, str],
    today: date,
    *,
    want_cvc: bool,
    want_name: bool,
) -> CheckedForm:
    """Check ``number``, ``expiry``, ``cvc`` (when ``want_cvc``) and ``cardholder_name``."""
    problems: dict[str, Problem] = {}
    number, problem = check_number(form.get("number", ""))
    if problem is not None:
        problems["number"] = problem
    month, year, problem = check_expiry(form.get("expiry", ""), today)
    if problem is not None:
        problems["expiry"] = problem
    if want_cvc:
        cvc = form.get("cvc", "").strip()
        if not cvc:
            problems["cvc"] = Problem.REQUIRED
        elif not _CVC.match(cvc):
            problems["cvc"] = Problem.FORMAT
    name = " ".join(form.get("cardholder_name", "").split())
    if want_name and not name:
        problems["cardholder_name"] = Problem.REQUIRED
    elif len(name) > _MAX_NAME:
        problems["cardholder_name"] = Problem.TOO_LONG
    elif not name.isprintable():
        problems["cardholder_name"] = Problem.FORMAT
    if problems:
        return CheckedForm(None, problems)
    return CheckedForm(CardFields(number, month, year, name or None), {})
