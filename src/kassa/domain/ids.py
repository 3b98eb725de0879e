"""Prefixed opaque ids with an unguessable random suffix."""

from __future__ import annotations

import secrets
import time
from enum import StrEnum


class IdPrefix(StrEnum):
    """What an id names, by its prefix."""

    SESSION = "ps"
    PAYMENT = "pm"
    PAYOUT = "po"
    REFUND = "rf"
    PROJECT = "pj"
    LEDGER_TRANSACTION = "lt"
    TOPUP = "tu"


_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower-case


def _b32(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        out.append(_ALPHABET[rem])
    return "".join(reversed(out))


def new_id(prefix: IdPrefix) -> str:
    """Return ``<prefix>_<time-ordered 10 chars><random 16 chars>`` (80 random bits)."""
    millis = time.time_ns() // 1_000_000
    return f"{prefix.value}_{_b32(millis, 10)}{_b32(secrets.randbits(80), 16)}"
