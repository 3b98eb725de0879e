"""The real server over HTTP on both databases: create, then status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from testkit import KassaServer, SignedClient, create_project

if TYPE_CHECKING:
    from pathlib import Path


async def test_created_session_is_echoed_by_status(database_url: str, tmp_path: Path) -> None:
    """session/create answers a created session that session/status returns unchanged."""
    project = await create_project(database_url)
    server = KassaServer(database_url, tmp_path).start()
    client = SignedClient(server.base_url, project)
    try:
        created = await client.ok(
            "session/create",
            {"amount_details": {"amount": 10000, "currency": "usd"}, "metadata": "order123"},
        )
        session = created["session"]
        assert session["status"] == "created"
        assert session["id"].startswith("ps_")
        status = await client.ok("session/status", {"session_id": session["id"]})
        assert status["session"] == session
    finally:
        await client.aclose()
        server.stop()
