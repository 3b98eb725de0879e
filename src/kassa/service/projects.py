"""Project use cases shared by the CLI and the dashboard: create, keys, webhooks, settings, origins.

Each validates its input (public keys through the ``Verifier`` port, webhook URLs through the
static SSRF guard) before anything is written, and answers with the project as stored.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kassa.domain.errors import InvalidRequest, ProjectNotFound
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.origin import OriginError, check_origin
from kassa.domain.project import Project, ProjectSettings
from kassa.domain.webhook_url import WebhookUrlError, check_webhook_url

if TYPE_CHECKING:
    from kassa.service.ports import Clock, Store, Verifier

_MAX_NAME = 200
_MAX_ORIGINS = 20


def checked_webhook_url(url: str | None, *, allow_private: bool) -> str | None:
    """``url`` normalised, None for no URL (``''`` clears), or ``InvalidRequest`` naming why."""
    if not url:
        return None
    try:
        return check_webhook_url(url, allow_private=allow_private)
    except WebhookUrlError as exc:
        raise InvalidRequest(f"webhook_url: {exc}") from None


async def load_project(store: Store, project_id: str) -> Project:
    """The project, or ``ProjectNotFound``."""
    project = await store.get_project(project_id)
    if project is None:
        msg = f"no project {project_id}"
        raise ProjectNotFound(msg)
    return project


async def create_project(
    store: Store,
    keys: Verifier,
    clock: Clock,
    *,
    name: str,
    public_pem: str,
    webhook_url: str | None = None,
    settings: ProjectSettings | None = None,
    allow_private_webhooks: bool = False,
) -> Project:
    """A new project with one partner public key."""
    name = name.strip()
    if not name or len(name) > _MAX_NAME:
        msg = f"name: 1 to {_MAX_NAME} characters"
        raise InvalidRequest(msg)
    project = Project(
        id=new_id(IdPrefix.PROJECT),
        name=name,
        public_keys=(keys.check_public_key(public_pem),),
        created_at=clock.now(),
        webhook_url=checked_webhook_url(webhook_url, allow_private=allow_private_webhooks),
        settings=settings or ProjectSettings(),
    )
    await store.add_project(project)
    return project


async def set_webhook(
    store: Store, project_id: str, url: str | None, *, allow_private: bool
) -> Project:
    """Set (or with ``None``/``''`` clear) the webhook URL."""
    value = checked_webhook_url(url, allow_private=allow_private)
    if not await store.set_webhook_url(project_id, value):
        msg = f"no project {project_id}"
        raise ProjectNotFound(msg)
    return await load_project(store, project_id)


async def add_public_key(
    store: Store, keys: Verifier, clock: Clock, project_id: str, pem: str
) -> Project:
    """Rotate in a key: the newest two verify, older ones are retired."""
    checked = keys.check_public_key(pem)
    await load_project(store, project_id)
    await store.add_public_key(project_id, checked, clock.now())
    return await load_project(store, project_id)


async def update_settings(store: Store, project_id: str, **changes: bool) -> Project:
    """Change some of ``auto_confirm``, ``two_step_capture``, ``partial_refunds``."""
    project = await load_project(store, project_id)
    known = {"auto_confirm", "two_step_capture", "partial_refunds"}
    unknown = set(changes) - known
    if unknown:
        msg = f"settings: unknown {', '.join(sorted(unknown))}"
        raise InvalidRequest(msg)
    updated = replace(project, settings=replace(project.settings, **changes))
    await store.set_project_settings(updated)
    return updated


def checked_origins(origins: list[str] | tuple[str, ...], *, allow_http: bool) -> tuple[str, ...]:
    """Normalised, de-duplicated origins in the given order, or ``InvalidRequest`` naming one."""
    if len(origins) > _MAX_ORIGINS:
        msg = f"widget_origins: at most {_MAX_ORIGINS}"
        raise InvalidRequest(msg)
    found: list[str] = []
    for given in origins:
        try:
            origin = check_origin(given, allow_http=allow_http)
        except OriginError as exc:
            raise InvalidRequest(f"widget_origins: {exc}") from None
        if origin not in found:
            found.append(origin)
    return tuple(found)


async def set_widget_origins(
    store: Store, project_id: str, origins: list[str] | tuple[str, ...], *, allow_http: bool
) -> Project:
    """Set the origins allowed to embed the project's widgets; none restores the default.

    The default is the webhook URL's origin (``Project.allowed_origins``). ``allow_http``
    (sandbox mode) admits ``http://`` origins; otherwise only ``https://``.
    """
    checked = checked_origins(origins, allow_http=allow_http)
    if not await store.set_widget_origins(project_id, checked):
        msg = f"no project {project_id}"
        raise ProjectNotFound(msg)
    return await load_project(store, project_id)
