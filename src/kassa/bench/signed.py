"""Signed requests prepared before a run, and the project they are signed for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson

from kassa.adapters.keys import generate_private_key, public_pem, sign
from kassa.bootstrap import open_store
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.project import Project, ProjectSettings

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True, slots=True)
class Prepared:
    """One request, ready to send: method, path, body bytes, signature, idempotency key."""

    method: str
    path: str
    project: str
    body: bytes
    signature: str
    key: str | None = None

    def headers(self) -> dict[str, str]:
        """The protocol's headers for this request."""
        out = {
            "Content-Type": "application/json",
            "X-PARTNER-PROJECT": self.project,
            "X-PARTNER-SIGN": self.signature,
        }
        if self.key is not None:
            out["X-PARTNER-IDEMPOTENCY-KEY"] = self.key
        return out


@dataclass(frozen=True, slots=True)
class BenchProject:
    """A project of the benchmark and its partner private key."""

    id: str
    key: rsa.RSAPrivateKey

    def prepare(self, path: str, body: object, key: str | None = None) -> Prepared:
        """``body`` serialised once and signed."""
        raw = orjson.dumps(body)
        return Prepared("POST", path, self.id, raw, sign(raw, self.key), key)


async def add_project(
    database_url: str,
    settings: ProjectSettings | None = None,
    webhook_url: str | None = None,
) -> BenchProject:
    """A new project straight in the database, with a fresh RSA-2048 key."""
    key = generate_private_key()
    project = Project(
        id=new_id(IdPrefix.PROJECT),
        name="bench",
        public_keys=(public_pem(key),),
        created_at=datetime.now(UTC),
        webhook_url=webhook_url,
        settings=settings or ProjectSettings(),
    )
    store = await open_store(database_url)
    try:
        await store.add_project(project)
    finally:
        await store.close()
    return BenchProject(project.id, key)


def create_requests(project: BenchProject, count: int, tag: str = "c") -> list[Prepared]:
    """``session/create`` bodies, each unique, each with its own idempotency key."""
    return [
        project.prepare(
            "/api/v1/session/create",
            {"amount_details": {"amount": 1000 + i, "currency": "usd"}, "metadata": f"{tag}{i}"},
            f"{tag}-{i}",
        )
        for i in range(count)
    ]


def status_requests(project: BenchProject, session_ids: list[str]) -> list[Prepared]:
    """``session/status`` of each session (read-only: no idempotency key)."""
    return [project.prepare("/api/v1/session/status", {"session_id": s}) for s in session_ids]
