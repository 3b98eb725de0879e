"""Widget pages served by an in-process app over fakes: sandbox-only parts and refusals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import orjson

from kassa.api.app import create_app
from kassa.config import Settings
from kassa.domain.project import Project
from kassa.domain.public_token import TokenizeWidget
from kassa.service.commands import IssueToken
from kassa.service.public_tokens import issue_token
from kassa.testing import EPOCH_OF_TESTS, fake_deps

if TYPE_CHECKING:
    from kassa.service.deps import Deps


def client(*, sandbox: bool, deps: Deps | None = None) -> httpx.AsyncClient:
    """An HTTP client on an app built over fakes (no database, no lifespan needed)."""
    app = create_app(Settings(sandbox=sandbox), deps or fake_deps())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kassa")


async def tokenize_token(deps: Deps) -> str:
    """A tokenize token of a project whose widgets https://shop.example may embed."""
    project = Project(
        "pj_1", "shop", ("pem",), EPOCH_OF_TESTS, widget_origins=("https://shop.example",)
    )
    await deps.store.add_project(project)
    cmd = IssueToken(project.id, tokenize=TokenizeWidget())
    token: str = orjson.loads((await issue_token(deps, cmd)).body)["public_token"]
    return token


async def test_the_demo_shop_exists_only_in_sandbox_mode():
    """Outside sandbox mode ``/demo`` is a 404 page; inside, without a project, it says why."""
    async with client(sandbox=False) as http:
        closed = await http.get("/demo")
    assert closed.status_code == 404
    assert "only in sandbox mode" in closed.text
    async with client(sandbox=True) as http:
        missing = await http.get("/demo")
    assert missing.status_code == 404
    assert "kassa serve --demo" in missing.text


async def test_kassa_itself_may_frame_the_widgets_only_in_sandbox_mode():
    """The project's origins frame the widget; kassa's own origin too, only in sandbox mode."""
    for sandbox, framers in (
        (False, "https://shop.example;"),
        (True, "https://shop.example 'self';"),
    ):
        deps = fake_deps()
        token = await tokenize_token(deps)
        async with client(sandbox=sandbox, deps=deps) as http:
            page = await http.get("/widget/tokenize", params={"public_token": token})
        assert page.status_code == 200
        assert f"frame-ancestors {framers}" in page.headers["content-security-policy"]


async def test_an_unknown_tokens_page_may_be_framed_by_anyone():
    """It knows no project to restrict to, and says only that the link is not valid."""
    async with client(sandbox=False) as http:
        page = await http.get("/widget/tokenize", params={"public_token": "x"})
    assert page.status_code == 404
    assert "frame-ancestors *;" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


async def test_a_post_without_a_token_is_a_page_not_a_trace():
    """An empty form post gets the 404 page in HTML, never JSON or a stack trace."""
    async with client(sandbox=True) as http:
        page = await http.post("/widget/pay", content=b"", headers={"content-type": "x"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "This link is not valid" in page.text
