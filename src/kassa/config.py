"""Settings, read once into a frozen object. Every setting has a ``KASSA_<NAME>`` env twin."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the ``KASSA_*`` key."""


_LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything kassa reads from its environment; components get it as an argument."""

    database_url: str = "sqlite:///var/kassa.sqlite3"
    # A statement (PostgreSQL statement_timeout and lock_timeout) or a wait for SQLite's write
    # lock (busy_timeout) longer than this fails the request with a 500 instead of hanging.
    db_statement_timeout_ms: int = 30_000
    host: str = "127.0.0.1"
    port: int = 8131
    data_dir: Path = Path("var")
    server_key_path: Path | None = None  # default: <data_dir>/keys/server_private.pem
    vault_key_path: Path | None = None  # default: <data_dir>/keys/vault.key
    sandbox: bool = True  # sandbox processor, created keys, http widget origins
    # Webhook URLs on loopback, private or link-local addresses: refused unless set, at
    # registration and at every delivery (the resolved address), whatever ``sandbox`` says.
    allow_private_webhooks: bool = False
    max_body_bytes: int = 1024 * 1024
    idempotency_ttl_seconds: int = 24 * 3600
    idempotency_lease_seconds: int = 60
    project_cache_seconds: float = 1.0  # how long a server may use a project as it read it
    log_level: str = "info"
    log_json: bool = True
    worker: bool = True  # run webhook delivery + sweeper inside `kassa serve`
    webhook_timeout_seconds: float = 10.0
    webhook_max_interval_seconds: float = 15 * 60.0
    webhook_give_up_seconds: float = 30 * 60.0
    webhook_first_delay_seconds: float = 5.0
    worker_poll_seconds: float = 0.05  # how often an idle worker looks for due webhooks
    worker_lease_seconds: float = 60.0  # a claimed webhook is offered again after this
    worker_batch: int = 50
    worker_concurrency: int = 64
    confirm_timeout_seconds: float = 240 * 60.0
    action_timeout_seconds: float = 60 * 60.0
    hold_timeout_seconds: float = 5 * 24 * 3600.0
    recovery_after_seconds: float = 30.0  # a processor call not recorded this long is re-asked
    public_url: str = ""  # base for links such as the 3DS page; default http://host:port
    public_token_ttl_seconds: float = 24 * 3600.0  # lifetime of a widget's public token
    widget_card_attempts: int = 5  # card form posts per public token
    widget_ip_attempts: int = 30  # card form posts per client address and window (per process)
    widget_ip_window_seconds: float = 600.0
    dashboard_idle_seconds: float = 8 * 3600.0  # a dashboard log-in idle this long ends
    dashboard_login_attempts: int = 5  # failed log-ins per address and window → 429
    dashboard_login_window_seconds: float = 15 * 60.0
    trust_forwarded_proto: bool = False  # behind a TLS proxy: X-Forwarded-Proto makes Secure

    @property
    def server_key(self) -> Path:
        """Path of the server's private key PEM."""
        return self.server_key_path or self.data_dir / "keys" / "server_private.pem"

    @property
    def vault_key(self) -> Path:
        """Path of the vault's secret key file."""
        return self.vault_key_path or self.data_dir / "keys" / "vault.key"

    @property
    def base_url(self) -> str:
        """Public base URL of this server."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:  # noqa: ANN401
        """Read ``KASSA_*`` keys from ``environ``; explicit ``overrides`` win over the env."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            key = f"KASSA_{f.name.upper()}"
            if key in environ:
                values[f.name] = _parse(key, environ[key], f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Fail fast on values that cannot work."""
        if not self.database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            msg = "KASSA_DATABASE_URL: must start with sqlite:/// or postgresql://"
            raise ConfigError(msg)
        if not 0 < self.port < 65536:  # noqa: PLR2004
            msg = "KASSA_PORT: must be 1..65535"
            raise ConfigError(msg)
        if self.db_statement_timeout_ms <= 0:
            msg = "KASSA_DB_STATEMENT_TIMEOUT_MS: must be positive"
            raise ConfigError(msg)
        if self.max_body_bytes <= 0:
            msg = "KASSA_MAX_BODY_BYTES: must be positive"
            raise ConfigError(msg)
        if self.log_level.upper() not in _LOG_LEVELS:
            msg = f"KASSA_LOG_LEVEL: must be one of {', '.join(sorted(_LOG_LEVELS)).lower()}"
            raise ConfigError(msg)
        self._check_delivery()
        self._check_widgets()

    def _check_widgets(self) -> None:
        positive = {
            "KASSA_PUBLIC_TOKEN_TTL_SECONDS": self.public_token_ttl_seconds,
            "KASSA_WIDGET_CARD_ATTEMPTS": self.widget_card_attempts,
            "KASSA_WIDGET_IP_ATTEMPTS": self.widget_ip_attempts,
            "KASSA_WIDGET_IP_WINDOW_SECONDS": self.widget_ip_window_seconds,
            "KASSA_DASHBOARD_IDLE_SECONDS": self.dashboard_idle_seconds,
            "KASSA_DASHBOARD_LOGIN_ATTEMPTS": self.dashboard_login_attempts,
            "KASSA_DASHBOARD_LOGIN_WINDOW_SECONDS": self.dashboard_login_window_seconds,
        }
        for key, value in positive.items():
            if value <= 0:
                msg = f"{key}: must be positive"
                raise ConfigError(msg)

    def _check_delivery(self) -> None:
        positive = {
            "KASSA_WEBHOOK_TIMEOUT_SECONDS": self.webhook_timeout_seconds,
            "KASSA_WEBHOOK_FIRST_DELAY_SECONDS": self.webhook_first_delay_seconds,
            "KASSA_WORKER_POLL_SECONDS": self.worker_poll_seconds,
            "KASSA_WORKER_BATCH": self.worker_batch,
            "KASSA_WORKER_CONCURRENCY": self.worker_concurrency,
        }
        for key, value in positive.items():
            if value <= 0:
                msg = f"{key}: must be positive"
                raise ConfigError(msg)
        if self.webhook_max_interval_seconds < self.webhook_first_delay_seconds:
            msg = "KASSA_WEBHOOK_MAX_INTERVAL_SECONDS: must be at least the first delay"
            raise ConfigError(msg)
        if self.webhook_give_up_seconds < 0:
            msg = "KASSA_WEBHOOK_GIVE_UP_SECONDS: must not be negative"
            raise ConfigError(msg)
        if self.worker_lease_seconds <= self.webhook_timeout_seconds:
            msg = "KASSA_WORKER_LEASE_SECONDS: must exceed KASSA_WEBHOOK_TIMEOUT_SECONDS"
            raise ConfigError(msg)


def _parse(key: str, raw: str, kind: object) -> object:
    text = str(kind)
    try:
        if "bool" in text:
            low = raw.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(raw)  # noqa: TRY301 - one handler names the key for every type
        if text.startswith("int"):
            return int(raw)
        if text.startswith("float"):
            return float(raw)
        if "Path" in text:
            if not raw and "None" not in text:
                raise ValueError(raw)  # noqa: TRY301 - a required folder cannot be empty
            return Path(raw) if raw else None
    except ValueError:
        msg = f"{key}: malformed value {raw!r} for {text}"
        raise ConfigError(msg) from None
    return raw
