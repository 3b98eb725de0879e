"""``POST /dashboard/act/{action}``: every change the dashboard makes, confirmed and audited.

A form posts its fields with the page's form token. The first post (the token checked, nothing
changed) answers a confirmation page repeating the fields with a new token; only its post with
``confirmed=yes`` acts, once: its token's nonce is recorded, and a second post of the same
form answers 409 without acting again. Each action calls the service code the API and CLI use
(``service/dashboard.py``) and leaves an audit row; a refusal shows the API's status and code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.requests import Request  # noqa: TC002 - FastAPI resolves it at run time

from kassa.domain.errors import AuthenticationError, InvalidRequest, KassaError
from kassa.domain.money import Money
from kassa.service import admin as admin_service
from kassa.service import dashboard as actions
from kassa.service import projects
from kassa.web.dashboard_view import PREFIX, to_login

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from fastapi import FastAPI

    from kassa.domain.project import Project
    from kassa.service.dashboard import Actor
    from kassa.web.dashboard_view import Dashboard

Values = dict[str, str]
MAX_KEY = 16_384
_SETTINGS = ("auto_confirm", "two_step_capture", "partial_refunds")


@dataclass(frozen=True, slots=True)
class Action:
    """One action: its title, its fields, and what it does (→ the page to show after)."""

    title: str
    fields: tuple[str, ...]
    run: Callable[[Dashboard, Actor, Values], Awaitable[str]]


def _minor(text: str, field: str = "amount") -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        msg = f"{field}: a whole number of minor units (1000 = 10.00 USD)"
        raise InvalidRequest(msg)
    return int(text)


def _session_url(session_id: str, done: str) -> str:
    return f"{PREFIX}/sessions/{quote(session_id)}?done={quote(done)}"


def _project_url(project_id: str, done: str) -> str:
    return f"{PREFIX}/projects/{quote(project_id)}?done={quote(done)}"


def _session_action(name: str) -> Callable[[Dashboard, Actor, Values], Awaitable[str]]:
    async def run(ctx: Dashboard, actor: Actor, v: Values) -> str:
        amount = None
        minor = _minor(v.get("amount", ""))
        if minor is not None:
            session = await actions.session_of(ctx.deps, v["project_id"], v["session_id"])
            payment = session.require_payment(f"session/{name}")
            amount = Money(minor, payment.amount.currency)
        after = await actions.act_on_session(
            ctx.deps, actor, name, v["project_id"], v["session_id"], amount
        )
        return _session_url(v["session_id"], f"{name}: session is {after['status']}")

    return run


async def _replay(ctx: Dashboard, actor: Actor, v: Values) -> str:
    delivery_id = _minor(v.get("delivery_id", ""), "delivery_id")
    if delivery_id is None:
        msg = "delivery_id: required"
        raise InvalidRequest(msg)
    new = await actions.replay(ctx.deps, actor, v["project_id"], delivery_id)
    found = await ctx.reads.deliveries.get_delivery(new)
    session_id = "" if found is None else found.session_id
    return _session_url(session_id, f"webhook #{delivery_id} queued again as #{new}")


async def _topup(ctx: Dashboard, actor: Actor, v: Values) -> str:
    minor = _minor(v.get("amount", ""))
    if minor is None:
        msg = "amount: required"
        raise InvalidRequest(msg)
    amount = Money(minor, v.get("currency", "").strip())
    after = await actions.topup(ctx.deps, actor, v["project_id"], amount)
    balance = after["balances"].get(amount.currency, 0)
    return _project_url(v["project_id"], f"wallet {amount.currency}: {balance} minor units")


async def _create(ctx: Dashboard, actor: Actor, v: Values) -> str:
    project = await actions.create_project(
        ctx.deps, actor, v.get("name", ""), v.get("public_key_pem", ""), v.get("webhook_url")
    )
    return _project_url(project.id, f"project {project.id} created")


def _project_change(name: str) -> Callable[[Dashboard, Actor, Values], Awaitable[str]]:
    async def run(ctx: Dashboard, actor: Actor, v: Values) -> str:
        deps, pid = ctx.deps, v["project_id"]
        sandbox = deps.acquiring.sandbox

        async def change() -> Project:
            if name == "add_key":
                pem = v.get("public_key_pem", "")
                return await projects.add_public_key(
                    deps.store, deps.verifier, deps.clock, pid, pem
                )
            if name == "webhook":
                url = v.get("webhook_url", "").strip() or None
                return await projects.set_webhook(deps.store, pid, url, allow_private=sandbox)
            if name == "origins":
                listed = [o.strip() for o in v.get("origins", "").splitlines() if o.strip()]
                return await projects.set_widget_origins(
                    deps.store, pid, listed, allow_http=sandbox
                )
            flags = {k: v.get(k) == "1" for k in _SETTINGS}
            return await projects.update_settings(deps.store, pid, **flags)

        await actions.change_project(deps, actor, name, pid, change)
        return _project_url(pid, f"{name}: saved")

    return run


ACTIONS: dict[str, Action] = {
    "confirm": Action(
        "Confirm the session", ("project_id", "session_id"), _session_action("confirm")
    ),
    "cancel": Action("Cancel the session", ("project_id", "session_id"), _session_action("cancel")),
    "capture": Action(
        "Capture the payment", ("project_id", "session_id", "amount"), _session_action("capture")
    ),
    "refund": Action(
        "Refund the payment", ("project_id", "session_id", "amount"), _session_action("refund")
    ),
    "replay": Action("Send the webhook again", ("project_id", "delivery_id"), _replay),
    "topup": Action("Top up the payout wallet", ("project_id", "amount", "currency"), _topup),
    "create_project": Action(
        "Create a project", ("name", "webhook_url", "public_key_pem"), _create
    ),
    "add_key": Action(
        "Add (rotate in) a public key", ("project_id", "public_key_pem"), _project_change("add_key")
    ),
    "webhook": Action(
        "Set the webhook URL", ("project_id", "webhook_url"), _project_change("webhook")
    ),
    "origins": Action(
        "Set the allowed widget origins", ("project_id", "origins"), _project_change("origins")
    ),
    "settings": Action(
        "Change the settings", ("project_id", *_SETTINGS), _project_change("settings")
    ),
}


async def _values(action: Action, form: object, *, first: bool) -> Values:
    """The action's fields from the form; a key file upload becomes ``public_key_pem``."""
    from starlette.datastructures import FormData  # noqa: PLC0415

    assert isinstance(form, FormData)  # noqa: S101
    values: Values = {}
    for name in action.fields:
        raw = form.get(name)
        values[name] = raw if isinstance(raw, str) else ""
    upload = form.get("key_file")
    if "public_key_pem" in action.fields and isinstance(upload, UploadFile):
        data = await upload.read(MAX_KEY + 1)
        if data.strip():
            values["public_key_pem"] = data[:MAX_KEY].decode("ascii", "replace")
    if first and action.fields[-1] in _SETTINGS:  # checkboxes → explicit 1/0 for the confirm
        values.update({k: "1" if form.get(k) in {"on", "1"} else "0" for k in _SETTINGS})
    return values


def install(app: FastAPI, ctx: Dashboard) -> None:
    """Add ``POST /dashboard/act/{action}``."""

    @app.post(PREFIX + "/act/{name}", include_in_schema=False)
    async def act(request: Request, name: str) -> Response:  # noqa: PLR0911 - one per outcome
        who = await ctx.who(request)
        if who is None:
            return to_login(request)
        async with request.form(max_files=1, max_fields=20) as form:
            given = form.get("csrf")
            try:
                nonce = admin_service.check_form_token(
                    ctx.form_key, who.token_hash, given if isinstance(given, str) else ""
                )
            except AuthenticationError as exc:
                return ctx.refused(who, 403, "Form refused", str(exc))
            action = ACTIONS.get(name)
            if action is None:
                return ctx.refused(who, 404, "Not found", f"No action {name}.")
            confirmed = form.get("confirmed") == "yes"
            values = await _values(action, form, first=not confirmed)
        if not confirmed:
            return ctx.page("confirm.html", who, action=action, name=name, values=values)
        if not await ctx.admin.use_form(nonce, ctx.deps.clock.now()):
            text = "This form was already submitted and acted once; nothing was done again."
            return ctx.refused(who, 409, "Already done", text)
        try:
            target = await action.run(ctx, ctx.actor(request, who), values)
        except KassaError as exc:
            return ctx.error(who, exc)
        return RedirectResponse(target, status_code=303)
