"""The served app moves its start-up heap out of the garbage collector's reach.

Modules, the app, pools and caches live as long as the process; once they are frozen
(``gc.freeze``), a full collection walks only what requests made, so its pauses — which land
in the latency tail — stay short. Apps built for tests are not frozen (a test process builds
many and drops them).
"""

from __future__ import annotations

import gc
from typing import Any

import pytest

from kassa.api import app as app_module
from kassa.api.app import create_app
from kassa.config import Settings
from kassa.testing import fake_deps


@pytest.mark.parametrize("freeze", [True, False])
async def test_start_up_freezes_the_heap_only_for_the_served_app(freeze: bool) -> None:
    """After start-up the collector holds frozen objects only if the app was asked to."""
    app = create_app(Settings(), fake_deps(), freeze_heap=freeze)
    gc.unfreeze()
    try:
        async with app.router.lifespan_context(app):
            frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()  # give this test process its collector back
    assert (frozen > 0) == freeze


def test_the_uvicorn_factory_builds_the_frozen_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """``kassa serve``'s processes build their app through ``app_from_env``: frozen."""
    built: list[dict[str, Any]] = []

    def recording(_settings: Settings, *_args: Any, **kwargs: Any) -> str:
        built.append(kwargs)
        return "app"

    monkeypatch.setattr(app_module, "create_app", recording)
    monkeypatch.setattr("kassa.logging.configure", lambda *_a, **_k: None)
    assert app_module.app_from_env() == "app"  # type: ignore[comparison-overlap]
    assert built == [{"freeze_heap": True}]
