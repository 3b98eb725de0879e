"""What the sync and async clients share: a call, its one serialisation, and reading the reply.

Each protocol method is written once, in ``_methods.py``, as a function that builds a
``Call``; the ``Method`` descriptor turns it into ``Client.name(...) -> T`` and
``AsyncClient.name(...) -> Awaitable[T]``, both fully typed.
"""

from __future__ import annotations

import functools
import inspect
import json
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from pydantic import ValidationError

from kassa_client import _signing
from kassa_client._transport import Prepared, RawResponse, RetryPolicy
from kassa_client._version import __version__
from kassa_client.errors import ApiError, UnexpectedResponseError, api_error

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from cryptography.hazmat.primitives.asymmetric import rsa

P = ParamSpec("P")
T = TypeVar("T")

USER_AGENT = f"kassa-client/{__version__}"


class ApiVersion(StrEnum):
    """The protocol's major version, in the URL: ``/api/v1/…`` or ``/api/v2/…``."""

    V1 = "v1"
    V2 = "v2"


def new_idempotency_key() -> str:
    """A fresh random idempotency key."""
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One protocol call: where it goes, its JSON body, and how to read a successful answer."""

    path: str
    body: Any
    parse: Callable[[dict[str, Any]], T]
    version: ApiVersion
    http_method: str = "POST"
    mutating: bool = True
    idempotency_key: str | None = None
    session_id: str | None = None


def encode(body: Any) -> bytes:  # noqa: ANN401 - any JSON value
    """Compact UTF-8 JSON (bytes are taken as they are): the bytes that are signed and sent."""
    if isinstance(body, bytes):
        return body
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who the client is: project id, private key, optional sub-merchant."""

    project: str
    key: rsa.RSAPrivateKey
    submerchant: str | None = None

    def prepare(
        self,
        *,
        http_method: str,
        version: str,
        path: str,
        body: Any,  # noqa: ANN401 - any JSON value or bytes
        idempotency_key: str | None,
        replay_safe: bool,
    ) -> Prepared:
        """Serialise once, sign those bytes, and fix the headers for every attempt."""
        raw = encode(body)
        headers = {
            "Content-Type": "application/json",
            "X-PARTNER-PROJECT": self.project,
            "X-PARTNER-SIGN": _signing.sign(raw, self.key),
        }
        if self.submerchant is not None:
            headers["X-PARTNER-SUBMERCHANT"] = self.submerchant
        if idempotency_key is not None:
            headers["X-PARTNER-IDEMPOTENCY-KEY"] = idempotency_key
        target = f"/api/{version}/{path.strip('/')}"
        return Prepared(http_method, target, raw, headers, idempotency_key, replay_safe)

    def prepare_call(self, call: Call[Any]) -> Prepared:
        """``prepare`` for a typed call."""
        return self.prepare(
            http_method=call.http_method,
            version=call.version,
            path=call.path,
            body=call.body,
            idempotency_key=call.idempotency_key,
            replay_safe=call.idempotency_key is not None or not call.mutating,
        )


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a client is built from, checked once."""

    base_url: str
    credentials: Credentials
    version: ApiVersion
    timeout: float
    policy: RetryPolicy


def settings(
    base_url: str,
    project: str,
    private_key: _signing.PrivateKeyInput,
    *,
    api_version: str,
    timeout: float,
    max_retries: int,
    max_retry_wait: float,
    backoff_base: float,
    submerchant: str | None,
    key_password: bytes | None,
) -> Settings:
    """Validate the clients' arguments and load the key."""
    if api_version not in {v.value for v in ApiVersion}:
        msg = f"api_version: must be 'v1' or 'v2', not {api_version!r}"
        raise ValueError(msg)
    if not base_url.startswith(("http://", "https://")):
        msg = f"base_url: must start with http:// or https://, not {base_url!r}"
        raise ValueError(msg)
    if max_retries < 0 or timeout <= 0 or max_retry_wait < 0 or backoff_base < 0:
        msg = "timeout must be > 0; max_retries, max_retry_wait and backoff_base >= 0"
        raise ValueError(msg)
    key = _signing.load_private_key(private_key, key_password)
    return Settings(
        base_url=base_url,
        credentials=Credentials(project, key, submerchant),
        version=ApiVersion(api_version),
        timeout=timeout,
        policy=RetryPolicy(
            max_retries=max_retries, backoff_base=backoff_base, max_retry_wait=max_retry_wait
        ),
    )


def error_of(
    answer: RawResponse, *, session_id: str | None, idempotency_key: str | None
) -> ApiError | None:
    """The ``ApiError`` an answer stands for, or None when it is a success.

    An answer is an error when its HTTP status is 400 or more or its ``status`` is ``error``.
    """
    try:
        data = answer.json()
    except ValueError:
        data = None
    envelope = data.get("error") if isinstance(data, dict) else None
    failed = answer.is_error or (isinstance(data, dict) and data.get("status") == "error")
    if not failed:
        if isinstance(data, dict) and data.get("status") == "ok":
            return None
        text = answer.content[:200].decode("utf-8", "replace")
        return UnexpectedResponseError(
            "unexpected_response",
            f"not a protocol answer: {text!r}",
            answer.status_code,
            session_id=session_id,
            idempotency_key=idempotency_key,
        )
    code = envelope.get("code") if isinstance(envelope, dict) else None
    description = envelope.get("description") if isinstance(envelope, dict) else None
    if not isinstance(code, str):
        text = answer.content[:200].decode("utf-8", "replace")
        return UnexpectedResponseError(
            "unexpected_response",
            f"HTTP {answer.status_code} without an error envelope: {text!r}",
            answer.status_code,
            session_id=session_id,
            idempotency_key=idempotency_key,
        )
    return api_error(
        code,
        description if isinstance(description, str) else "",
        answer.status_code,
        session_id=session_id,
        idempotency_key=idempotency_key,
    )


def result(call: Call[T], answer: RawResponse) -> T:
    """The parsed result of a successful answer; raises the ``ApiError`` of a failed one."""
    error = error_of(answer, session_id=call.session_id, idempotency_key=call.idempotency_key)
    if error is not None:
        raise error
    try:
        return call.parse(answer.json())
    except (KeyError, TypeError, ValidationError) as exc:
        detail = str(exc).splitlines()[0]
        raise UnexpectedResponseError(
            "unexpected_response",
            f"{call.path}: the answer does not have the protocol's shape: {detail}",
            answer.status_code,
            session_id=call.session_id,
            idempotency_key=call.idempotency_key,
        ) from exc


class SyncBase:
    """Marker base of ``Client``: its ``Method`` attributes return results."""

    _settings: Settings

    def _send(self, call: Call[T]) -> T:
        raise NotImplementedError


class AsyncBase:
    """Marker base of ``AsyncClient``: its ``Method`` attributes return awaitables."""

    _settings: Settings

    async def _send(self, call: Call[T]) -> T:
        raise NotImplementedError


class Method(Generic[P, T]):
    """A protocol method written once: a builder ``(version, …) -> Call[T]`` for both clients."""

    def __init__(self, build: Callable[Concatenate[ApiVersion, P], Call[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__
        self.name = build.__name__
        signature = inspect.signature(build)
        params = list(signature.parameters.values())[1:]
        self.signature = signature.replace(parameters=params)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Method[P, T]: ...
    @overload
    def __get__(self, obj: AsyncBase, owner: type[Any]) -> Callable[P, Awaitable[T]]: ...
    @overload
    def __get__(self, obj: SyncBase, owner: type[Any]) -> Callable[P, T]: ...
    def __get__(self, obj: object, owner: type[Any]) -> Any:
        if obj is None:
            return self
        if not isinstance(obj, SyncBase | AsyncBase):
            msg = f"{self.name} belongs to Client and AsyncClient"
            raise TypeError(msg)
        client = obj
        build = self.build

        @functools.wraps(build)
        def bound(*args: P.args, **kwargs: P.kwargs) -> Any:  # noqa: ANN401 - T or Awaitable[T]
            return client._send(build(client._settings.version, *args, **kwargs))  # noqa: SLF001

        bound.__signature__ = self.signature  # type: ignore[attr-defined]
        return bound


GET_METHODS = frozenset({"fps/banks"})  # what Bank 131's SDK sends as GET, with body ``[]``
READ_ONLY = frozenset(
    {"session/status", "wallet/balance", "token/info", "recurrent/status", "fps/banks"}
)


def raw_request(
    config: Settings,
    method_path: str,
    body: Any,  # noqa: ANN401 - bytes or any JSON value
    *,
    idempotency_key: str | None,
    http_method: str | None,
    api_version: str | None,
) -> Prepared:
    """A ``Prepared`` request for any method path (``Client.request``)."""
    path = method_path.strip("/")
    version = ApiVersion(api_version) if api_version is not None else config.version
    verb = (http_method or ("GET" if path in GET_METHODS else "POST")).upper()
    if body is None:
        body = [] if path in GET_METHODS else {}
    return config.credentials.prepare(
        http_method=verb,
        version=version.value,
        path=path,
        body=body,
        idempotency_key=idempotency_key,
        replay_safe=idempotency_key is not None or path in READ_ONLY,
    )
