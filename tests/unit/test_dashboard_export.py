"""The CSV export reads the sessions in keyset pages of 1,000, never all of them at once."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from kassa.domain.session import ApiVersion
from kassa.service.ports.dashboard import Cursor, SessionFilter
from kassa.service.sessions import blank_session
from kassa.testing import EPOCH_OF_TESTS
from kassa.web.dashboard import EXPORT_PAGE, csv_export

if TYPE_CHECKING:
    from kassa.domain.session import PaymentSession


class PagedReads:
    """The dashboard's read side over a list, newest first; it records every page asked for."""

    def __init__(self, count: int) -> None:
        """``count`` sessions, one a second."""
        made = [
            blank_session(
                f"ps_{n:05d}", "pj_1", ApiVersion.V1, EPOCH_OF_TESTS + timedelta(seconds=n)
            )
            for n in range(count)
        ]
        self.sessions = sorted(made, key=lambda s: (s.created_at, s.id), reverse=True)
        self.asked: list[tuple[Cursor | None, int]] = []

    async def list_sessions(
        self, where: SessionFilter, after: Cursor | None, limit: int
    ) -> list[PaymentSession]:
        """One keyset page: older than ``after``, at most ``limit``."""
        assert where.project_id == "pj_1"
        self.asked.append((after, limit))
        rows = [
            s
            for s in self.sessions
            if after is None or (s.created_at, s.id) < (after.created_at, after.id)
        ]
        return rows[:limit]


async def _export(reads: Any) -> list[str]:
    return [chunk async for chunk in csv_export(reads, SessionFilter(project_id="pj_1"))]


@pytest.mark.parametrize(("count", "pages"), [(0, 1), (999, 1), (1000, 2), (2500, 3), (3000, 4)])
async def test_every_session_once_in_pages_of_a_thousand(count: int, pages: int) -> None:
    """Each query asks for 1,000 rows after the last one sent; each chunk is one page."""
    reads = PagedReads(count)
    chunks = await _export(reads)
    assert [limit for _after, limit in reads.asked] == [EXPORT_PAGE] * pages
    assert reads.asked[0][0] is None
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert rows[0][0] == "session_id"
    ids = [r[0] for r in rows[1:]]
    assert ids == [s.id for s in reads.sessions]  # all, once each, newest first
    body_chunks = chunks[1:]
    assert all(len(list(csv.reader(io.StringIO(c)))) <= EXPORT_PAGE for c in body_chunks)
    for (after, _limit), page_end in zip(
        reads.asked[1:], range(EXPORT_PAGE, count + 1, EXPORT_PAGE), strict=True
    ):
        last_sent = reads.sessions[page_end - 1]
        assert after == Cursor(last_sent.created_at, last_sent.id)
