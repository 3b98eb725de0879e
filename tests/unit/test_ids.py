"""Ids: ``ps_``/``pm_``/``po_``/``rf_`` prefixes, time-ordered, with an unguessable suffix."""

from __future__ import annotations

import re

import pytest

from kassa.domain.ids import IdPrefix, new_id

_SHAPE = re.compile(r"^(ps|pm|po|rf|pj)_[0-9a-hjkmnp-tv-z]{26}$")


@pytest.mark.parametrize(
    ("prefix", "text"),
    [
        (IdPrefix.SESSION, "ps_"),
        (IdPrefix.PAYMENT, "pm_"),
        (IdPrefix.PAYOUT, "po_"),
        (IdPrefix.REFUND, "rf_"),
        (IdPrefix.PROJECT, "pj_"),
    ],
)
def test_id_starts_with_its_prefix(prefix, text):
    """Each kind of id carries the protocol's prefix and 26 Crockford base32 characters."""
    value = new_id(prefix)
    assert value.startswith(text)
    assert _SHAPE.match(value)


def test_ids_do_not_repeat():
    """Ten thousand ids made in one millisecond range are all distinct."""
    ids = {new_id(IdPrefix.SESSION) for _ in range(10_000)}
    assert len(ids) == 10_000


def test_ids_sort_by_creation_time(monkeypatch):
    """The first ten characters encode the creation millisecond, so ids sort by time."""
    from kassa.domain import ids

    monkeypatch.setattr(ids.time, "time_ns", lambda: 1_000_000_000_000 * 1_000_000)
    early = new_id(IdPrefix.SESSION)
    monkeypatch.setattr(ids.time, "time_ns", lambda: 1_000_000_000_001 * 1_000_000)
    late = new_id(IdPrefix.SESSION)
    assert early[:13] < late[:13]


def test_suffix_is_random_within_one_millisecond(monkeypatch):
    """Two ids of the same millisecond differ in their 80-bit random part."""
    from kassa.domain import ids

    monkeypatch.setattr(ids.time, "time_ns", lambda: 1_700_000_000_000 * 1_000_000)
    a, b = new_id(IdPrefix.SESSION), new_id(IdPrefix.SESSION)
    assert a[:13] == b[:13]
    assert a[13:] != b[13:]


def _digits(value: int, length: int) -> str:
    """Crockford base32, one digit at a time (the reference the fast encoding must match)."""
    out = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        out.append("0123456789abcdefghjkmnpqrstvwxyz"[rem])
    return "".join(reversed(out))


def test_encoding_is_the_digit_by_digit_base32(monkeypatch):
    """The fast encoding gives the same 26 digits as encoding millisecond and random apart."""
    from kassa.domain import ids

    for millis, rand in [(0, 0), (1, 1), (2**50 - 1, 2**80 - 1), (1_764_680_000_123, 0xDEADBEEF)]:
        monkeypatch.setattr(ids.time, "time_ns", lambda m=millis: m * 1_000_000 + 999_999)
        monkeypatch.setattr(ids.secrets, "randbits", lambda _bits, r=rand: r)
        assert new_id(IdPrefix.SESSION) == f"ps_{_digits(millis, 10)}{_digits(rand, 16)}"
