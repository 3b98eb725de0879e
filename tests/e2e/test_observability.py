"""``/healthz``, ``/metrics``, ``/openapi.json``, ``/docs`` and the structured request log."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kassa.adapters.keys import generate_private_key
from kassa.api.app import create_app
from kassa.config import Settings
from kassa.testing import fake_deps
from testkit import (
    KassaServer,
    sign,
    wait_for,
)

PAN = "4111111111111111"
CVC = "739"


def samples(text: str, name: str) -> list[Any]:
    """Samples of metric family ``name`` in a Prometheus text exposition."""
    return [
        s
        for family in text_string_to_metric_families(text)
        if family.name == name
        for s in family.samples
    ]


def log_events(server: KassaServer) -> list[dict[str, Any]]:
    """Every complete line the server logged, parsed: each must be one JSON object."""
    complete = server.log().split("\n")[:-1]  # the last piece may still be being written
    events = [orjson.loads(line) for line in complete if line.strip()]
    assert all(isinstance(e, dict) for e in events)
    return events


def request_lines(server: KassaServer) -> list[dict[str, Any]]:
    """The server's structured ``request`` log lines."""
    return [e for e in log_events(server) if e.get("event") == "request"]


# --- health and metrics -------------------------------------------------------------------


async def test_healthz_answers_ok(client):
    """``GET /healthz`` is 200 ``{"status": "ok", …}`` while the database answers."""
    response = await client.http.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_metrics_count_requests_by_method_and_outcome(client):
    """``/metrics`` counts API requests per route template and outcome (ok or error code)."""

    def count(text: str, outcome: str) -> float:
        return sum(
            s.value
            for s in samples(text, "kassa_requests")
            if s.name == "kassa_requests_total"
            and s.labels == {"method": "/api/v1/session/create", "outcome": outcome}
        )

    before = (await client.http.get("/metrics")).text
    await client.ok("session/create", {"metadata": "m"})
    await client.ok("session/create", {"metadata": "m"})
    await client.post("session/create", {"metadata": "m"}, key=generate_private_key())
    response = await client.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    assert count(after, "ok") - count(before, "ok") == 2
    assert count(after, "authentication_error") - count(before, "authentication_error") == 1


async def test_metrics_have_a_latency_histogram(client):
    """Each API method has a request-duration histogram with buckets, sum and count."""
    await client.ok(
        "session/status", {"session_id": (await client.ok("session/create", {}))["session"]["id"]}
    )
    found = samples((await client.http.get("/metrics")).text, "kassa_request_duration_seconds")
    status = [s for s in found if s.labels.get("method") == "/api/v1/session/status"]
    names = {s.name for s in status}
    assert {
        "kassa_request_duration_seconds_bucket",
        "kassa_request_duration_seconds_count",
    } <= names
    [count] = [s.value for s in status if s.name.endswith("_count")]
    [inf] = [s.value for s in status if s.name.endswith("_bucket") and s.labels["le"] == "+Inf"]
    assert count == inf >= 1


# --- OpenAPI ------------------------------------------------------------------------------


def api_routes() -> set[tuple[str, str]]:
    """(path, http method) of every protocol method the app registers."""
    app = create_app(Settings.from_env({}), fake_deps())
    return {
        (route.path, method.lower())
        for route in app.routes
        if getattr(route, "path", "").startswith("/api/")
        for method in getattr(route, "methods", ())
    }


def resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    """The object a local ``$ref`` points at (KeyError if it dangles)."""
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def refs(value: Any) -> list[str]:
    """Every ``$ref`` in a JSON document."""
    if isinstance(value, dict):
        own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return own + [r for v in value.values() for r in refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in refs(v)]
    return []


@pytest.fixture
async def openapi(client) -> dict[str, Any]:
    """The served OpenAPI document."""
    response = await client.http.get("/openapi.json")
    assert response.status_code == 200, response.text[:500]
    return response.json()


def test_every_ref_in_the_document_resolves(openapi):
    """No dangling ``$ref`` anywhere in ``/openapi.json``."""
    found = refs(openapi)
    assert found
    for ref in found:
        resolve(openapi, ref)


def test_every_api_method_is_described(openapi):
    """Each registered protocol route has its operation, signed headers and error answers."""
    routes = api_routes()
    assert ("/api/v1/session/create", "post") in routes
    for path, method in sorted(routes):
        operation = openapi["paths"][path][method]
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert {"X-PARTNER-PROJECT", "X-PARTNER-SIGN"} <= headers, path
        assert {"200", "400", "401"} <= set(operation["responses"]), path
        if method == "post":
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert resolve(openapi, schema["$ref"]).get("type") == "object", path


def request_schema(openapi: dict[str, Any], path: str) -> dict[str, Any]:
    """The resolved request body schema of ``POST path``."""
    ref = openapi["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "$ref"
    ]
    return resolve(openapi, ref)


def property_schema(openapi: dict[str, Any], schema: dict[str, Any], name: str) -> dict[str, Any]:
    """A property's schema with ``$ref`` and ``X | None`` unwrapped."""
    node = schema["properties"][name]
    while True:
        if "$ref" in node:
            node = resolve(openapi, node["$ref"])
            continue
        options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
        if len(options) == 1:
            node = options[0]
            continue
        return node


COMMON = {
    "amount_details",
    "payment_details",
    "participant_details",
    "customer",
    "payment_options",
    "metadata",
}


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/api/v1/session/create", COMMON | {"payment_method"}),
        ("/api/v2/session/create", COMMON | {"payout_details"}),
        ("/api/v1/session/status", {"session_id"}),
        ("/api/v2/session/status", {"session_id"}),
    ],
)
def test_request_schemas_carry_the_real_fields(openapi, path, fields):
    """The request body refs resolve to components with the wire models' fields."""
    assert fields <= set(request_schema(openapi, path)["properties"])


def test_amount_schema_is_a_positive_integer_and_a_currency(openapi):
    """``amount_details`` documents an integer amount above 0 and a 3-letter currency."""
    amount = property_schema(
        openapi, request_schema(openapi, "/api/v1/session/create"), "amount_details"
    )
    assert amount["properties"]["amount"]["type"] == "integer"
    assert amount["properties"]["amount"]["exclusiveMinimum"] == 0
    assert amount["properties"]["currency"]["maxLength"] == 3
    assert set(amount["required"]) == {"amount", "currency"}


def test_payment_details_are_discriminated_by_type(openapi):
    """``payment_details`` is a ``oneOf`` with a ``type`` discriminator mapping card and others."""
    details = property_schema(
        openapi, request_schema(openapi, "/api/v1/session/create"), "payment_details"
    )
    assert details["discriminator"]["propertyName"] == "type"
    assert {"card", "recurrent"} <= set(details["discriminator"]["mapping"])
    for ref in details["discriminator"]["mapping"].values():
        resolve(openapi, ref)


def test_response_schema_is_the_session_envelope(openapi):
    """The 200 answer of session/create is ``{status, session}`` with the session's fields."""
    ok = openapi["paths"]["/api/v2/session/create"]["post"]["responses"]["200"]
    envelope = resolve(openapi, ok["content"]["application/json"]["schema"]["$ref"])
    assert {"status", "session"} <= set(envelope["properties"])
    session = property_schema(openapi, envelope, "session")
    assert {"id", "status", "created_at", "updated_at", "payout_details"} <= set(
        session["properties"]
    )
    error = openapi["paths"]["/api/v2/session/create"]["post"]["responses"]["401"]
    body = resolve(openapi, error["content"]["application/json"]["schema"]["$ref"])
    assert set(body["properties"]) == {"status", "error"}


async def test_docs_page_points_at_the_document(client):
    """``/docs`` serves the interactive page for ``/openapi.json``."""
    response = await client.http.get("/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "/openapi.json" in response.text


# --- structured logs ----------------------------------------------------------------------


async def test_each_request_logs_one_json_line(server, client, project):
    """One line per API request with method, project, session id, outcome and latency."""
    session = (await client.ok("session/create", {"metadata": "log-me"}))["session"]["id"]
    await client.ok("session/status", {"session_id": session})
    await client.post("session/status", {"session_id": "ps_missing"})
    mine: list[dict[str, Any]] = []

    def logged() -> bool:
        mine[:] = [e for e in request_lines(server) if e.get("project") == project.id]
        return len(mine) >= 3

    await wait_for(logged, timeout=5)
    assert len(mine) == 3
    created, status, missing = mine
    assert (created["method"], created["session_id"], created["outcome"]) == (
        "/api/v1/session/create",
        session,
        "ok",
    )
    assert (status["method"], status["session_id"], status["outcome"]) == (
        "/api/v1/session/status",
        session,
        "ok",
    )
    assert (missing["outcome"], missing["status"]) == ("session_not_found", 404)
    for event in mine:
        assert isinstance(event["latency_ms"], float | int)
        assert event["latency_ms"] >= 0
        assert event["level"] == "info"
        assert "timestamp" in event


async def test_logs_never_contain_a_card_number_or_a_signature(server, client, project):
    """After a card request, the server's log holds neither the PAN, the CVC nor the signature."""
    body = orjson.dumps(
        {
            "payment_details": {
                "type": "card",
                "card": {"type": "bank_card", "bank_card": {"number": PAN, "security_code": CVC}},
            },
            "metadata": f"note with card {PAN}",
        },
    )
    signature = sign(body, project.key)
    response = await client.post("session/create", body, headers={"X-PARTNER-SIGN": signature})
    assert response.status_code == 200, response.text
    bad = await client.post("session/create", body + b" ", headers={"X-PARTNER-SIGN": signature})
    assert bad.status_code == 401
    log = server.log()
    assert any(e.get("project") == project.id for e in request_lines(server))
    assert PAN not in log
    assert "4111 1111 1111 1111" not in log
    assert signature not in log
    assert signature[:40] not in log
    assert f'"{CVC}"' not in log
