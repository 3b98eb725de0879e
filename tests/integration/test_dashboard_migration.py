"""Migration 0008 fills the search columns of sessions stored before it (both databases)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from acquiring_store_contract import full_payment
from kassa.adapters.db.driver import Stmt
from kassa.adapters.db.migrate import downgrade, upgrade
from kassa.adapters.db.search_rows import search_values
from kassa.adapters.db.session_rows import SESSION_COLUMNS, SESSION_MARKS, session_params
from store_contract import project, session
from testkit import raw_driver

if TYPE_CHECKING:
    from kassa.domain.session import PaymentSession


def test_upgrade_back_fills_search_columns_and_downgrade_drops_them(
    empty_database_url: str,
) -> None:
    """A session written at 0007 has its amount, currency, kinds, last4, … after 0008."""
    upgrade(empty_database_url, "0007")
    owner = project()
    stored = replace(session(owner.id), payments=(full_payment(),))
    asyncio.run(_insert(empty_database_url, owner.id, owner.name, stored))
    upgrade(empty_database_url)
    row = asyncio.run(_search_row(empty_database_url))
    assert tuple(row) == search_values(stored)
    assert row[3] == "4242"
    downgrade(empty_database_url, "0007")
    upgrade(empty_database_url)


async def _insert(url: str, project_id: str, name: str, stored: PaymentSession) -> None:
    driver = await raw_driver(url)
    try:
        await driver.write(
            [
                Stmt(
                    "INSERT INTO projects (id, name, settings, created_at) VALUES (?, ?, '{}', 0)",
                    (project_id, name),
                ),
                Stmt(
                    f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ({SESSION_MARKS})",
                    session_params(stored),
                ),
            ]
        )
    finally:
        await driver.close()


async def _search_row(url: str) -> tuple[object, ...]:
    driver = await raw_driver(url)
    try:
        [row] = await driver.fetch(
            "SELECT amount, currency, kinds, last4, customer_ref, search_text FROM sessions"
        )
    finally:
        await driver.close()
    return tuple(row)
