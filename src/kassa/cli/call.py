"""``kassa call METHOD``: send one signed request, the way a merchant's integration does."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import typer

from kassa.adapters.keys import KeyError_, load_private_key, sign
from kassa.cli.context import settings

_GET_METHODS = frozenset({"fps/banks"})


def _body(data: str | None) -> bytes:
    if data is None:
        return b"{}"
    if data == "@-":
        return sys.stdin.buffer.read()
    if data.startswith("@"):
        return Path(data[1:]).read_bytes()
    return data.encode("utf-8")


def call(  # noqa: PLR0917 - Typer options
    method: str = typer.Argument(..., help="e.g. session/create"),
    project: str = typer.Option(..., "--project", help="X-PARTNER-PROJECT"),
    key: Path = typer.Option(..., "--key", help="Partner private key PEM"),
    data: str | None = typer.Option(None, "--data", help="JSON body, @file or @- for stdin"),
    idempotency_key: str | None = typer.Option(None, "--idempotency-key"),
    api_version: str = typer.Option("v1", "--api-version", help="v1 or v2"),
    url: str | None = typer.Option(None, "--url", help="Server base URL (default from settings)"),
) -> None:
    """Sign BODY with KEY, post it to METHOD, print the answer; exit 1 on an error answer."""
    config = settings()
    try:
        private_key = load_private_key(key.read_bytes())
    except (OSError, ValueError, KeyError_) as exc:
        typer.echo(f"kassa: --key {key}: {exc}", err=True)
        raise typer.Exit(2) from None
    body = _body(data)
    headers = {
        "Content-Type": "application/json",
        "X-PARTNER-PROJECT": project,
        "X-PARTNER-SIGN": sign(body, private_key),
    }
    if idempotency_key:
        headers["X-PARTNER-IDEMPOTENCY-KEY"] = idempotency_key
    target = f"{(url or config.base_url).rstrip('/')}/api/{api_version}/{method.strip('/')}"
    verb = "GET" if method in _GET_METHODS else "POST"
    try:
        response = httpx.request(verb, target, content=body, headers=headers, timeout=30.0)
    except httpx.HTTPError as exc:
        typer.echo(f"kassa: {target}: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(response.text)
    if response.status_code >= 400:  # noqa: PLR2004
        raise typer.Exit(1)
