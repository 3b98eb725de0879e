"""Which webhook URLs a project may register (the SSRF guard's static half)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_MAX_URL = 2048


class WebhookUrlError(ValueError):
    """The URL is not an acceptable webhook target."""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(address: str) -> bool:
    """True if a resolved address is globally routable (IPv4 inside IPv6 judged as IPv4).

    The sender's dynamic SSRF check runs this on every address a webhook host resolves to.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped.is_global
        if ip.sixtofour is not None:
            return ip.sixtofour.is_global
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF).is_global
    return ip.is_global


def is_private_host(host: str) -> bool:
    """True for loopback, private, link-local and other non-public literal addresses."""
    if host.lower() in {"localhost", "localhost.localdomain"} or host.lower().endswith(
        ".localhost",
    ):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not is_public_address(str(address))


def check_webhook_url(url: str, *, allow_private: bool) -> str:
    """Return ``url`` if it is http(s) with a host; private hosts only if ``allow_private``."""
    if len(url) > _MAX_URL:
        msg = "URL is too long"
        raise WebhookUrlError(msg)
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        msg = "URL must be http or https"
        raise WebhookUrlError(msg)
    if not parts.hostname:
        msg = "URL must name a host"
        raise WebhookUrlError(msg)
    if parts.username or parts.password:
        msg = "URL must not carry credentials"
        raise WebhookUrlError(msg)
    if not allow_private and is_private_host(parts.hostname):
        msg = "private and loopback addresses are allowed only in sandbox mode"
        raise WebhookUrlError(msg)
    return url
