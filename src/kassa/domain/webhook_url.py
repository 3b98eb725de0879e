"""Which webhook URLs a project may register (the SSRF guard's static half).

The static half judges the URL text only: scheme, credentials, and a host that is a name of
this machine (``localhost``…) or a literal address, in any numeric form the system resolver
accepts (``127.1``, ``0x7f.1``, ``2130706433``). It does no DNS lookup: a name's answer can
change after registration, so the sender checks every resolved address again at each attempt
(``adapters/webhook_sender.py``), and that check decides.
"""

from __future__ import annotations

import ipaddress
import socket
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


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address a numeric IPv4 form (``127.1``, ``0x7f.1``, ``2130706433``) stands for."""
    if not host or not all(c in "0123456789abcdefx." for c in host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def is_private_host(host: str) -> bool:
    """True for names of this machine and loopback, private, link-local… literal addresses."""
    name = host.lower().rstrip(".")
    if name in {"localhost", "localhost.localdomain"} or name.endswith(".localhost"):
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(
            name.strip("[]"),
        )
    except ValueError:
        address = _numeric_ipv4(name)
    if address is None:
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
        msg = "private and loopback addresses are allowed only with KASSA_ALLOW_PRIVATE_WEBHOOKS=1"
        raise WebhookUrlError(msg)
    return url
