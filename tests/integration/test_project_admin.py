"""Project use cases (``service/projects.py``) shared by the CLI and the dashboard."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from kassa.adapters.clock import SystemClock
from kassa.adapters.keys import RsaVerifier, generate_private_key, public_pem
from kassa.cli.main import app
from kassa.domain.errors import InvalidRequest, ProjectNotFound
from kassa.service import projects
from testkit import create_project

if TYPE_CHECKING:
    from kassa.adapters.db.store import SqlStore


async def test_create_checks_key_name_and_webhook_before_writing(store: SqlStore) -> None:
    """A bad key, an empty name or a private webhook URL (outside the sandbox) write nothing."""
    pem = public_pem(generate_private_key())
    keys, clock = RsaVerifier(), SystemClock()
    with pytest.raises(InvalidRequest, match="public key"):
        await projects.create_project(store, keys, clock, name="shop", public_pem="junk")
    with pytest.raises(InvalidRequest, match="name"):
        await projects.create_project(store, keys, clock, name="  ", public_pem=pem)
    with pytest.raises(InvalidRequest, match="webhook_url"):
        await projects.create_project(
            store, keys, clock, name="shop", public_pem=pem, webhook_url="http://10.0.0.1/h"
        )
    assert await store.list_projects() == []
    made = await projects.create_project(
        store, keys, clock, name="shop", public_pem=pem, webhook_url="https://shop.example/h"
    )
    assert (await projects.load_project(store, made.id)).webhook_url == "https://shop.example/h"


async def test_keys_webhook_and_settings_change_through_the_service(store: SqlStore) -> None:
    """Rotate a key (newest two verify), clear the webhook, flip settings; unknown ids refused."""
    keys, clock = RsaVerifier(), SystemClock()
    made = await projects.create_project(
        store, keys, clock, name="shop", public_pem=public_pem(generate_private_key())
    )
    second, third = (public_pem(generate_private_key()) for _ in range(2))
    await projects.add_public_key(store, keys, clock, made.id, second)
    rotated = await projects.add_public_key(store, keys, clock, made.id, third)
    assert rotated.public_keys == (second, third)
    cleared = await projects.set_webhook(store, made.id, "", allow_private=False)
    assert cleared.webhook_url is None
    changed = await projects.update_settings(store, made.id, auto_confirm=True)
    assert (changed.settings.auto_confirm, changed.settings.partial_refunds) == (True, True)
    assert (await projects.load_project(store, made.id)).settings.auto_confirm is True
    with pytest.raises(InvalidRequest, match="unknown"):
        await projects.update_settings(store, made.id, fees=True)
    for call in (
        projects.update_settings(store, "pj_nope", auto_confirm=True),
        projects.set_webhook(store, "pj_nope", "https://x.example", allow_private=False),
        projects.add_public_key(store, keys, clock, "pj_nope", second),
    ):
        with pytest.raises(ProjectNotFound):
            await call


def test_set_settings_on_the_command_line(database_url: str) -> None:
    """``kassa projects set-settings`` changes only the options given; unknown project exits 1."""
    project = asyncio.run(create_project(database_url)).id
    runner = CliRunner()
    url = ["--database-url", database_url]
    done = runner.invoke(app, ["projects", "set-settings", project, "--two-step-capture", *url])
    assert done.exit_code == 0, done.output
    assert "two_step_capture=True" in done.output
    assert "partial_refunds=True" in done.output
    done = runner.invoke(app, ["projects", "set-settings", "pj_nope", "--auto-confirm", *url])
    assert done.exit_code == 1
    assert "pj_nope" in done.output
