"""The signed protocol methods are served in front of FastAPI; everything else goes through it."""

from __future__ import annotations

import httpx
import orjson
import pytest

from kassa.adapters.keys import generate_private_key, public_pem, sign
from kassa.api.app import KassaApp, create_app
from kassa.config import Settings
from kassa.domain.project import Project
from kassa.testing import EPOCH_OF_TESTS, fake_deps


async def test_protocol_calls_skip_the_framework_and_other_routes_reach_it(monkeypatch):
    """``session/create`` never enters FastAPI's ``__call__``; ``/healthz`` and docs do."""
    reached: list[str] = []
    framework = KassaApp.framework

    async def counted(self, scope, receive, send):
        reached.append(scope.get("path", scope["type"]))
        await framework(self, scope, receive, send)

    monkeypatch.setattr(KassaApp, "framework", counted)
    deps = fake_deps()
    key = generate_private_key()
    await deps.store.add_project(Project("pj_1", "shop", (public_pem(key),), EPOCH_OF_TESTS))
    app = create_app(Settings(), deps)
    body = orjson.dumps({"amount_details": {"amount": 1000, "currency": "usd"}})
    headers = {"X-PARTNER-PROJECT": "pj_1", "X-PARTNER-SIGN": sign(body, key)}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kassa") as http:
        created = await http.post("/api/v1/session/create", content=body, headers=headers)
        assert created.status_code == 200, created.text
        assert created.json()["session"]["status"] == "created"
        refused = await http.post(
            "/api/v1/session/create", content=body + b" ", headers=headers
        )  # the fast path verifies the signature too
        assert refused.status_code == 401
        assert reached == []
        assert (await http.get("/openapi.json")).status_code == 200
    assert reached == ["/openapi.json"]


@pytest.mark.parametrize("path", ["/api/v1/session/create", "/api/v2/session/create"])
def test_the_protocol_methods_are_still_documented(path):
    """FastAPI keeps documenting the methods the fast path serves."""
    app = create_app(Settings(), fake_deps())
    assert "post" in app.openapi()["paths"][path]
