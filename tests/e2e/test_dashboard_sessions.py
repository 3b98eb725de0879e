"""The sessions list, search, session page and CSV export over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING

import pytest

from dashboard_kit import DashboardClient, paid_session
from kassa.bench.seed import seed_sessions
from testkit import KassaServer, SignedClient, create_project

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

INJECTION = "<script>alert('x')</script>' OR 1=1; DROP TABLE sessions; --"
SESSION_LINK = re.compile(r'<a href="/dashboard/sessions/(ps_[^"]+)">')


@pytest.fixture(scope="module")
def dash_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KassaServer]:
    """One server per database for this module."""
    running = KassaServer(module_database_url, tmp_path_factory.mktemp("dash-list")).start()
    yield running
    running.stop()


@pytest.fixture
async def dash(dash_server: KassaServer) -> AsyncIterator[DashboardClient]:
    """A logged-in client."""
    client = DashboardClient(dash_server)
    assert (await client.login()).status_code == 303
    yield client
    await client.aclose()


def listed(html: str) -> list[str]:
    """Session ids in the list, in order."""
    return SESSION_LINK.findall(html)


async def test_find_a_payment_by_last4_id_payment_id_reference_and_metadata(
    dash: DashboardClient,
) -> None:
    """Each kind of search term finds the session, and only matching sessions."""
    project, sid = await paid_session(
        dash.server, number="5555555555554444", metadata="order 77-alpha", reference="cust-find"
    )
    _, other = await paid_session(dash.server, number="4242424242424242", reference="x")
    page = await dash.get(f"/dashboard/sessions/{sid}")
    payment_id = re.search(r"Payment <code>(pm_[^<]+)</code>", page.text)
    assert payment_id, page.text[:2000]
    for term in ("4444", sid, payment_id[1], "cust-find", "77-ALPHA"):
        found = listed((await dash.get("/dashboard/sessions", params={"q": term})).text)
        assert sid in found, term
        assert other not in found, term
    by_project = listed(
        (await dash.get("/dashboard/sessions", params={"project": project.id})).text
    )
    assert by_project == [sid]


async def test_filters_by_status_kind_currency_and_dates(dash: DashboardClient) -> None:
    """Status, operation type, currency and the date range narrow the list."""
    project, paid = await paid_session(dash.server)
    client = SignedClient(dash.server.base_url, project)
    try:
        created = await client.ok(
            "session/create", {"amount_details": {"amount": 500, "currency": "eur"}}
        )
    finally:
        await client.aclose()
    bare = created["session"]["id"]

    async def ids(**params: str) -> list[str]:
        page = await dash.get("/dashboard/sessions", params={"project": project.id, **params})
        assert page.status_code == 200
        return listed(page.text)

    assert await ids() == [bare, paid]  # newest first
    assert await ids(status="accepted") == [paid]
    assert await ids(status="created") == [bare]
    assert await ids(kind="payment") == [paid]
    assert await ids(kind="payout") == []
    assert await ids(currency="EUR") == [bare]
    assert await ids(**{"from": "2000-01-01", "to": "2000-01-02"}) == []
    assert await ids(**{"from": "2000-01-01"}) == [bare, paid]


async def test_keyset_pages_cover_every_session_once(dash: DashboardClient) -> None:
    """120 sessions: pages of 50 via ``Older sessions``, newest first, none twice or missed."""
    project = await create_project(dash.server.database_url)
    made = set(await seed_sessions(dash.server.database_url, project.id, 120))
    seen: list[str] = []
    url = f"/dashboard/sessions?project={project.id}"
    pages = 0
    while url:
        page = await dash.get(url)
        assert page.status_code == 200
        seen += listed(page.text)
        pages += 1
        more = re.search(r'href="(/dashboard/sessions\?[^"]+)" id="older"', page.text)
        url = more[1].replace("&amp;", "&") if more else ""
    assert pages == 3
    assert len(seen) == len(set(seen)) == 120
    assert set(seen) == made


async def test_injection_strings_are_shown_escaped(dash: DashboardClient) -> None:
    """Metadata and search text with SQL/HTML injection: stored, searched, shown escaped."""
    _, sid = await paid_session(dash.server, metadata=INJECTION, reference="<b>ref</b>")
    search = await dash.get("/dashboard/sessions", params={"q": INJECTION})
    assert search.status_code == 200
    assert sid in listed(search.text)
    assert "<script>alert" not in search.text
    assert "&lt;script&gt;alert(" in search.text
    page = await dash.get(f"/dashboard/sessions/{sid}")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(" in page.text
    assert "<b>ref</b>" not in page.text
    for term in ("%", "_", "' OR '1'='1", "\\"):
        assert (await dash.get("/dashboard/sessions", params={"q": term})).status_code == 200
    assert listed((await dash.get("/dashboard/sessions", params={"q": "%"})).text) == []


async def test_session_page_shows_instrument_timeline_postings_and_webhooks(
    dash: DashboardClient,
) -> None:
    """Masked card (never the number), the timeline, postings per operation, deliveries."""
    _, sid = await paid_session(dash.server, webhook_url="http://127.0.0.1:9/none")
    page = await dash.get(f"/dashboard/sessions/{sid}")
    assert page.status_code == 200
    text = page.text
    assert "VISA •••• 4242 (424242, 12/30)" in text
    assert "4242424242424242" not in text
    assert "session created" in text
    assert "payment succeeded" in text
    assert "ready_to_confirm" in text
    assert "payment_finished" in text
    for account in ("payer_funds", "holds", "merchant_balance"):
        assert account in text
    assert 'class="replay"' in text


async def test_failed_payment_shows_its_error(dash: DashboardClient) -> None:
    """A declined card's session page names the error code and description."""
    project = await create_project(dash.server.database_url)
    client = SignedClient(dash.server.base_url, project)
    try:
        from acquiring_kit import init_body

        created = await client.ok("session/init/payment", init_body("4000000000000002"))
    finally:
        await client.aclose()
    page = await dash.get(f"/dashboard/sessions/{created['session']['id']}")
    assert "card_number_does_not_exist" in page.text


async def test_unknown_session_is_404(dash: DashboardClient) -> None:
    """A session or operation id nobody has: 404 page."""
    page = await dash.get("/dashboard/sessions/ps_nope")
    assert page.status_code == 404


async def test_csv_export_streams_every_filtered_row(dash: DashboardClient) -> None:
    """2,500 sessions come back as CSV in keyset pages: a chunked stream, one row each."""
    project = await create_project(dash.server.database_url)
    made = set(await seed_sessions(dash.server.database_url, project.id, 2500))
    async with dash.http.stream(
        "GET", "/dashboard/sessions.csv", params={"project": project.id}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "content-length" not in response.headers
        assert response.headers.get("transfer-encoding") == "chunked"
        chunks = [chunk async for chunk in response.aiter_text()]
    assert len(chunks) > 1
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert rows[0][0] == "session_id"
    assert {r[0] for r in rows[1:]} == made
    assert len(rows) == 2501


async def test_csv_cells_cannot_be_formulas(dash: DashboardClient) -> None:
    """A customer reference starting with ``=`` is exported with a leading quote."""
    project, sid = await paid_session(dash.server, reference="=HYPERLINK(1)")
    body = (await dash.get("/dashboard/sessions.csv", params={"project": project.id})).text
    [row] = [r for r in csv.reader(io.StringIO(body)) if r[0] == sid]
    assert row[8] == "'=HYPERLINK(1)"
