"""Settings: read once from ``KASSA_*`` (flags win) into a frozen object; bad values name it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kassa.config import ConfigError, Settings


def test_defaults_serve_sqlite_on_loopback_8131():
    """With an empty environment kassa serves 127.0.0.1:8131 over ``var/kassa.sqlite3``."""
    s = Settings.from_env({})
    assert (s.host, s.port, s.database_url) == ("127.0.0.1", 8131, "sqlite:///var/kassa.sqlite3")
    assert s.base_url == "http://127.0.0.1:8131"
    assert s.max_body_bytes == 1024 * 1024
    assert s.idempotency_ttl_seconds == 24 * 3600
    assert s.server_key == Path("var/keys/server_private.pem")
    assert s.vault_key == Path("var/keys/vault.key")


def test_every_setting_has_an_env_twin():
    """Each field is read from ``KASSA_<NAME>``: strings, ints, floats, booleans and paths."""
    s = Settings.from_env(
        {
            "KASSA_DATABASE_URL": "postgresql://u@127.0.0.1/db",
            "KASSA_HOST": "::1",
            "KASSA_PORT": "9001",
            "KASSA_DATA_DIR": "/srv/kassa-data",
            "KASSA_SERVER_KEY_PATH": "/srv/server.pem",
            "KASSA_SANDBOX": "off",
            "KASSA_LOG_JSON": "FALSE",
            "KASSA_WORKER": " yes ",
            "KASSA_WEBHOOK_TIMEOUT_SECONDS": "2.5",
            "KASSA_MAX_BODY_BYTES": "2048",
            "KASSA_LOG_LEVEL": "debug",
        },
    )
    assert s.database_url == "postgresql://u@127.0.0.1/db"
    assert (s.host, s.port) == ("::1", 9001)
    assert s.data_dir == Path("/srv/kassa-data")
    assert s.server_key == Path("/srv/server.pem")
    assert s.vault_key == Path("/srv/kassa-data/keys/vault.key")
    assert (s.sandbox, s.log_json, s.worker) == (False, False, True)
    assert s.webhook_timeout_seconds == 2.5
    assert s.max_body_bytes == 2048
    assert s.log_level == "debug"


def _another_value(name: str, default: object) -> tuple[str, object]:
    """An env text for field ``name`` and the value it must parse to, unlike the default."""
    if isinstance(default, bool):
        return ("0" if default else "1"), not default
    if isinstance(default, int):
        return str(default + 1), default + 1
    if isinstance(default, float):
        return str(default + 1.5), default + 1.5
    texts = {"database_url": "postgresql://h/db", "log_level": "error"}
    if isinstance(default, str):
        text = texts.get(name, "https://pay.example")
        return text, text
    return "/srv/kassa/x", Path("/srv/kassa/x")


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Settings)])
def test_each_field_is_read_from_its_env_twin(field):
    """``KASSA_<NAME>`` sets every field, parsed to the field's type."""
    text, expected = _another_value(field, getattr(Settings(), field))
    assert getattr(Settings.from_env({f"KASSA_{field.upper()}": text}), field) == expected


def test_flags_win_over_the_environment():
    """Explicit overrides (CLI flags) replace env values; ``None`` means "not given"."""
    s = Settings.from_env({"KASSA_PORT": "9001", "KASSA_HOST": "::1"}, port=9002, host=None)
    assert (s.port, s.host) == (9002, "::1")


def test_settings_are_frozen():
    """Components cannot change the settings they were given."""
    s = Settings.from_env({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("KASSA_PORT", "eighty"),
        ("KASSA_PORT", ""),
        ("KASSA_PORT", "0"),
        ("KASSA_PORT", "70000"),
        ("KASSA_MAX_BODY_BYTES", "1e6"),
        ("KASSA_MAX_BODY_BYTES", "0"),
        ("KASSA_SANDBOX", "maybe"),
        ("KASSA_WEBHOOK_TIMEOUT_SECONDS", "ten"),
        ("KASSA_DATABASE_URL", "mysql://db"),
        ("KASSA_LOG_LEVEL", "verbose"),
        ("KASSA_DATA_DIR", ""),
        ("KASSA_PUBLIC_TOKEN_TTL_SECONDS", "0"),
        ("KASSA_WIDGET_CARD_ATTEMPTS", "-1"),
        ("KASSA_WIDGET_IP_ATTEMPTS", "0"),
        ("KASSA_WIDGET_IP_WINDOW_SECONDS", "a day"),
    ],
)
def test_malformed_value_fails_naming_the_key(key, value):
    """A malformed or impossible value raises ``ConfigError`` whose message starts with the key."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({key: value})
    assert str(caught.value).startswith(f"{key}:")


def test_environment_is_read_only_when_asked():
    """Building settings from one mapping ignores the process environment."""
    import os

    os.environ["KASSA_PORT"] = "not-a-port"
    try:
        assert Settings.from_env({}).port == 8131
    finally:
        del os.environ["KASSA_PORT"]


def test_optional_path_may_be_cleared():
    """An empty optional path falls back to its default under ``data_dir``."""
    s = Settings.from_env({"KASSA_SERVER_KEY_PATH": "", "KASSA_DATA_DIR": "d"})
    assert s.server_key == Path("d/keys/server_private.pem")


def test_public_url_overrides_the_base_url():
    """``KASSA_PUBLIC_URL`` is the base for links when set."""
    s = Settings.from_env({"KASSA_PUBLIC_URL": "https://pay.example"})
    assert s.base_url == "https://pay.example"
