"""Run Alembic migrations programmatically, for ``kassa migrate`` and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from kassa.adapters.db.postgres import pool_options

_SCRIPTS = Path(__file__).with_name("migrations")


def alembic_url(database_url: str) -> str:
    """The SQLAlchemy URL for a kassa database URL (asyncpg driver for PostgreSQL).

    kassa's ``pgbouncer=1`` becomes SQLAlchemy's ``prepared_statement_cache_size=0``; still,
    run ``kassa migrate`` against PostgreSQL itself (``docs/deploy.md``).
    """
    if database_url.startswith(("postgresql://", "postgres://")):
        dsn, options = pool_options(database_url)
        if options:
            dsn += ("&" if "?" in dsn else "?") + "prepared_statement_cache_size=0"
        return "postgresql+asyncpg://" + dsn.split("://", 1)[1]
    return database_url


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at kassa's migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.set_main_option("sqlalchemy.url", alembic_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (creating the SQLite file's folder first)."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Migrate the database down to ``revision``."""
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    """The newest revision among kassa's migration scripts."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - only needed at start-up

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        msg = "no migrations found"
        raise RuntimeError(msg)
    return head
