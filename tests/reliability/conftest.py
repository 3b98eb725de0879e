"""The reliability suite: after a session that recorded figures, regenerate the report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import reliability_tally

if TYPE_CHECKING:
    import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """``docs/reliability.md`` from every record of ``var/reliability`` (if any was written)."""
    del session, exitstatus
    if reliability_tally.load():
        reliability_tally.write_report()
