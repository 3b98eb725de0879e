"""The one module that talks to httpx: send prepared bytes, retry what is safe to retry.

A request is prepared once (``Prepared``: serialised, signed, headers set) and every attempt
sends exactly those bytes with the same idempotency key. What is retried:

- connection failures that happened before anything was sent (connect error or timeout,
  pool timeout): always;
- other network errors and timeouts, ``5xx``: when a retry cannot run the request twice, i.e.
  the request carries an idempotency key or the method only reads;
- ``429``: always (the server refused the request);
- ``400 idempotency_key_already_exists`` **with** a ``Retry-After`` header (the first request
  with this key is still running, or died and holds its lease): wait that many seconds, at
  most ``max_retry_wait``, and send the same bytes again.

Any other answer, ``4xx`` included, is returned at once. Delays grow exponentially
(``backoff_base * 2**n`` up to ``backoff_max``) with jitter; ``Retry-After`` wins when given.
Every retry, whatever its cause, counts against ``max_retries``.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx

from kassa_client.errors import TransportError

if TYPE_CHECKING:
    from collections.abc import Mapping

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAYBE_SENT = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.CloseError,
)
_TOO_MANY_REQUESTS = 429
_BAD_REQUEST = 400
_SERVER_ERROR = 500
_KEY_IN_USE = "idempotency_key_already_exists"

_sleep = time.sleep  # module attributes, so tests can watch the waits
_async_sleep = asyncio.sleep


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many retries, how long between them, and the longest ``Retry-After`` honoured."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    max_retry_wait: float = 60.0

    def backoff(self, retry: int) -> float:
        """Delay before retry number ``retry`` (from 0): half fixed, half random."""
        ceiling: float = min(self.backoff_max, self.backoff_base * 2.0**retry)
        jitter = random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret
        return ceiling / 2 + jitter


@dataclass(frozen=True, slots=True)
class Prepared:
    """One request exactly as it goes on the wire, on every attempt."""

    http_method: str
    path: str
    body: bytes
    headers: Mapping[str, str]
    idempotency_key: str | None
    replay_safe: bool  # a repeat cannot run it twice: it has a key, or it only reads


@dataclass(frozen=True, slots=True)
class RawResponse:
    """The server's answer: status, headers and the exact body bytes."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    attempts: int = 1

    def json(self) -> Any:  # noqa: ANN401 - JSON
        """The body parsed as JSON (``ValueError`` if it is not JSON)."""
        return json.loads(self.content)

    @property
    def is_error(self) -> bool:
        """Whether the server answered with an error (HTTP status 400 or more)."""
        return self.status_code >= _BAD_REQUEST

    def error_code(self) -> str | None:
        """``error.code`` of an error envelope, if the body is one."""
        try:
            data = self.json()
        except ValueError:
            return None
        error = data.get("error") if isinstance(data, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        return code if isinstance(code, str) else None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), if present and readable."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _delay_after_response(
    policy: RetryPolicy, retry: int, request: Prepared, answer: RawResponse
) -> float | None:
    status = answer.status_code
    waited = retry_after(answer.headers)
    if status == _TOO_MANY_REQUESTS or (status >= _SERVER_ERROR and request.replay_safe):
        return min(waited, policy.max_retry_wait) if waited is not None else policy.backoff(retry)
    if (
        status == _BAD_REQUEST
        and waited is not None
        and request.idempotency_key is not None
        and answer.error_code() == _KEY_IN_USE
    ):
        return min(waited, policy.max_retry_wait)
    return None


def _delay_after_error(
    policy: RetryPolicy, retry: int, request: Prepared, error: httpx.TransportError
) -> float | None:
    if isinstance(error, _NEVER_SENT) or (isinstance(error, _MAYBE_SENT) and request.replay_safe):
        return policy.backoff(retry)
    return None


def _failure(request: Prepared, error: httpx.TransportError, attempts: int) -> TransportError:
    kind = type(error).__name__
    message = f"{request.http_method} {request.path}: {kind}: {error} (after {attempts} attempt(s))"
    return TransportError(message, idempotency_key=request.idempotency_key)


def _raw(response: httpx.Response, attempts: int) -> RawResponse:
    return RawResponse(response.status_code, response.headers, response.content, attempts)


def _http_options(base_url: str, timeout: float, user_agent: str) -> dict[str, Any]:
    return {
        "base_url": base_url.rstrip("/"),
        "timeout": httpx.Timeout(timeout),
        "headers": {"User-Agent": user_agent},
        "follow_redirects": False,
    }


class SyncTransport:
    """One pooled ``httpx.Client`` and the retry loop."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        policy: RetryPolicy,
        user_agent: str,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.policy = policy
        self._http = httpx.Client(
            transport=transport, **_http_options(base_url, timeout, user_agent)
        )

    def send(self, request: Prepared) -> RawResponse:
        """Send ``request``; retry per the policy; the last answer, or ``TransportError``."""
        retry = 0
        while True:
            try:
                response = self._http.request(
                    request.http_method, request.path, content=request.body, headers=request.headers
                )
            except httpx.TransportError as exc:
                delay = _delay_after_error(self.policy, retry, request, exc)
                if delay is None or retry >= self.policy.max_retries:
                    raise _failure(request, exc, retry + 1) from exc
            else:
                answer = _raw(response, retry + 1)
                delay = _delay_after_response(self.policy, retry, request, answer)
                if delay is None or retry >= self.policy.max_retries:
                    return answer
            _sleep(delay)
            retry += 1

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()


class AsyncTransport:
    """One pooled ``httpx.AsyncClient`` and the retry loop."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        policy: RetryPolicy,
        user_agent: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = policy
        self._http = httpx.AsyncClient(
            transport=transport, **_http_options(base_url, timeout, user_agent)
        )

    async def send(self, request: Prepared) -> RawResponse:
        """Send ``request``; retry per the policy; the last answer, or ``TransportError``."""
        retry = 0
        while True:
            try:
                response = await self._http.request(
                    request.http_method, request.path, content=request.body, headers=request.headers
                )
            except httpx.TransportError as exc:
                delay = _delay_after_error(self.policy, retry, request, exc)
                if delay is None or retry >= self.policy.max_retries:
                    raise _failure(request, exc, retry + 1) from exc
            else:
                answer = _raw(response, retry + 1)
                delay = _delay_after_response(self.policy, retry, request, answer)
                if delay is None or retry >= self.policy.max_retries:
                    return answer
            await _async_sleep(delay)
            retry += 1

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()
