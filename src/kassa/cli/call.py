"""``kassa call METHOD``: one signed request through kassa-client, the way a merchant sends it.

Any method path may be called (a raw call through ``Client.request``): the body is sent
exactly as given and signed over those bytes. Exit 0 on an ``ok`` answer, 1 on an error answer
(its code and description on stderr), 2 on a usage, key or transport problem.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from kassa.cli.context import settings
from kassa_client import Client, KassaClientError, RawResponse


def _body(data: str | None) -> bytes | None:
    if data is None:
        return None
    if data == "@-":
        return sys.stdin.buffer.read()
    if data.startswith("@"):
        path = Path(data[1:])
        try:
            return path.read_bytes()
        except OSError as exc:
            typer.echo(f"kassa: --data {data}: {exc.strerror or exc}", err=True)
            raise typer.Exit(2) from None
    return data.encode("utf-8")


def _error(answer: RawResponse) -> tuple[str, str] | None:
    """``(code, description)`` of an error answer, None for ``ok``."""
    try:
        data = answer.json()
    except ValueError:
        data = None
    failed = answer.is_error or (isinstance(data, dict) and data.get("status") == "error")
    if not failed:
        return None
    envelope = data.get("error") if isinstance(data, dict) else None
    if isinstance(envelope, dict):
        return str(envelope.get("code")), str(envelope.get("description"))
    return f"http_{answer.status_code}", answer.content[:200].decode("utf-8", "replace")


def _show(answer: RawResponse, *, raw: bool) -> None:
    text = answer.content.decode("utf-8", "replace")
    if raw:
        typer.echo(text)
        return
    try:
        json.loads(text)
    except ValueError:
        typer.echo(text)
        return
    Console(soft_wrap=True).print_json(text)


def call(  # noqa: PLR0917 - Typer options
    method: str = typer.Argument(..., help="e.g. session/create"),
    project: str = typer.Option(..., "--project", help="X-PARTNER-PROJECT"),
    key: Path = typer.Option(..., "--key", help="Partner private key PEM"),
    data: str | None = typer.Option(None, "--data", help="JSON body, @file or @- for stdin"),
    idempotency_key: str | None = typer.Option(None, "--idempotency-key"),
    api_version: str = typer.Option("v1", "--api-version", help="v1 or v2"),
    base_url: str | None = typer.Option(
        None, "--base-url", help="Server base URL (default from settings)"
    ),
    url: str | None = typer.Option(None, "--url", hidden=True),
    raw: bool = typer.Option(False, "--json", help="Print the answer's exact bytes"),
) -> None:
    """Sign the body with KEY, send it to METHOD, print the answer; exit 1 on an error answer."""
    target = base_url or url or settings().base_url
    body = _body(data)
    try:
        client = Client(target, project, key, api_version=api_version)
    except (ValueError, TypeError) as exc:
        typer.echo(f"kassa: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        with client:
            answer = client.request(method, body, idempotency_key=idempotency_key)
    except KassaClientError as exc:
        typer.echo(f"kassa: {exc}", err=True)
        raise typer.Exit(2) from None
    _show(answer, raw=raw)
    failure = _error(answer)
    if failure is not None:
        code, description = failure
        typer.echo(f"kassa: error {code}: {description} (HTTP {answer.status_code})", err=True)
        raise typer.Exit(1)
