"""Alembic owns the schema: upgrade to head and downgrade to base on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, pool
from sqlalchemy.ext.asyncio import create_async_engine

from acquiring_store_contract import full_payment
from kassa.adapters.db.migrate import alembic_url, downgrade, head_revision, upgrade
from kassa.adapters.db.schema import metadata
from kassa.bootstrap import open_store
from kassa.config import ConfigError
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.ledger import EntryKind, LedgerTransaction, moves
from store_contract import T0, project, session
from testkit import table_counts

KASSA_TABLES = {table.name for table in metadata.sorted_tables}


def _diff(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


async def _schema_diff_async(url: str) -> list[object]:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_diff)
    finally:
        await engine.dispose()


def schema_diff(database_url: str) -> list[object]:
    """What autogenerate would change to make the database match ``schema.py``."""
    url = alembic_url(database_url)
    if url.startswith("postgresql+asyncpg"):
        return asyncio.run(_schema_diff_async(url))
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return _diff(connection)
    finally:
        engine.dispose()


def tables(database_url: str) -> set[str]:
    """Names of the tables present (alembic's bookkeeping table included)."""
    return set(asyncio.run(table_counts(database_url)))


def test_upgrade_to_head_creates_every_table(empty_database_url):
    """``upgrade head`` on an empty database creates exactly the tables of ``schema.py``."""
    upgrade(empty_database_url)
    assert tables(empty_database_url) == KASSA_TABLES | {"alembic_version"}


def test_migrated_schema_matches_the_metadata(empty_database_url):
    """The migrations produce what ``schema.py`` declares (autogenerate finds no difference)."""
    upgrade(empty_database_url)
    assert schema_diff(empty_database_url) == []


def test_downgrade_to_base_removes_every_table(empty_database_url):
    """``downgrade base`` leaves no kassa table behind, and a second upgrade works again."""
    upgrade(empty_database_url)
    downgrade(empty_database_url, "base")
    assert tables(empty_database_url) <= {"alembic_version"}
    upgrade(empty_database_url)
    assert tables(empty_database_url) == KASSA_TABLES | {"alembic_version"}


def test_upgrade_is_idempotent(empty_database_url):
    """Running the migrations twice (a second ``make run``) changes nothing."""
    upgrade(empty_database_url)
    upgrade(empty_database_url)
    assert tables(empty_database_url) == KASSA_TABLES | {"alembic_version"}


def test_store_refuses_an_unmigrated_database(empty_database_url):
    """Opening a store on a database not at head says to run ``kassa migrate``."""
    if empty_database_url.startswith("sqlite"):
        upgrade(empty_database_url)
        downgrade(empty_database_url, "base")
    with pytest.raises(ConfigError, match="kassa migrate"):
        asyncio.run(open_store(empty_database_url))


def test_store_opens_at_head(empty_database_url):
    """After ``upgrade head`` the store opens and sees the head revision."""
    upgrade(empty_database_url)

    async def revision() -> str:
        store = await open_store(empty_database_url)
        try:
            [(found,)] = await store.driver.fetch("SELECT version_num FROM alembic_version")
        finally:
            await store.close()
        return str(found)

    assert asyncio.run(revision()) == head_revision()


def test_upgrade_fills_payment_id_from_the_payments_already_stored(empty_database_url):
    """0002 backfills ``sessions.payment_id``: a session stored before it is found by payment."""
    upgrade(empty_database_url)
    owner = project()
    payment = full_payment()
    stored = replace(session(owner.id), payments=(payment,))

    async def write() -> None:
        store = await open_store(empty_database_url)
        try:
            await store.add_project(owner)
            async with store.unit_of_work() as uow:
                uow.add_session(stored)
                await uow.commit()
        finally:
            await store.close()

    async def find() -> str | None:
        store = await open_store(empty_database_url)
        try:
            found = await store.find_session_by_payment(payment.id)
        finally:
            await store.close()
        return None if found is None else found.id

    asyncio.run(write())
    downgrade(empty_database_url, "0001")  # as a database written before 0002 was
    upgrade(empty_database_url)
    assert asyncio.run(find()) == stored.id


def test_upgrade_fills_balances_from_the_postings_already_stored(empty_database_url):
    """0003 computes each internal account's balance row from the ledger written before it."""
    upgrade(empty_database_url)
    owner = project()
    tx = LedgerTransaction(
        id=new_id(IdPrefix.LEDGER_TRANSACTION),
        project_id=owner.id,
        session_id="ps_x",
        operation_id="pm_x",
        kind=EntryKind.CAPTURE,
        currency="eur",
        created_at=T0,
        postings=moves([("payer_funds", "holds", 900), ("holds", "merchant_balance", 600)], "pm_x"),
    )

    async def write() -> None:
        store = await open_store(empty_database_url)
        try:
            await store.add_project(owner)
            async with store.unit_of_work() as uow:
                uow.add_ledger_transaction(tx)
                await uow.commit()
        finally:
            await store.close()

    async def balances() -> set[tuple[str, int]]:
        store = await open_store(empty_database_url)
        try:
            return {(b.account, b.amount) for b in await store.balances()}
        finally:
            await store.close()

    asyncio.run(write())
    downgrade(empty_database_url, "0002")  # as a database written before 0003 was
    upgrade(empty_database_url)
    assert asyncio.run(balances()) == {("holds", 300), ("merchant_balance", 600)}
