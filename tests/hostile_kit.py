"""Helpers of the hostile-input, auth and isolation tests (``tests/reliability/test_hostile*``).

- :data:`DOCUMENTED` is the README's error table: the only (HTTP status, code) pairs an API
  method may answer; :func:`envelope_problem` says what is wrong with an answer, if anything.
- :class:`RowCounter` counts the rows of every table through one open connection, cheaply
  enough to run after every single request (SQLite file or PostgreSQL).
- :func:`send_case` posts a Schemathesis case signed the way a merchant signs: the project
  header and ``X-PARTNER-SIGN`` over the exact JSON bytes sent.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import TYPE_CHECKING, Any

import asyncpg
from schemathesis.core import NOT_SET

from testkit import sign

if TYPE_CHECKING:
    import httpx
    from cryptography.hazmat.primitives.asymmetric import rsa
    from schemathesis.generation.case import Case

# README "Errors": the documented (HTTP status, code) pairs of the API methods.
DOCUMENTED: frozenset[tuple[int, str]] = frozenset(
    {
        (400, "invalid_request"),
        (400, "idempotency_key_already_exists"),
        (401, "identification_error"),
        (401, "authentication_error"),
        (403, "authorization_error"),
        (404, "session_not_found"),
        (404, "invalid_request"),
        (409, "invalid_session_status"),
        (413, "invalid_request"),
        (422, "insufficient_funds"),
        (422, "refund_amount_exceeded"),
        (422, "recurrent_token_inactive"),
    }
)


def envelope_problem(status: int, content_type: str, raw: bytes) -> str | None:  # noqa: PLR0911
    """What is wrong with an API answer (None: a 200 ok or a documented error envelope)."""
    if status >= 500:
        return f"server error {status}"
    if not content_type.startswith("application/json"):
        return f"content type {content_type!r}"
    try:
        data = json.loads(raw)
    except ValueError:
        return "answer is not JSON"
    if status == 200:
        return None if isinstance(data, dict) and data.get("status") == "ok" else "200 not ok"
    if not isinstance(data, dict) or set(data) != {"status", "error"}:
        return "not the error envelope"
    error = data["error"]
    if (
        data["status"] != "error"
        or not isinstance(error, dict)
        or set(error)
        != {
            "code",
            "description",
        }
    ):
        return "not the error envelope"
    if not isinstance(error["code"], str) or not isinstance(error["description"], str):
        return "code/description not strings"
    if (status, error["code"]) not in DOCUMENTED:
        return f"undocumented pair {status} {error['code']}"
    if "Traceback" in raw.decode("utf-8", "replace"):
        return "stack trace in the answer"
    return None


class RowCounter:
    """Row counts of every table in one query over one connection (sync, for Hypothesis)."""

    def __init__(self, database_url: str) -> None:
        """Connect to the SQLite file or PostgreSQL database of ``database_url``."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pg: asyncpg.Connection | None = None
        self._sqlite: sqlite3.Connection | None = None
        if database_url.startswith("sqlite:///"):
            self._sqlite = sqlite3.connect(database_url.removeprefix("sqlite:///"))
            found = self._sqlite.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
        else:
            self._loop = asyncio.new_event_loop()
            self._pg = self._loop.run_until_complete(asyncpg.connect(database_url))
            found = self._loop.run_until_complete(
                self._pg.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        self.tables = sorted(str(row[0]) for row in found)
        parts = ", ".join(f'(SELECT count(*) FROM "{t}")' for t in self.tables)
        self._sql = f"SELECT {parts}"

    def counts(self) -> dict[str, int]:
        """``{table: rows}`` now."""
        if self._sqlite is not None:
            self._sqlite.rollback()  # a fresh read snapshot
            row: Any = self._sqlite.execute(self._sql).fetchone()
        else:
            assert self._loop is not None
            assert self._pg is not None
            row = self._loop.run_until_complete(self._pg.fetchrow(self._sql))
        return dict(zip(self.tables, (int(v) for v in row), strict=True))

    def close(self) -> None:
        """Close the connection (and its private event loop)."""
        if self._sqlite is not None:
            self._sqlite.close()
        if self._pg is not None and self._loop is not None:
            self._loop.run_until_complete(self._pg.close())
            self._loop.close()


def case_bytes(case: Case) -> bytes:
    """The JSON bytes of a generated body (stdlib json: integers of any size survive)."""
    if case.body is NOT_SET:
        return b""
    if isinstance(case.body, bytes):  # negative mode: a body that is not JSON at all
        return case.body
    return json.dumps(case.body, separators=(",", ":"), ensure_ascii=False).encode()


def send_case(
    http: httpx.Client,
    case: Case,
    project_id: str,
    key: rsa.RSAPrivateKey,
) -> tuple[bytes, httpx.Response]:
    """Send ``case`` with a valid project header and signature; return the body and answer."""
    raw = case_bytes(case)
    headers = {
        k: v
        for k, v in case.headers.items()
        if k.lower()
        not in {"x-partner-project", "x-partner-sign", "content-type", "content-length"}
    }
    headers |= {
        "Content-Type": "application/json",
        "X-PARTNER-PROJECT": project_id,
        "X-PARTNER-SIGN": sign(raw, key),
    }
    response = http.request(
        case.method.upper(),
        case.formatted_path,
        content=raw,
        headers=headers,
        params=case.query or None,
    )
    return raw, response
