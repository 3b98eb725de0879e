"""Composition root: Settings → store, clock, vault, server key. The one place that chooses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from kassa.adapters.clock import SystemClock
from kassa.adapters.db.admin_sql import SqlAdmin
from kassa.adapters.db.dashboard_sql import SqlDashboardReads
from kassa.adapters.db.migrate import head_revision
from kassa.adapters.db.postgres import PostgresDriver
from kassa.adapters.db.processor_sql import SqlJournal
from kassa.adapters.db.sqlite import SqliteDriver
from kassa.adapters.db.store import SqlStore
from kassa.adapters.keys import RsaVerifier, ServerKey
from kassa.adapters.processor.sandbox import SandboxProcessor
from kassa.adapters.vault import AesVault
from kassa.config import ConfigError
from kassa.service.deps import AcquiringPolicy, Deps, WidgetPolicy
from kassa.service.idempotency import IdempotencyPolicy
from kassa.service.ports import NoProbe

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from kassa.adapters.db.driver import Driver
    from kassa.adapters.delivery_metrics import DeliveryMetrics
    from kassa.config import Settings
    from kassa.service.ports import Clock, Probe
    from kassa.worker import Worker


def sqlite_path(database_url: str) -> str:
    """The file path of a ``sqlite:///`` URL."""
    return database_url.removeprefix("sqlite:///")


DEFAULT_STATEMENT_TIMEOUT_MS = 30_000  # Settings.db_statement_timeout_ms


async def open_driver(
    database_url: str, *, statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
) -> Driver:
    """Open the driver for a URL; the schema must be at the newest migration.

    ``statement_timeout_ms`` bounds every statement and lock wait (PostgreSQL) or the wait for
    the write lock (SQLite's busy timeout): past it the statement fails, the request gets a 500.
    """
    driver: Driver
    if database_url.startswith("sqlite:///"):
        driver = SqliteDriver(sqlite_path(database_url), busy_timeout_ms=statement_timeout_ms)
    else:
        driver = await PostgresDriver.connect(
            database_url, statement_timeout_ms=statement_timeout_ms
        )
    try:
        found = await driver.fetch("SELECT version_num FROM alembic_version")
    except Exception:  # noqa: BLE001 - any failure here means "not migrated"
        found = []
    if not found or found[0][0] != head_revision():
        await driver.close()
        msg = f"database {database_url} is not migrated to {head_revision()}: run `kassa migrate`"
        raise ConfigError(msg)
    return driver


async def open_store(
    database_url: str, *, statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
) -> SqlStore:
    """A store over the database at ``database_url``."""
    return SqlStore(await open_driver(database_url, statement_timeout_ms=statement_timeout_ms))


def acquiring_policy(settings: Settings) -> AcquiringPolicy:
    """Timeouts and the public base URL of the acquiring flow."""
    return AcquiringPolicy(
        confirm_timeout=timedelta(seconds=settings.confirm_timeout_seconds),
        action_timeout=timedelta(seconds=settings.action_timeout_seconds),
        hold_timeout=timedelta(seconds=settings.hold_timeout_seconds),
        recovery_after=timedelta(seconds=settings.recovery_after_seconds),
        sandbox=settings.sandbox,
        base_url=settings.base_url.rstrip("/"),
    )


@dataclass(slots=True)
class Container:
    """Everything a running kassa process holds open."""

    deps: Deps
    store: SqlStore
    server_key: ServerKey

    async def close(self) -> None:
        """Close the database."""
        await self.store.close()


async def build(
    settings: Settings,
    clock: Clock | None = None,
    probe: Probe | None = None,
) -> Container:
    """Open the store and load keys for ``settings``; ``probe`` watches the pipeline's steps."""
    store = await open_store(
        settings.database_url, statement_timeout_ms=settings.db_statement_timeout_ms
    )
    server_key = ServerKey(settings.server_key, create=settings.sandbox)
    vault = AesVault.from_file(settings.vault_key, create=settings.sandbox)
    clock = clock or SystemClock()
    deps = Deps(
        store=store,
        clock=clock,
        vault=vault,
        signer=server_key,
        verifier=RsaVerifier(),
        idempotency=IdempotencyPolicy(
            ttl=timedelta(seconds=settings.idempotency_ttl_seconds),
            lease=timedelta(seconds=settings.idempotency_lease_seconds),
        ),
        processor=SandboxProcessor(clock, SqlJournal(store.driver)),
        acquiring=acquiring_policy(settings),
        probe=probe or NoProbe(),
        widgets=WidgetPolicy(
            token_lifetime=timedelta(seconds=settings.public_token_ttl_seconds),
            card_attempts=settings.widget_card_attempts,
            form_key=vault.derive_key(b"widget-form"),
        ),
        admin=SqlAdmin(store.driver),
        dashboard=SqlDashboardReads(store.driver, store.deliveries),
    )
    return Container(deps=deps, store=store, server_key=server_key)


async def start_worker(
    settings: Settings,
    container: Container,
    registry: CollectorRegistry,
    metrics: DeliveryMetrics | None = None,
) -> Worker:
    """Start webhook delivery and the periodic jobs inside this process (``kassa serve``).

    The delivery metrics go into ``registry``; pass the ``metrics`` of an earlier worker on the
    same registry (a restarted app) to reuse them, since metric names are unique per registry.
    """
    from kassa.adapters.delivery_metrics import DeliveryMetrics  # noqa: PLC0415 - aiohttp
    from kassa.worker import Worker  # noqa: PLC0415 - only when this process delivers

    worker = Worker(
        settings,
        container.deps,
        container.store.deliveries,
        metrics=metrics or DeliveryMetrics(registry),
    )
    await worker.start()
    return worker
