"""The protocol's timestamps: ISO 8601 in UTC, microseconds, ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kassa.service.wire_parts import timestamp


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2024, 5, 27, 2, 3, tzinfo=UTC), "2024-05-27T02:03:00.000000Z"),
        (datetime(2024, 5, 27, 2, 3, 4, 56, tzinfo=UTC), "2024-05-27T02:03:04.000056Z"),
        (  # another zone: shown in UTC
            datetime(2024, 5, 27, 5, 3, 4, 999_999, tzinfo=timezone(timedelta(hours=3))),
            "2024-05-27T02:03:04.999999Z",
        ),
        (
            datetime(2024, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
            "2023-12-31T23:30:00.000000Z",
        ),
        (datetime(999, 1, 2, tzinfo=UTC), "0999-01-02T00:00:00.000000Z"),  # four year digits
    ],
)
def test_timestamp(moment, text):
    """Every moment is written as the same instant in UTC, with six fraction digits."""
    assert timestamp(moment) == text
