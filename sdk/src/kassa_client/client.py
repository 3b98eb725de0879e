"""``Client``: the synchronous client. Its protocol methods come from the shared table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self, TypeVar

from kassa_client._call import (
    USER_AGENT,
    Call,
    Settings,
    SyncBase,
    raw_request,
    result,
    settings,
)
from kassa_client._methods import Methods
from kassa_client._transport import RawResponse, SyncTransport

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import TracebackType

    import httpx

    from kassa_client._signing import PrivateKeyInput

T = TypeVar("T")


class Client(SyncBase, Methods):
    """A synchronous client for one project: one connection pool, signed and retry-safe calls.

    ``private_key`` is PEM bytes or string, a path to a PEM file, or a ``cryptography`` RSA
    key. ``api_version`` (``"v1"`` or ``"v2"``) picks the URL and field names; models read
    both, so your code is the same for either. Use it as a context manager, or ``close()``.
    """

    def __init__(
        self,
        base_url: str,
        project: str,
        private_key: PrivateKeyInput,
        *,
        api_version: str = "v1",
        timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_wait: float = 60.0,
        backoff_base: float = 0.5,
        submerchant: str | None = None,
        key_password: bytes | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._settings: Settings = settings(
            base_url,
            project,
            private_key,
            api_version=api_version,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            backoff_base=backoff_base,
            submerchant=submerchant,
            key_password=key_password,
        )
        self._transport = SyncTransport(
            base_url,
            timeout=timeout,
            policy=self._settings.policy,
            user_agent=USER_AGENT,
            transport=transport,
        )

    @property
    def api_version(self) -> str:
        """``"v1"`` or ``"v2"``."""
        return self._settings.version.value

    def _send(self, call: Call[T]) -> T:
        prepared = self._settings.credentials.prepare_call(call)
        return result(call, self._transport.send(prepared))

    def request(
        self,
        method_path: str,
        body: bytes | Mapping[str, Any] | Sequence[Any] | None = None,
        *,
        idempotency_key: str | None = None,
        http_method: str | None = None,
        api_version: str | None = None,
    ) -> RawResponse:
        """Send any method: a raw signed call. Error answers are returned, not raised.

        ``body`` bytes are sent exactly as given; anything else is serialised to JSON
        (``None`` → ``{}``, and ``[]`` for ``fps/banks``, sent as a GET). Without an
        idempotency key only failures before sending are retried.
        """
        prepared = raw_request(
            self._settings,
            method_path,
            body,
            idempotency_key=idempotency_key,
            http_method=http_method,
            api_version=api_version,
        )
        return self._transport.send(prepared)

    def close(self) -> None:
        """Close the connection pool."""
        self._transport.close()

    def __enter__(self) -> Self:
        """Use the client in a ``with`` block; it closes at the end."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the connection pool."""
        self.close()
