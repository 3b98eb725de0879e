"""``/openapi.json`` describes every implemented method with its real request and response models.

Two kinds of proof:

- each documented operation's request body and 200 answer are the pydantic models the route
  registers (a table here names them, and must list every ``/api/`` route);
- the real server's answers to every method conform to the document it serves: every field
  sent is documented, with the documented type (a small JSON-schema walker below).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from kassa.api.app import create_app
from kassa.api.schemas.payment import (
    CaptureRequest,
    PaymentInitRequest,
    PaymentStartRequest,
    RecurrentRequest,
    RecurrentResponse,
    RefundRequest,
    TokenInfoRequest,
    TokenInfoResponse,
)
from kassa.api.schemas.payout import (
    ChargebackRequest,
    FpsBanksRequest,
    FpsBanksResponse,
    FpsVerificationV1,
    FpsVerificationV2,
    MultiInitRequest,
    PayoutInitV1,
    PayoutInitV2,
    PayoutStartV1,
    PayoutStartV2,
    WalletBalanceRequest,
    WalletBalanceResponse,
)
from kassa.api.schemas.session import (
    SessionCreateV1,
    SessionCreateV2,
    SessionIdRequest,
    SessionResponseV1,
    SessionResponseV2,
)
from kassa.api.schemas.widgets import TokenRequest, TokenResponse
from kassa.bootstrap import open_store
from kassa.config import Settings
from kassa.domain.project import ProjectSettings
from kassa.testing import fake_deps
from testkit import KassaServer, SignedClient, create_project

if TYPE_CHECKING:
    from pydantic import BaseModel

SESSION = {"v1": SessionResponseV1, "v2": SessionResponseV2}

# (path, request model, 200 model), one row per protocol route the app serves.
METHODS: list[tuple[str, type[BaseModel], type[BaseModel]]] = [
    *[
        (f"/api/{v}/{path}", request, SESSION[v])
        for v in ("v1", "v2")
        for path, request in (
            ("session/status", SessionIdRequest),
            ("session/init/payment", PaymentInitRequest),
            ("session/start/payment", PaymentStartRequest),
            ("session/confirm", SessionIdRequest),
            ("session/cancel", SessionIdRequest),
            ("session/capture", CaptureRequest),
            ("session/refund", RefundRequest),
        )
    ],
    ("/api/v1/session/create", SessionCreateV1, SessionResponseV1),
    ("/api/v2/session/create", SessionCreateV2, SessionResponseV2),
    ("/api/v1/recurrent/status", RecurrentRequest, RecurrentResponse),
    ("/api/v1/recurrent/disable", RecurrentRequest, RecurrentResponse),
    ("/api/v1/token/info", TokenInfoRequest, TokenInfoResponse),
    ("/api/v1/session/init/payout", PayoutInitV1, SessionResponseV1),
    ("/api/v2/session/init/payout", PayoutInitV2, SessionResponseV2),
    ("/api/v1/session/start/payout", PayoutStartV1, SessionResponseV1),
    ("/api/v2/session/start/payout", PayoutStartV2, SessionResponseV2),
    ("/api/v2/session/multi/init", MultiInitRequest, SessionResponseV2),
    ("/api/v1/fps/customer_verification", FpsVerificationV1, SessionResponseV1),
    ("/api/v2/fps/customer_verification", FpsVerificationV2, SessionResponseV2),
    ("/api/v1/fps/banks", FpsBanksRequest, FpsBanksResponse),
    ("/api/v1/wallet/balance", WalletBalanceRequest, WalletBalanceResponse),
    ("/api/v1/session/chargeback", ChargebackRequest, SessionResponseV1),
    ("/api/v2/session/chargeback", ChargebackRequest, SessionResponseV2),
    ("/api/v1/token", TokenRequest, TokenResponse),
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The OpenAPI document of an app built in-process."""
    return create_app(Settings.from_env({}), fake_deps()).openapi()


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local ``$ref`` links (KeyError if one dangles)."""
    while "$ref" in node:
        found: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        node = found
    return node


def model_fields(model: type[BaseModel]) -> set[str]:
    """Wire names of a model's fields."""
    return {field.alias or name for name, field in model.model_fields.items()}


def test_the_table_lists_every_api_route(document):
    """Every ``/api/`` operation in the document is in the table, and nothing else is."""
    documented = {
        path
        for path, operations in document["paths"].items()
        if path.startswith("/api/")
        for method in operations
        if method == "post"
    }
    assert documented == {path for path, _, _ in METHODS}


@pytest.mark.parametrize(("path", "request_model", "response_model"), METHODS)
def test_operation_uses_the_real_models(document, path, request_model, response_model):
    """Request body = the route's pydantic request model; 200 answer = its response model."""
    operation = document["paths"][path]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"] == f"#/components/schemas/{request_model.__name__}"
    published = resolve(document, body)
    expected = request_model.model_json_schema(ref_template="#/components/schemas/{model}")
    expected.pop("$defs", None)
    assert published == expected
    assert set(published.get("properties", {})) == model_fields(request_model)
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"] == f"#/components/schemas/{response_model.__name__}"
    assert set(resolve(document, ok)["properties"]) == model_fields(response_model)
    for status in ("400", "401", "404", "413", "500"):
        error = operation["responses"][status]["content"]["application/json"]["schema"]
        assert set(resolve(document, error)["properties"]) == {"status", "error"}


def test_session_payments_are_described_field_by_field(document):
    """A session's payments are AcquiringPayment objects with their refunds, not bare objects."""
    for name, key in (
        ("PaymentSessionV1", "acquiring_payments"),
        ("PaymentSessionV2", "payment_list"),
    ):
        session = document["components"]["schemas"][name]
        [listed] = [o for o in session["properties"][key]["anyOf"] if o.get("type") == "array"]
        payment = resolve(document, listed["items"])
        assert {"id", "status", "amount_details", "refunds", "recurrent", "error"} <= set(
            payment["properties"]
        )


# --- real answers conform to the served document ---------------------------------------------

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def problems(  # noqa: PLR0911 - one return per JSON-schema keyword reads best
    document: dict[str, Any], schema: dict[str, Any], value: Any, at: str
) -> list[str]:
    """Where ``value`` does not match ``schema`` (undocumented fields count as mismatches)."""
    schema = resolve(document, schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        found = [problems(document, option, value, at) for option in options]
        return [] if any(not p for p in found) else min(found, key=len)
    if "const" in schema and value != schema["const"]:
        return [f"{at}: {value!r} is not {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{at}: {value!r} not in {schema['enum']}"]
    kind = schema.get("type")
    if kind is None:
        return []
    if not isinstance(value, _TYPES[kind]) or (kind in {"integer", "number"} and value is True):
        return [f"{at}: {value!r} is not {kind}"]
    if kind == "array":
        return [
            p
            for i, v in enumerate(value)
            for p in problems(document, schema.get("items", {}), v, f"{at}[{i}]")
        ]
    if kind != "object":
        return []
    found = [f"{at}.{k}: required" for k in schema.get("required", []) if k not in value]
    properties = schema.get("properties")
    extra = schema.get("additionalProperties", {})
    for key, item in value.items():
        if properties is not None and key in properties:
            found += problems(document, properties[key], item, f"{at}.{key}")
        elif properties is not None:
            found.append(f"{at}.{key}: not in the document")
        elif isinstance(extra, dict):
            found += problems(document, extra, item, f"{at}.{key}")
    return found


class Checked:
    """A signed client that checks every answer against the server's own ``/openapi.json``."""

    def __init__(self, client: SignedClient, document: dict[str, Any]) -> None:
        """Wrap ``client``."""
        self.client = client
        self.document = document
        self.seen: set[str] = set()

    async def ok(self, method: str, body: dict[str, Any], version: str = "v1") -> dict[str, Any]:
        """POST, expect 200, and check the answer against the documented 200 schema."""
        data = await self.client.ok(method, body, version=version)
        path = f"/api/{version}/{method}"
        schema = self.document["paths"][path]["post"]["responses"]["200"]["content"][
            "application/json"
        ]["schema"]
        assert problems(self.document, schema, data, path) == []
        self.seen.add(path)
        return data


def card(number: str) -> dict[str, Any]:
    """A clear bank card."""
    return {
        "type": "card",
        "card": {
            "type": "bank_card",
            "bank_card": {
                "number": number,
                "expiration_month": "05",
                "expiration_year": "30",
                "security_code": "123",
            },
        },
    }


FULL = {
    "amount_details": {"amount": 10000, "currency": "USD"},
    "payment_details": card("4242424242424242"),
    "participant_details": {"sender": {"full_name": "Helen Adams", "ipv4": "112.34.152.137"}},
    "customer": {"reference": "user123", "contacts": [{"email": "user@gmail.com"}]},
    "payment_options": {"return_url": "https://shop.example/back", "recurrent": True},
    "metadata": {"order": "123"},
    "fiscalization_details": {"receipt": "r-1"},
    "custom_routing": {"tags": [{"root_tag": "a", "values": ["b"]}]},
    "revenue_split_info": [{"contractor_alias": "x", "percent": 10}],
    "payment_metadata": "pm-meta",
}


async def test_real_answers_of_every_method_match_the_served_document(server: KassaServer):
    """Every implemented method, called for real, answers exactly what ``/openapi.json`` says."""
    project = await create_project(server.database_url)
    two_step = await create_project(
        server.database_url, settings=ProjectSettings(two_step_capture=True)
    )
    client = SignedClient(server.base_url, project)
    capturing = SignedClient(server.base_url, two_step)
    try:
        document = (await client.http.get("/openapi.json")).json()
        api = Checked(client, document)
        hold = Checked(capturing, document)
        payout = card("5555555555554444")
        for version, payout_name in (("v1", "payment_method"), ("v2", "payout_details")):
            created = await api.ok("session/create", {**FULL, payout_name: payout}, version)
            await api.ok("session/status", {"session_id": created["session"]["id"]}, version)

        body = {k: v for k, v in FULL.items() if k != "revenue_split_info"}
        for version in ("v1", "v2"):
            paid = await api.ok("session/init/payment", body, version)
            sid = paid["session"]["id"]
            assert paid["session"]["next_action"] == "confirm"
            await api.ok("session/confirm", {"session_id": sid}, version)
            await api.ok(
                "session/refund",
                {"session_id": sid, "amount_details": {"amount": 100, "currency": "usd"}},
                version,
            )
            final = await api.ok("session/status", {"session_id": sid}, version)
            held = await hold.ok("session/init/payment", body, version)
            assert held["session"]["next_action"] == "capture"
            await hold.ok("session/capture", {"session_id": held["session"]["id"]}, version)
            draft = await api.ok("session/create", {}, version)
            started = await api.ok(
                "session/start/payment",
                {"session_id": draft["session"]["id"], **body},
                version,
            )
            await api.ok("session/cancel", {"session_id": started["session"]["id"]}, version)

        payments = final["session"]["payment_list"]
        assert payments[0]["refunds"], "the refund must show in the session"
        token = payments[0]["recurrent"]["token"]
        await api.ok("recurrent/status", {"recurrent": {"token": token}})
        await api.ok("token/info", {"type": "recurrent_token", "recurrent_token": {"token": token}})
        store = await open_store(server.database_url)
        try:
            [(number_hash, *_), *_] = await store.driver.fetch(
                "SELECT number_hash FROM vault_cards WHERE project_id = ?", (project.id,)
            )
        finally:
            await store.close()
        await api.ok(
            "token/info",
            {
                "type": "card",
                "card": {"type": "encrypted_card", "encrypted_card": {"number_hash": number_hash}},
            },
        )
        await api.ok("recurrent/disable", {"recurrent": {"token": token}})
        await _payout_methods(api, server, project)
        created = await api.ok("session/create", body)
        public = await api.ok(
            "token",
            {
                "tokenize_widget": {"access": True, "locale": "ru"},
                "acquiring_widget": {
                    "session_id": created["session"]["id"],
                    "show_recurrent_checkbox": "true",
                    "success_return_url": "https://shop.example/ok",
                },
            },
        )
        await api.ok(
            "token/info",
            {"type": "public_token", "public_token": {"token": public["public_token"]}},
        )
    finally:
        await client.aclose()
        await capturing.aclose()
    assert api.seen | hold.seen == {path for path, _, _ in METHODS}


async def _payout_methods(api: Checked, server: KassaServer, project: Any) -> None:
    """Every payout method, v1 and v2, against the document."""
    from kassa.adapters.clock import SystemClock
    from kassa.domain.money import Money
    from kassa.service.wallet import topup

    store = await open_store(server.database_url)
    try:
        await topup(store, SystemClock(), project.id, Money(100000, "usd"))
        await topup(store, SystemClock(), project.id, Money(100000, "rub"))
    finally:
        await store.close()
    recipient = {"recipient": {"full_name": "John Johnson"}}
    iban = {"description": "rent", "iban": "GB82WEST12345698765432"}
    account = {"type": "bank_account", "bank_account": {"system_type": "global", "global": iban}}
    check = {
        "type": "bank_account",
        "bank_account": {
            "system_type": "faster_payment_system_verification",
            "faster_payment_system_verification": {
                "phone": "79261234567",
                "bank_id": "100000000069",
            },
        },
    }
    amount = {"amount": 1000, "currency": "usd"}
    for version, name in (("v1", "payment_method"), ("v2", "payout_details")):
        body = {name: account, "amount_details": amount, "participant_details": recipient}
        init = await api.ok("session/init/payout", body, version)
        await api.ok("session/confirm", {"session_id": init["session"]["id"]}, version)
        draft = await api.ok("session/create", {}, version)
        await api.ok(
            "session/start/payout", {"session_id": draft["session"]["id"], **body}, version
        )
        empty = await api.ok("session/create", {}, version)
        verified = {"session_id": empty["session"]["id"], name: check}
        await api.ok("fps/customer_verification", verified, version)
        paid = await api.ok(
            "session/init/payment",
            {k: v for k, v in FULL.items() if k != "revenue_split_info"},
            version,
        )
        await api.ok("session/confirm", {"session_id": paid["session"]["id"]}, version)
        await api.ok("session/chargeback", {"session_id": paid["session"]["id"]}, version)
    multi = {
        "payment_list": [],
        "payout_list": [
            {"payout_details": account, "amount_details": amount, "participant_details": recipient}
        ],
    }
    await api.ok("session/multi/init", multi, "v2")
    await api.ok("fps/banks", {})
    await api.ok("wallet/balance", {"request_datetime": "2026-12-01T00:00:00+00:00"})


def test_the_walker_rejects_undocumented_fields_and_wrong_types(document):
    """The conformance check itself can fail: extra fields and wrong types are reported."""
    schema = {"$ref": "#/components/schemas/RecurrentResponse"}
    good = {
        "status": "ok",
        "recurrent": {
            "token": "rt_1",
            "created_at": "2024-05-27T02:03:00.000000Z",
            "is_active": True,
            "type": "recurrent_token",
        },
    }
    assert problems(document, schema, good, "r") == []
    assert problems(document, schema, {**good, "surprise": 1}, "r") == [
        "r.surprise: not in the document"
    ]
    wrong = {**good, "recurrent": {**good["recurrent"], "is_active": "yes"}}
    assert problems(document, schema, wrong, "r") == ["r.recurrent.is_active: 'yes' is not boolean"]
    missing = {"status": "ok"}
    assert problems(document, schema, missing, "r") == ["r.recurrent: required"]
