"""Card numbers: Luhn check, brand from the BIN, masking. The number itself never leaves."""

from __future__ import annotations

from kassa.domain.errors import InvalidRequest

_MIN_PAN, _MAX_PAN = 12, 19


def luhn_valid(number: str) -> bool:
    """Return True if ``number`` (digits only) passes the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:  # noqa: PLR2004 - the Luhn digit fold
                d -= 9
        total += d
    return total % 10 == 0


def normalize_pan(raw: str, field: str) -> str:
    """Strip spaces; raise ``InvalidRequest`` naming ``field`` unless a Luhn-valid PAN."""
    number = raw.replace(" ", "")
    if not number.isascii() or not number.isdigit() or not _MIN_PAN <= len(number) <= _MAX_PAN:
        msg = f"{field}: must be 12 to 19 digits"
        raise InvalidRequest(msg)
    if not luhn_valid(number):
        msg = f"{field}: fails the Luhn check"
        raise InvalidRequest(msg)
    return number


_BRANDS: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    ("amex", ((34, 34), (37, 37))),
    ("jcb", ((3528, 3589),)),
    ("diners", ((300, 305), (36, 36), (38, 39))),
    ("discover", ((6011, 6011), (644, 649), (65, 65))),
    ("mir", ((2200, 2204),)),
    ("mastercard", ((51, 55), (2221, 2720))),
    ("unionpay", ((62, 62),)),  # before maestro's catch-all 6
    ("maestro", ((50, 50), (56, 58), (6, 6))),
    ("visa", ((4, 4),)),
)


def brand_of(number: str) -> str:
    """Return the card brand by its leading digits, or ``unknown``."""
    for brand, ranges in _BRANDS:
        for low, high in ranges:
            width = len(str(low))
            if low <= int(number[:width]) <= high:
                return brand
    return "unknown"


def check_expiry(month: str, year: str, field: str) -> tuple[str, str]:
    """Validate ``MM`` and ``YY`` (or ``YYYY``); return them as two-digit strings."""
    if not (month.isdigit() and len(month) in {1, 2} and 1 <= int(month) <= 12):  # noqa: PLR2004
        msg = f"{field}.expiration_month: must be 01 to 12"
        raise InvalidRequest(msg)
    if not (year.isdigit() and len(year) in {2, 4}):
        msg = f"{field}.expiration_year: must be YY or YYYY"
        raise InvalidRequest(msg)
    return month.zfill(2), year[-2:]
