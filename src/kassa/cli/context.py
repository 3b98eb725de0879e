"""Shared CLI plumbing: settings from flags + env, a store for one command."""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from kassa.config import ConfigError, Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Coroutine

    from kassa.adapters.db.store import SqlStore
    from kassa.adapters.keys import ServerKey
    from kassa.service.deps import Deps

T = TypeVar("T")

DatabaseUrl = typer.Option(
    None,
    "--database-url",
    help="sqlite:///path or postgresql://… (env KASSA_DATABASE_URL)",
)


def settings(**overrides: Any) -> Settings:  # noqa: ANN401
    """Settings from the environment, flags winning; a bad value exits with its key named."""
    try:
        return Settings.from_env(os.environ, **overrides)
    except ConfigError as exc:
        typer.echo(f"kassa: {exc}", err=True)
        raise typer.Exit(2) from None


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine to completion."""
    return asyncio.run(coro)


@asynccontextmanager
async def opened_store(config: Settings) -> AsyncIterator[SqlStore]:
    """A store for the duration of one command."""
    from kassa.bootstrap import open_store  # noqa: PLC0415 - keep `kassa --help` fast

    try:
        store = await open_store(
            config.database_url, statement_timeout_ms=config.db_statement_timeout_ms
        )
    except ConfigError as exc:
        typer.echo(f"kassa: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def opened_deps(config: Settings) -> AsyncIterator[Deps]:
    """The whole composition (store, vault, server key, processor) for one command."""
    from kassa import bootstrap  # noqa: PLC0415 - keep `kassa --help` fast

    container = await bootstrap.build(config)
    try:
        yield container.deps
    finally:
        await container.close()


def server_key(config: Settings) -> ServerKey:
    """The server key pair (created in sandbox mode); a missing key exits naming the setting."""
    from kassa.adapters.keys import KeyError_, ServerKey  # noqa: PLC0415 - keep `--help` fast

    try:
        return ServerKey(config.server_key, create=config.sandbox)
    except (KeyError_, OSError, ValueError) as exc:
        typer.echo(f"kassa: KASSA_SERVER_KEY_PATH: {exc}", err=True)
        raise typer.Exit(2) from None
