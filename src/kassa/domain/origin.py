"""Web origins (``scheme://host[:port]``): the pages allowed to embed a project's widgets."""

from __future__ import annotations

from urllib.parse import urlsplit

_MAX_ORIGIN = 255
_DEFAULT_PORTS = {"http": 80, "https": 443}


class OriginError(ValueError):
    """The text is not an acceptable widget origin."""


def origin_of(url: str) -> str | None:
    """The origin of an http(s) URL (lower-case, default port dropped), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def check_origin(text: str, *, allow_http: bool) -> str:
    """``text`` as a normalised origin; http only when ``allow_http`` (sandbox mode).

    An origin has no path (a trailing ``/`` is tolerated), query, fragment or credentials.
    """
    value = text.strip()
    if not value or len(value) > _MAX_ORIGIN:
        msg = f"must be 1 to {_MAX_ORIGIN} characters"
        raise OriginError(msg)
    parts = urlsplit(value)
    if parts.username or parts.password:
        msg = f"{value!r} must not carry credentials"
        raise OriginError(msg)
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        msg = f"{value!r} is a URL, not an origin: give scheme://host[:port] only"
        raise OriginError(msg)
    origin = origin_of(value)
    if origin is None:
        msg = f"{value!r} must be http(s)://host[:port]"
        raise OriginError(msg)
    if origin.startswith("http:") and not allow_http:
        msg = f"{value!r}: http origins are allowed only in sandbox mode; use https"
        raise OriginError(msg)
    return origin
