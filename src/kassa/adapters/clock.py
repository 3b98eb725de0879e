"""The real clock (the tests use ``kassa.testing.FrozenClock``)."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """``service.ports.Clock``: the machine's UTC time."""

    def now(self) -> datetime:
        """Current aware UTC time."""
        return datetime.now(UTC)
