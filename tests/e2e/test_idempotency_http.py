"""``X-PARTNER-IDEMPOTENCY-KEY`` over HTTP on SQLite and PostgreSQL (real server subprocess)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson

from kassa.bootstrap import open_store
from kassa.service.idempotency import fingerprint
from kassa.service.ports import IdempotencyRecord, IdempotencyState
from testkit import (
    KassaServer,
    ProjectHandle,
    SignedClient,
    assert_error,
    create_project,
    sign,
    table_counts,
)

BODY = {"amount_details": {"amount": 10000, "currency": "usd"}, "metadata": "order123"}


async def session_count(server: KassaServer, project: ProjectHandle) -> int:
    """Sessions of the project, counted in the database."""
    store = await open_store(server.database_url)
    try:
        return await store.count_sessions(project.id)
    finally:
        await store.close()


async def test_same_key_and_body_replays_the_stored_response_byte_for_byte(server, client, project):
    """The second request gets the first response's exact bytes and creates nothing."""
    first = await client.post("session/create", BODY, idempotency_key="order-123")
    assert first.status_code == 200
    second = await client.post("session/create", BODY, idempotency_key="order-123")
    assert second.status_code == 200
    assert second.content == first.content
    assert await session_count(server, project) == 1


async def test_equal_json_in_other_bytes_is_another_request(client):
    """Equal JSON with other bytes is another request: the key is then already used."""
    await client.post("session/create", BODY, idempotency_key="k-bytes")
    spaced = orjson.dumps(BODY).replace(b":", b": ")
    response = await client.post("session/create", spaced, idempotency_key="k-bytes")
    assert_error(response, 400, "idempotency_key_already_exists")


async def test_same_key_with_another_body_is_refused(server, client, project):
    """Reusing a key for a different body: 400 idempotency_key_already_exists, no new session."""
    await client.ok("session/create", BODY, idempotency_key="k-diff")
    before = await table_counts(server.database_url)
    response = await client.post(
        "session/create", {**BODY, "metadata": "other"}, idempotency_key="k-diff"
    )
    assert_error(response, 400, "idempotency_key_already_exists")
    assert await table_counts(server.database_url) == before
    assert await session_count(server, project) == 1


async def test_same_key_on_another_method_path_is_refused(client):
    """The fingerprint includes the method path: v2 with a v1 key is another request."""
    await client.ok("session/create", BODY, idempotency_key="k-path")
    response = await client.post("session/create", BODY, idempotency_key="k-path", version="v2")
    assert_error(response, 400, "idempotency_key_already_exists")


async def test_same_key_while_the_first_runs_is_refused(server, client, project):
    """A key held by a running request (same body): 400 idempotency_key_already_exists."""
    now = datetime.now(UTC)
    body = orjson.dumps(BODY)
    store = await open_store(server.database_url)
    try:
        record = IdempotencyRecord(
            project_id=project.id,
            key="k-running",
            fingerprint=fingerprint("/api/v1/session/create", body),
            state=IdempotencyState.RUNNING,
            owner="another-request",
            lease_until=now + timedelta(seconds=30),  # claimed 30 s ago under the 60 s lease
            expires_at=now + timedelta(hours=24),
        )
        assert await store.claim_idempotency(record, now) is None
    finally:
        await store.close()
    response = await client.post("session/create", body, idempotency_key="k-running")
    assert "in progress" in assert_error(response, 400, "idempotency_key_already_exists")
    assert 25 <= int(response.headers["retry-after"]) <= 30  # what is left of the lease
    other = await client.post("session/create", {**BODY, "x": 1}, idempotency_key="k-running")
    assert "different request" in assert_error(other, 400, "idempotency_key_already_exists")
    assert "retry-after" not in other.headers  # another body never becomes retryable
    assert await session_count(server, project) == 0


async def test_keys_are_scoped_per_project(server, client):
    """Two projects using the same key string each get their own session."""
    other = SignedClient(server.base_url, await create_project(server.database_url))
    try:
        a = await client.ok("session/create", BODY, idempotency_key="shared-key")
        b = await other.ok("session/create", BODY, idempotency_key="shared-key")
    finally:
        await other.aclose()
    assert a["session"]["id"] != b["session"]["id"]


async def test_without_a_key_every_request_creates(server, client, project):
    """Nothing depends on the header being present: two posts, two sessions."""
    await client.ok("session/create", BODY)
    await client.ok("session/create", BODY)
    assert await session_count(server, project) == 2


async def test_failed_request_does_not_burn_the_key(client):
    """A refused request releases its key: the corrected request with the key succeeds."""
    bad = {
        "payment_details": {
            "type": "card",
            "card": {"type": "bank_card", "bank_card": {"number": "4242424242424241"}},
        }
    }
    assert_error(
        await client.post("session/create", bad, idempotency_key="k-fix"), 400, "invalid_request"
    )
    fixed = {
        "payment_details": {
            "type": "card",
            "card": {"type": "bank_card", "bank_card": {"number": "4242424242424242"}},
        }
    }
    assert (await client.post("session/create", fixed, idempotency_key="k-fix")).status_code == 200


async def test_fifty_simultaneous_requests_with_one_key_create_one_session(server, client, project):
    """50 concurrent signed posts with one key: exactly one session row; every 200 identical."""
    body = orjson.dumps({**BODY, "metadata": "race"})
    headers = {
        "Content-Type": "application/json",
        "X-PARTNER-PROJECT": project.id,
        "X-PARTNER-SIGN": sign(body, project.key),
        "X-PARTNER-IDEMPOTENCY-KEY": "race-key",
    }
    responses = await asyncio.gather(
        *(
            client.http.post("/api/v1/session/create", content=body, headers=headers)
            for _ in range(50)
        ),
    )
    ok = [r.content for r in responses if r.status_code == 200]
    others = [r for r in responses if r.status_code != 200]
    assert ok, "at least one request must succeed"
    assert len(set(ok)) == 1, "every 200 body must be the same bytes"
    for response in others:
        assert_error(response, 400, "idempotency_key_already_exists")
    assert await session_count(server, project) == 1
    replay = await client.http.post("/api/v1/session/create", content=body, headers=headers)
    assert replay.content == ok[0]
