"""Fixtures of the SDK's unit tests (no server: ``httpx.MockTransport``)."""

from __future__ import annotations

import pytest

from kassa_client import _transport


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each test once with ``Client`` and once with ``AsyncClient``."""
    return str(request.param)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every retry wait the clients would have slept, recorded instead of slept."""
    seen: list[float] = []

    def sleep(seconds: float) -> None:
        seen.append(seconds)

    async def async_sleep(seconds: float) -> None:
        seen.append(seconds)

    monkeypatch.setattr(_transport, "_sleep", sleep)
    monkeypatch.setattr(_transport, "_async_sleep", async_sleep)
    return seen
