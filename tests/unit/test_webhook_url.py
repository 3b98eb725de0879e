"""The SSRF guard's static half (``domain/webhook_url.py``): which webhook URLs are accepted."""

from __future__ import annotations

import pytest

from kassa.domain.webhook_url import (
    WebhookUrlError,
    check_webhook_url,
    is_private_host,
    is_public_address,
)

PRIVATE_HOSTS = [
    "127.0.0.1",
    "127.1",  # the numeric forms the system resolver reads as 127.0.0.1
    "0x7f.1",
    "2130706433",
    "0",  # 0.0.0.0
    "localhost",
    "LOCALHOST",
    "localhost.",
    "api.localhost",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata (link-local)
    "100.64.0.1",  # carrier-grade NAT
    "[::1]",
    "[::]",
    "[fc00::1]",
    "[fe80::1%25eth0]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped loopback
    "[2002:7f00:1::1]",  # 6to4 of 127.0.0.1
    "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
]

PUBLIC_HOSTS = ["shop.example", "hooks.example.com", "93.184.216.34", "[2606:4700::1111]"]


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_private_and_loopback_hosts_are_refused_outside_sandbox(host: str) -> None:
    """Every loopback, private, link-local or otherwise non-global host is refused."""
    url = f"http://{host}:8000/hook"
    with pytest.raises(WebhookUrlError, match="only with KASSA_ALLOW_PRIVATE_WEBHOOKS=1"):
        check_webhook_url(url, allow_private=False)
    assert check_webhook_url(url, allow_private=True) == url


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_public_hosts_and_names_pass_the_static_check(host: str) -> None:
    """Public literals pass; a name passes too (no DNS here: the sender checks what it resolves)."""
    url = f"https://{host}/kassa/hook?x=1"
    assert check_webhook_url(url, allow_private=False) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://shop.example/hook", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("gopher://shop.example/", "http or https"),
        ("shop.example/hook", "http or https"),
        ("http:///hook", "must name a host"),
        ("https://user:pw@shop.example/hook", "credentials"),
        ("https://shop.example/" + "a" * 2048, "too long"),
    ],
)
def test_urls_that_are_not_plain_http_targets_are_refused_even_in_sandbox(
    url: str, reason: str
) -> None:
    """Scheme, host and credentials rules hold whatever the sandbox setting."""
    with pytest.raises(WebhookUrlError, match=reason):
        check_webhook_url(url, allow_private=True)


def test_resolved_addresses_are_judged_as_the_connection_would_see_them() -> None:
    """The sender's dynamic check: IPv4 inside IPv6 counts as the IPv4 address."""
    assert is_public_address("93.184.216.34")
    assert is_public_address("2606:4700::1111")
    assert not is_public_address("127.0.0.1")
    assert not is_public_address("::ffff:10.0.0.1")
    assert not is_public_address("fe80::1%eth0")
    assert not is_public_address("not an address")


def test_names_that_only_look_numeric_are_names() -> None:
    """Hex-looking labels that the resolver would not read as an address stay names."""
    assert not is_private_host("deadbeef")
    assert not is_private_host("cafe.be")
    assert not is_private_host("1.2.3.4.example")
