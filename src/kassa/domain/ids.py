"""Prefixed opaque ids with an unguessable random suffix."""

from __future__ import annotations

import base64
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


# RFC 4648's base32 digits, in order, turned into ours: base64's C encoder does the bit work.
_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode("ascii"))
_MILLIS_BITS = 50  # 10 characters
_RANDOM_BITS = 80  # 16 characters


def new_id(prefix: IdPrefix) -> str:
    """Return ``<prefix>_<time-ordered 10 chars><random 16 chars>`` (80 random bits).

    The 130 bits (millisecond, random) are 26 base32 digits, most significant first, the
    same as writing each part digit by digit (10 and 16 digits): shifted up by 30 bits they
    fill 20 bytes, whose 32-digit encoding starts with those 26 digits.
    """
    millis = (time.time_ns() // 1_000_000) & ((1 << _MILLIS_BITS) - 1)
    value = (millis << _RANDOM_BITS | secrets.randbits(_RANDOM_BITS)) << 30
    digits = base64.b32encode(value.to_bytes(20, "big"))[:26].translate(_FROM_RFC4648)
    return f"{prefix.value}_{digits.decode('ascii')}"
