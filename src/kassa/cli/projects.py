"""``kassa projects …``: create, list, set-webhook, add-key, settings, set-origins."""

from __future__ import annotations

import json
from pathlib import Path  # noqa: TC003 - Typer reads the annotations at run time
from typing import TYPE_CHECKING, TypeVar

import typer

from kassa.adapters.clock import SystemClock
from kassa.adapters.keys import RsaVerifier, write_key_pair
from kassa.cli.context import DatabaseUrl, opened_store, run, server_key, settings
from kassa.domain.errors import InvalidRequest, ProjectNotFound
from kassa.domain.project import Project, ProjectSettings
from kassa.service import projects

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from kassa.config import Settings
    from kassa.service.ports import Store

T = TypeVar("T")

app = typer.Typer(help="Manage projects (API tenants), their keys and webhook URLs.")


def _read_public_key(path: Path) -> str:
    try:
        return RsaVerifier().check_public_key(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError, InvalidRequest) as exc:
        why = exc.description if isinstance(exc, InvalidRequest) else str(exc)
        typer.echo(f"kassa: {path}: {why}", err=True)
        raise typer.Exit(2) from None


def _admin(config: Settings, action: Callable[[Store], Awaitable[T]], flag: str = "") -> T:
    """Run one project use case on a store; its errors exit with their description."""

    async def go() -> T:
        async with opened_store(config) as store:
            return await action(store)

    try:
        return run(go())
    except ProjectNotFound as exc:
        typer.echo(f"kassa: {exc.description}", err=True)
        raise typer.Exit(1) from None
    except InvalidRequest as exc:
        typer.echo(f"kassa: {flag or 'error'}: {exc.description}", err=True)
        raise typer.Exit(2) from None


def _webhook(url: str | None, config: Settings) -> str | None:
    try:
        return projects.checked_webhook_url(url, allow_private=config.allow_private_webhooks)
    except InvalidRequest as exc:
        typer.echo(f"kassa: --webhook-url: {exc.description}", err=True)
        raise typer.Exit(2) from None


async def create_project(
    config: Settings,
    *,
    name: str,
    public_pem: str,
    webhook_url: str | None,
    project_settings: ProjectSettings,
) -> Project:
    """Insert a new project with one public key (through ``service.projects``)."""
    async with opened_store(config) as store:
        return await projects.create_project(
            store,
            RsaVerifier(),
            SystemClock(),
            name=name,
            public_pem=public_pem,
            webhook_url=webhook_url,
            settings=project_settings,
            allow_private_webhooks=config.allow_private_webhooks,
        )


@app.command("create")
def create(  # noqa: PLR0917 - Typer options
    name: str = typer.Option(..., "--name", help="Display name"),
    public_key: Path | None = typer.Option(None, "--public-key", help="Partner public key PEM"),
    generate_keys: Path | None = typer.Option(
        None,
        "--generate-keys",
        help="Write a fresh RSA-2048 partner key pair into this folder",
    ),
    webhook_url: str | None = typer.Option(None, "--webhook-url"),
    auto_confirm: bool = typer.Option(False, "--auto-confirm", help="Skip ready_to_confirm"),
    two_step_capture: bool = typer.Option(False, "--two-step-capture", help="Delayed capture"),
    partial_refunds: bool = typer.Option(True, "--partial-refunds/--no-partial-refunds"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object on stdout"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Create a project; prints its id and the server public key."""
    config = settings(database_url=database_url)
    if (public_key is None) == (generate_keys is None):
        typer.echo("kassa: give exactly one of --public-key FILE or --generate-keys DIR", err=True)
        raise typer.Exit(2)
    hook = _webhook(webhook_url, config)  # checked before any key or row is written
    server = server_key(config)
    paths: dict[str, str] = {}
    if generate_keys is not None:
        private_path = generate_keys / "partner_private.pem"
        public_path = generate_keys / "partner_public.pem"
        if private_path.exists() or public_path.exists():
            typer.echo(
                f"kassa: --generate-keys: {generate_keys} already holds a partner key pair; "
                "choose an empty folder (the existing keys may belong to another project)",
                err=True,
            )
            raise typer.Exit(2)
        generate_keys.mkdir(parents=True, exist_ok=True)
        write_key_pair(private_path, public_path)
        paths = {"private_key_path": str(private_path), "public_key_path": str(public_path)}
        public_key = public_path
    pem = _read_public_key(public_key) if public_key is not None else ""
    project = run(
        create_project(
            config,
            name=name,
            public_pem=pem,
            webhook_url=hook,
            project_settings=ProjectSettings(
                auto_confirm=auto_confirm,
                two_step_capture=two_step_capture,
                partial_refunds=partial_refunds,
            ),
        ),
    )
    out = {"project_id": project.id, "server_public_key_pem": server.public_pem, **paths}
    if as_json:
        typer.echo(json.dumps(out))
    else:
        typer.echo(f"project {project.id} ({name}) created")
        for key, value in paths.items():
            typer.echo(f"{key}: {value}")
        typer.echo(f"server public key: {server.public_path}")


@app.command("list")
def list_projects(
    as_json: bool = typer.Option(False, "--json"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """List projects."""
    config = settings(database_url=database_url)

    async def fetch() -> list[Project]:
        async with opened_store(config) as store:
            return await store.list_projects()

    projects = run(fetch())
    rows = [
        {
            "project_id": p.id,
            "name": p.name,
            "webhook_url": p.webhook_url,
            "keys": len(p.public_keys),
            "auto_confirm": p.settings.auto_confirm,
            "two_step_capture": p.settings.two_step_capture,
            "partial_refunds": p.settings.partial_refunds,
            "widget_origins": list(p.allowed_origins),
            "created_at": p.created_at.isoformat(),
        }
        for p in projects
    ]
    if as_json:
        typer.echo(json.dumps({"projects": rows}))
        return
    for row in rows:
        typer.echo(
            f"{row['project_id']}  {row['name']}  webhook={row['webhook_url'] or '-'}  "
            f"keys={row['keys']}",
        )


@app.command("set-webhook")
def set_webhook(
    project_id: str,
    url: str = typer.Argument(..., help="http(s) URL, or '' to stop deliveries"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Set (or clear with '') the project's webhook URL."""
    config = settings(database_url=database_url)
    value = _webhook(url, config) if url else None
    _admin(
        config,
        lambda store: projects.set_webhook(
            store, project_id, value, allow_private=config.allow_private_webhooks
        ),
        "URL",
    )
    typer.echo(f"webhook URL of {project_id}: {value or '(none)'}")


@app.command("add-key")
def add_key(
    project_id: str,
    public_key: Path = typer.Option(..., "--public-key", help="New partner public key PEM"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Add a public key for rotation; the newest two verify, older ones are retired."""
    config = settings(database_url=database_url)
    pem = _read_public_key(public_key)
    _admin(
        config,
        lambda store: projects.add_public_key(store, RsaVerifier(), SystemClock(), project_id, pem),
    )
    typer.echo(f"key added to {project_id}")


@app.command("set-settings")
def set_settings(
    project_id: str,
    auto_confirm: bool | None = typer.Option(None, "--auto-confirm/--no-auto-confirm"),
    two_step_capture: bool | None = typer.Option(None, "--two-step-capture/--no-two-step-capture"),
    partial_refunds: bool | None = typer.Option(None, "--partial-refunds/--no-partial-refunds"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Change the acquiring settings; options not given keep their value."""
    config = settings(database_url=database_url)
    given = {
        "auto_confirm": auto_confirm,
        "two_step_capture": two_step_capture,
        "partial_refunds": partial_refunds,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    project = _admin(config, lambda store: projects.update_settings(store, project_id, **changes))
    current = project.settings
    typer.echo(
        f"settings of {project_id}: auto_confirm={current.auto_confirm} "
        f"two_step_capture={current.two_step_capture} partial_refunds={current.partial_refunds}",
    )


@app.command("set-origins")
def set_origins(
    project_id: str,
    origins: list[str] | None = typer.Argument(
        None, help="Origins (https://shop.example) allowed to embed the widgets; none: default"
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Set the origins that may embed the card widgets and receive their results.

    Without origins, the default comes back: the webhook URL's origin. http:// origins are
    accepted only in sandbox mode (KASSA_SANDBOX=1).
    """
    config = settings(database_url=database_url)
    project = _admin(
        config,
        lambda store: projects.set_widget_origins(
            store, project_id, origins or [], allow_http=config.sandbox
        ),
        "ORIGIN",
    )
    shown = " ".join(project.allowed_origins) or "(none: set a webhook URL or give origins)"
    typer.echo(f"widget origins of {project_id}: {shown}")
