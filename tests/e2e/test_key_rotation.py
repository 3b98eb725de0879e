"""Key rotation: a project holds two public keys; ``kassa projects add-key`` adds the next one.

Both active keys verify; the third key retires the oldest, which then stops verifying.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from kassa.adapters.keys import generate_private_key, public_pem
from kassa.bootstrap import open_store
from testkit import (
    KassaServer,
    ProjectHandle,
    SignedClient,
    assert_error,
    create_project,
    kassa_cli,
    wait_for,
)

if TYPE_CHECKING:
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric import rsa

BODY = {"metadata": "rotation"}


def add_key(
    server: KassaServer, project: ProjectHandle, key: rsa.RSAPrivateKey, folder: Path
) -> str:
    """Run ``kassa projects add-key`` with the public half of ``key``; return its output."""
    path = folder / f"key-{id(key)}.pub.pem"
    path.write_text(public_pem(key))
    done = kassa_cli(
        "projects",
        "add-key",
        project.id,
        "--public-key",
        str(path),
        env={"KASSA_DATABASE_URL": server.database_url},
    )
    return done.stdout


@pytest.fixture
async def client(server: KassaServer):
    """A signing client for a fresh project."""
    signed = SignedClient(server.base_url, await create_project(server.database_url))
    yield signed
    await signed.aclose()


async def accepts(client: SignedClient, key: rsa.RSAPrivateKey) -> bool:
    """True if a request signed with ``key`` is accepted now."""
    response = await client.post("session/create", BODY, key=key)
    if response.status_code == 200:
        return True
    assert_error(response, 401, "authentication_error")
    return False


async def test_second_key_verifies_alongside_the_first(server, client, tmp_path):
    """After ``add-key`` both the old and the new key verify, at once."""
    old, new = client.project.key, generate_private_key()
    assert not await accepts(client, new)
    assert client.project.id in add_key(server, client.project, new, tmp_path)
    assert await accepts(client, new)
    assert await accepts(client, old)


async def test_third_key_retires_the_oldest(server, client, tmp_path):
    """With a third key the oldest stops verifying; the newest two keep working."""
    first, second, third = client.project.key, generate_private_key(), generate_private_key()
    add_key(server, client.project, second, tmp_path)
    add_key(server, client.project, third, tmp_path)
    assert await accepts(client, third)
    assert await accepts(client, second)

    async def first_refused() -> bool:
        return not await accepts(client, first)

    await wait_for(first_refused, timeout=10, interval=0.2)
    store = await open_store(server.database_url)
    try:
        project = await store.get_project(client.project.id)
    finally:
        await store.close()
    assert project is not None
    assert project.public_keys == (public_pem(second), public_pem(third))


async def test_add_key_refuses_an_unknown_project(server, tmp_path):
    """``add-key`` for a project id that does not exist exits non-zero and says so."""
    path = tmp_path / "k.pem"
    path.write_text(public_pem(generate_private_key()))
    done = kassa_cli(
        "projects",
        "add-key",
        "pj_missing",
        "--public-key",
        str(path),
        env={"KASSA_DATABASE_URL": server.database_url},
        check=False,
    )
    assert done.returncode == 1
    assert "no project pj_missing" in done.stderr


async def test_add_key_refuses_a_non_rsa_or_short_key(server, client, tmp_path):
    """A file that is not a ≥2048-bit RSA public key is refused naming the file."""
    path = tmp_path / "bad.pem"
    path.write_text("not a key")
    done = kassa_cli(
        "projects",
        "add-key",
        client.project.id,
        "--public-key",
        str(path),
        env={"KASSA_DATABASE_URL": server.database_url},
        check=False,
    )
    assert done.returncode == 2
    assert str(path) in done.stderr
