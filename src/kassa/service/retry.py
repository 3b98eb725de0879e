"""Re-run a use case whose optimistic version check lost to a concurrent writer."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from kassa.domain.errors import ConcurrentUpdate

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

MAX_ATTEMPTS = 8
T = TypeVar("T")


async def retry_on_conflict(run: Callable[[], Awaitable[T]]) -> T:
    """Call ``run`` until it commits without a version conflict (at most ``MAX_ATTEMPTS``)."""
    for _ in range(MAX_ATTEMPTS - 1):
        try:
            return await run()
        except ConcurrentUpdate:
            continue
    return await run()
