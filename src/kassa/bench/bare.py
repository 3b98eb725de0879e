"""The bare-minimum baseline: what any signed-create server must do, and nothing more.

Starlette + uvicorn (run with 2 processes like kassa), the RSA signature verified over the raw
body, one asyncpg ``INSERT``, an orjson reply. No validation, no idempotency, no logging, no
metrics. ``kassa bench create`` drives it with the same pre-signed requests as kassa, in the
same run, so kassa's rate is reported as a ratio to it.

``uvicorn kassa.bench.bare:bare_app --factory --workers 2`` with ``KASSA_BARE_DATABASE_URL``
(PostgreSQL) and ``KASSA_BARE_PUBLIC_KEY`` (a PEM file).
"""

from __future__ import annotations

import base64
import os
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request

_TABLE = "CREATE TABLE IF NOT EXISTS bare_sessions (id text PRIMARY KEY, project text, doc text)"


async def create_table(conn: asyncpg.Connection) -> bool:
    """The baseline's table, whichever of the server's processes starts first.

    Two processes running ``CREATE TABLE IF NOT EXISTS`` at once can both find it missing;
    the slower one then fails on the row type the other just made (``42710``, or ``23505`` on
    the catalog's unique index). The table exists either way, which is all that is asked.
    True when this call lost that race.
    """
    try:
        await conn.execute(_TABLE)
    except (
        asyncpg.DuplicateObjectError,
        asyncpg.DuplicateTableError,
        asyncpg.UniqueViolationError,
    ):
        exists = await conn.fetchval("SELECT to_regclass('bare_sessions') IS NOT NULL")
        if not exists:
            raise
        return True
    return False


def bare_app() -> Starlette:
    """The baseline app."""
    key = serialization.load_pem_public_key(Path(os.environ["KASSA_BARE_PUBLIC_KEY"]).read_bytes())
    if not isinstance(key, rsa.RSAPublicKey):  # pragma: no cover - the bench writes an RSA key
        msg = "KASSA_BARE_PUBLIC_KEY must be RSA"
        raise TypeError(msg)
    pool: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        opened = await asyncpg.create_pool(os.environ["KASSA_BARE_DATABASE_URL"])
        async with opened.acquire() as conn:
            await create_table(conn)
        pool.append(opened)
        yield
        await opened.close()

    async def create(request: Request) -> Response:
        body = await request.body()
        try:
            signature = base64.b64decode(request.headers["x-partner-sign"])
            key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        except (KeyError, ValueError, InvalidSignature):
            return Response(b'{"status":"error"}', 401, media_type="application/json")
        session_id = "ps_" + secrets.token_hex(13)
        await pool[0].execute(
            "INSERT INTO bare_sessions (id, project, doc) VALUES ($1, $2, $3)",
            session_id,
            request.headers.get("x-partner-project", ""),
            body.decode("utf-8"),
        )
        reply = {"status": "ok", "session": {"id": session_id, "status": "created"}}
        return Response(orjson.dumps(reply), media_type="application/json")

    async def health(_request: Request) -> Response:
        return Response(b"ok")

    return Starlette(
        routes=[
            Route("/api/v1/session/create", create, methods=["POST"]),
            Route("/healthz", health),
        ],
        lifespan=lifespan,
    )
