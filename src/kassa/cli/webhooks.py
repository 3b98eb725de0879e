"""``kassa webhooks …``: list deliveries with their attempts; replay one."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from kassa.cli.context import DatabaseUrl, opened_store, run, settings
from kassa.service import delivery
from kassa.service.ports.delivery import DeliveryStatus

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.config import Settings
    from kassa.service.ports.delivery import AttemptRecord, DeliveryView

app = typer.Typer(help="Webhook deliveries: list them with their attempts, replay one.")


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="milliseconds")


def attempt_json(attempt: AttemptRecord) -> dict[str, Any]:
    """One attempt as JSON."""
    result = attempt.result
    return {
        "attempted_at": _time(attempt.attempted_at),
        "http_status": result.http_status,
        "latency_ms": round(result.latency_ms, 3),
        "response_excerpt": result.excerpt,
        "error": result.error,
        "worker": attempt.worker,
    }


def delivery_json(view: DeliveryView) -> dict[str, Any]:
    """One delivery as JSON (``kassa webhooks list --json``)."""
    return {
        "id": view.id,
        "project_id": view.project_id,
        "session_id": view.session_id,
        "type": view.event_type,
        "status": view.status.value,
        "attempts": view.attempts,
        "created_at": _time(view.created_at),
        "next_attempt_at": _time(view.next_attempt_at),
        "give_up_at": _time(view.give_up_at),
        "finished_at": _time(view.finished_at),
        "last_error": view.last_error,
        "replay_of": view.replay_of,
        "attempt_log": [attempt_json(a) for a in view.attempt_log],
    }


def _lines(view: DeliveryView) -> list[str]:
    head = (
        f"#{view.id} {view.status.value:<9} {view.event_type:<16} {view.session_id} "
        f"project={view.project_id} attempts={view.attempts} created={_time(view.created_at)}"
    )
    if view.replay_of is not None:
        head += f" replay_of=#{view.replay_of}"
    if view.status is DeliveryStatus.PENDING:
        head += f" next={_time(view.next_attempt_at)}"
    if view.last_error:
        head += f" last_error={view.last_error!r}"
    out = [head]
    for attempt in view.attempt_log:
        result = attempt.result
        status = result.http_status if result.http_status is not None else "---"
        line = f"    {_time(attempt.attempted_at)} {status} {result.latency_ms:8.1f} ms"
        if result.error:
            line += f" error={result.error!r}"
        if result.excerpt:
            line += f" answer={result.excerpt[:80]!r}"
        out.append(line)
    return out


async def _list(
    config: Settings,
    project: str | None,
    failed: bool,
    limit: int,
) -> list[DeliveryView]:
    async with opened_store(config) as store:
        return list(
            await store.deliveries.list_deliveries(
                project_id=project,
                failed_only=failed,
                limit=limit,
            ),
        )


@app.command("list")
def list_deliveries(
    project: str | None = typer.Option(None, "--project", help="Only this project's"),
    failed: bool = typer.Option(False, "--failed", help="Only deliveries given up"),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="Newest N"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object on stdout"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Deliveries, newest first, each with its attempts (time, HTTP status, latency, answer)."""
    config = settings(database_url=database_url)
    views = run(_list(config, project, failed, limit))
    if as_json:
        typer.echo(json.dumps({"deliveries": [delivery_json(v) for v in views]}))
        return
    if not views:
        typer.echo("no deliveries")
    for view in views:
        typer.echo("\n".join(_lines(view)))


async def _replay(config: Settings, delivery_id: int) -> DeliveryView | None:
    from kassa.adapters.clock import SystemClock  # noqa: PLC0415

    async with opened_store(config) as store:
        return await delivery.replay(store.deliveries, SystemClock(), delivery_id)


@app.command("replay")
def replay(
    delivery_id: int = typer.Argument(..., help="The delivery to send again (see list)"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object on stdout"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Queue a fresh delivery of the same signed payload (a new id, ``replay_of`` the old)."""
    config = settings(database_url=database_url)
    view = run(_replay(config, delivery_id))
    if view is None:
        typer.echo(f"kassa: no delivery #{delivery_id}", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(delivery_json(view)))
    elif view.status is DeliveryStatus.SKIPPED:
        typer.echo(f"delivery #{view.id} recorded as skipped: the project has no webhook URL")
    else:
        typer.echo(f"delivery #{view.id} queued (replay of #{delivery_id})")
