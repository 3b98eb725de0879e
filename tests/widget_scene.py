"""The world of the widget browser tests: kassa, a webhook receiver, a merchant on its own origin.

One real ``kassa serve`` per module (SQLite, in-process webhook worker), a real webhook
receiver, and the merchant's shop on another port (``merchant_site.py``: its own origin, the
project's allowed origin) that embeds kassa with ``kassa.js``. A test module imports the
fixtures it uses by name.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from merchant_site import MerchantSite
from testkit import KassaServer
from webhook_receiver import Receiver
from widget_kit import SyncClient, run, wait_until, widget_project

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import FrameLocator, Locator, Page


@pytest.fixture(scope="module")
def kassa(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KassaServer]:
    """A real server on a copy of the migrated SQLite database, delivering webhooks."""
    folder = tmp_path_factory.mktemp("widgets")
    shutil.copy(sqlite_template, folder / "kassa.sqlite3")
    server = KassaServer(
        f"sqlite:///{folder / 'kassa.sqlite3'}", folder, KASSA_WORKER_POLL_SECONDS="0.05"
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """The merchant's webhook endpoint."""
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def merchant(kassa: KassaServer) -> Iterator[MerchantSite]:
    """The merchant's shop on its own origin."""
    site = MerchantSite(kassa.base_url)
    yield site
    site.stop()


@dataclass
class Scene:
    """One test's world: the merchant's API client, kassa, the shop's site, its receiver."""

    api: SyncClient
    kassa: str
    merchant: MerchantSite
    receiver: Receiver

    def widget(self, path: str, token: str) -> str:
        """A kassa widget page opened directly (not embedded)."""
        return f"{self.kassa}{path}?public_token={token}"


@pytest.fixture
def shop(kassa, receiver, merchant, request) -> Iterator[Scene]:
    """A project of the merchant: its origin may embed the widgets, webhooks go to the receiver.

    ``@pytest.mark.parametrize("shop", [{...settings}], indirect=True)`` sets its settings.
    """
    settings: dict[str, bool] = getattr(request, "param", {})
    handle = run(
        widget_project(
            kassa.database_url,
            (merchant.origin,),
            webhook_url=receiver.url(request.node.name[:40]),
            **settings,
        )
    )
    client = SyncClient(kassa.base_url, handle)
    yield Scene(client, kassa.base_url, merchant, receiver)
    client.close()


def returns(merchant: MerchantSite) -> dict[str, str]:
    """The acquiring widget's return URLs on the merchant's site."""
    return {
        "success_return_url": merchant.url("/success"),
        "failure_return_url": merchant.url("/failure"),
    }


def fill_card(
    form: Page | FrameLocator, number: str, *, cvc: str | None = "737", name: str = "Helen Adams"
) -> None:
    """Type the card as a customer does (key by key, so the live checks run)."""
    form.locator("#number").press_sequentially(number)
    form.locator("#expiry").press_sequentially("1239")
    if cvc is not None:
        form.locator("#cvc").press_sequentially(cvc)
    form.locator("#cardholder_name").fill(name)


def webhook_types(receiver: Receiver, session_id: str, count: int) -> list[str]:
    """The session's webhook types once ``count`` have arrived."""
    return wait_until(
        lambda: len(receiver.types(session_id)) >= count and receiver.types(session_id)
    )


def frame_of(page: Page) -> FrameLocator:
    """The kassa widget's frame on the merchant's page."""
    return page.frame_locator("iframe")


def text_of(locator: Locator) -> dict[str, Any]:
    """The JSON a merchant page's callback wrote into an element."""
    locator.filter(has_text="{").wait_for()
    found: dict[str, Any] = json.loads(locator.inner_text())
    return found
