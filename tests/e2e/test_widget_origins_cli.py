"""``kassa projects set-origins``: who may embed a project's widgets (frame-ancestors)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from kassa.bootstrap import open_store
from testkit import create_project, kassa_cli

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def env(module_database_url: str, tmp_path: Path) -> dict[str, str]:
    """Settings for one command: the module's database, a private data folder."""
    return {"KASSA_DATABASE_URL": module_database_url, "KASSA_DATA_DIR": str(tmp_path / "data")}


async def origins(database_url: str, project_id: str) -> tuple[str, ...]:
    """The project's allowed widget origins as the database holds them."""
    store = await open_store(database_url)
    try:
        project = await store.get_project(project_id)
    finally:
        await store.close()
    assert project is not None
    return project.allowed_origins


async def test_set_origins_stores_normalised_origins_and_none_restores_the_default(
    env, module_database_url
):
    """Origins are stored lower-case without default ports; no argument: the webhook's origin."""
    handle = await create_project(module_database_url, webhook_url="https://hooks.shop.example/k")
    done = kassa_cli(
        "projects",
        "set-origins",
        handle.id,
        "https://Shop.Example:443/",
        "http://127.0.0.1:5000",
        env=env,
    )
    assert "https://shop.example http://127.0.0.1:5000" in done.stdout
    assert await origins(module_database_url, handle.id) == (
        "https://shop.example",
        "http://127.0.0.1:5000",
    )
    listed = json.loads(kassa_cli("projects", "list", "--json", env=env).stdout)
    [row] = [p for p in listed["projects"] if p["project_id"] == handle.id]
    assert row["widget_origins"] == ["https://shop.example", "http://127.0.0.1:5000"]
    kassa_cli("projects", "set-origins", handle.id, env=env)
    assert await origins(module_database_url, handle.id) == ("https://hooks.shop.example",)


@pytest.mark.parametrize(
    ("value", "why"),
    [("https://shop.example/checkout", "not an origin"), ("ftp://shop.example", "http(s)")],
)
async def test_set_origins_refuses_what_is_not_an_origin(env, module_database_url, value, why):
    """A URL with a path or another scheme exits 2 naming why; nothing changes."""
    handle = await create_project(module_database_url)
    done = kassa_cli("projects", "set-origins", handle.id, value, env=env, check=False)
    assert done.returncode == 2
    assert why in done.stderr
    assert await origins(module_database_url, handle.id) == ()


async def test_http_origins_need_sandbox_mode(env, module_database_url):
    """With ``KASSA_SANDBOX=0`` only https origins are accepted."""
    handle = await create_project(module_database_url)
    strict = {**env, "KASSA_SANDBOX": "0"}
    done = kassa_cli(
        "projects", "set-origins", handle.id, "http://shop.example", env=strict, check=False
    )
    assert done.returncode == 2
    assert "sandbox" in done.stderr
    kassa_cli("projects", "set-origins", handle.id, "https://shop.example", env=strict)
    assert await origins(module_database_url, handle.id) == ("https://shop.example",)


def test_set_origins_on_an_unknown_project_fails(env):
    """An unknown project id exits 1 and says so."""
    done = kassa_cli(
        "projects", "set-origins", "pj_missing", "https://a.example", env=env, check=False
    )
    assert done.returncode == 1
    assert "pj_missing" in done.stderr
