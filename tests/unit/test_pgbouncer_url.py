"""``?pgbouncer=1`` in the database URL: asyncpg without prepared statements, never sent on."""

from __future__ import annotations

import pytest

from kassa.adapters.db.migrate import alembic_url
from kassa.adapters.db.postgres import pool_options

BASE = "postgresql://kassa@10.0.0.5:6432/kassa"


@pytest.mark.parametrize("flag", ["1", "true", "YES", "on"])
def test_the_flag_turns_the_statement_cache_off_and_leaves_the_url(flag: str) -> None:
    """Asyncpg gets ``statement_cache_size=0`` and a URL without kassa's own parameter."""
    assert pool_options(f"{BASE}?pgbouncer={flag}") == (BASE, {"statement_cache_size": 0})


def test_other_parameters_pass_through_in_order() -> None:
    """``sslmode`` and the rest reach asyncpg untouched; ``pgbouncer=0`` changes nothing."""
    url, options = pool_options(f"{BASE}?sslmode=require&pgbouncer=1&application_name=api")
    assert url == f"{BASE}?sslmode=require&application_name=api"
    assert options == {"statement_cache_size": 0}
    assert pool_options(f"{BASE}?pgbouncer=0") == (BASE, {})
    assert pool_options(BASE) == (BASE, {})


def test_a_malformed_flag_names_the_setting() -> None:
    """``pgbouncer=maybe`` fails at start, naming KASSA_DATABASE_URL."""
    with pytest.raises(ValueError, match="KASSA_DATABASE_URL: pgbouncer='maybe'"):
        pool_options(f"{BASE}?pgbouncer=maybe")


def test_migrations_through_pgbouncer_cache_no_prepared_statements() -> None:
    """``kassa migrate`` gives SQLAlchemy's asyncpg dialect ``prepared_statement_cache_size=0``."""
    assert alembic_url(f"{BASE}?pgbouncer=1") == (
        "postgresql+asyncpg://kassa@10.0.0.5:6432/kassa?prepared_statement_cache_size=0"
    )
    assert alembic_url(BASE) == "postgresql+asyncpg://kassa@10.0.0.5:6432/kassa"
