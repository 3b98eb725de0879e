"""``/dashboard``: the operator's pages (log-in, overview, sessions, projects, audit log).

Every page but the login page needs a live log-in (else a redirect to it). Actions are in
``dashboard_actions.py``; shared rendering, cookies and form tokens in ``dashboard_view.py``.
"""

from __future__ import annotations

import csv
import io
import secrets
from typing import TYPE_CHECKING

from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.requests import Request  # noqa: TC002 - FastAPI resolves it at run time

from kassa.domain.errors import AuthenticationError, KassaError
from kassa.service import admin as admin_service
from kassa.service import projects as project_service
from kassa.service.dashboard import key_fingerprint
from kassa.web import dashboard_actions
from kassa.web.dashboard_model import (
    KINDS,
    STATUSES,
    csv_cell,
    cursor_text,
    kinds_of,
    last4_of,
    list_query,
    masked,
    parse_cursor,
    parse_filter,
    postings_by_operation,
    reference_of,
    timeline,
)
from kassa.web.dashboard_overview import overview
from kassa.web.dashboard_view import (
    COOKIE,
    LOGIN_COOKIE,
    PREFIX,
    Dashboard,
    set_cookie,
    to_login,
)
from kassa.web.limits import AttemptWindow
from kassa.web.widget_pages import client_address

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from kassa.api.methods import Runtime
    from kassa.service.ports.dashboard import DashboardReads, SessionFilter

PAGE = 50
EXPORT_PAGE = 1000
_CSV_HEAD = (
    "session_id,project_id,status,created_at,amount,currency,operations,last4,"
    "customer_reference,payment_id"
)


async def csv_export(
    reads: DashboardReads, where: SessionFilter, page_size: int = EXPORT_PAGE
) -> AsyncIterator[str]:
    """The CSV of every session ``where`` selects: the header, then one chunk per keyset page.

    At most ``page_size`` sessions are read (and held) at a time, however many match.
    """
    yield _CSV_HEAD + "\r\n"
    after = None
    while True:
        page = await reads.list_sessions(where, after, page_size)
        out = io.StringIO()
        writer = csv.writer(out)
        for s in page:
            money = s.draft.amount or (s.payment.amount if s.payment else None)
            writer.writerow(
                [
                    csv_cell(v)
                    for v in (
                        s.id,
                        s.project_id,
                        s.status.value,
                        s.created_at.isoformat(),
                        None if money is None else money.minor,
                        None if money is None else money.currency,
                        " ".join(kinds_of(s)),
                        last4_of(s),
                        reference_of(s),
                        None if s.payment is None else s.payment.id,
                    )
                ]
            )
        if page:
            yield out.getvalue()
        if len(page) < page_size:
            return
        after = parse_cursor(cursor_text(page[-1]))


def _next_url(target: str) -> str:
    """Only a dashboard path may be the page after the log-in (no open redirect)."""
    ok = target.startswith(PREFIX) and not target.startswith("//") and "\\" not in target
    return target if ok else PREFIX


def install(app: FastAPI, runtime: Runtime) -> None:  # noqa: C901, PLR0915 - one route each
    """Add the dashboard's routes."""
    settings = runtime.settings
    ctx = Dashboard(
        runtime,
        AttemptWindow(settings.dashboard_login_attempts, settings.dashboard_login_window_seconds),
    )

    @app.get(PREFIX + "/login", include_in_schema=False)
    async def login_page(request: Request, next: str = PREFIX) -> Response:  # noqa: A002
        binding = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
        token = admin_service.form_token(ctx.form_key, "login:" + binding)
        page = ctx.page("login.html", None, next=_next_url(next), login_csrf=token)
        set_cookie(page, LOGIN_COOKIE, binding, secure=ctx.secure(request), path=PREFIX)
        return page

    @app.post(PREFIX + "/login", include_in_schema=False)
    async def login_post(request: Request) -> Response:
        address = client_address(request)
        if ctx.logins.blocked(address):
            window = int(settings.dashboard_login_window_seconds // 60)
            text = f"Too many failed log-ins from this address. Try again in {window} minutes."
            return ctx.refused(None, 429, "Too many attempts", text)
        form = await request.form()
        binding = request.cookies.get(LOGIN_COOKIE, "")
        try:
            admin_service.check_form_token(
                ctx.form_key, "login:" + binding if binding else "", str(form.get("csrf", ""))
            )
        except AuthenticationError as exc:
            return ctx.refused(None, 403, "Form refused", str(exc))
        try:
            done = await admin_service.log_in(
                ctx.admin, ctx.deps.clock, str(form.get("password", "")), address, ctx.idle
            )
        except AuthenticationError:
            ctx.logins.note(address)
            token = admin_service.form_token(ctx.form_key, "login:" + binding)
            return ctx.page(
                "login.html",
                None,
                401,
                next=_next_url(str(form.get("next", PREFIX))),
                login_csrf=token,
                failed=True,
            )
        response = RedirectResponse(_next_url(str(form.get("next", PREFIX))), status_code=303)
        set_cookie(response, COOKIE, done.token, secure=ctx.secure(request), path=PREFIX)
        response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
        return response

    @app.post(PREFIX + "/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        who = await ctx.who(request)
        if who is None:
            return to_login(request)
        form = await request.form()
        try:
            admin_service.check_form_token(ctx.form_key, who.token_hash, str(form.get("csrf", "")))
        except AuthenticationError as exc:
            return ctx.refused(who, 403, "Form refused", str(exc))
        await admin_service.log_out(ctx.admin, request.cookies.get(COOKIE, ""))
        response = RedirectResponse(PREFIX + "/login", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    @app.get(PREFIX, include_in_schema=False)
    async def overview_page(request: Request) -> Response:
        who = await ctx.who(request)
        if who is None:
            return to_login(request)
        return ctx.page("overview.html", who, **(await overview(ctx)))

    @app.get(PREFIX + "/sessions", include_in_schema=False)
    async def sessions_page(request: Request) -> Response:
        who = await ctx.who(request)
        if who is None:
            return to_login(request)
        query = dict(request.query_params)
        found = await ctx.reads.list_sessions(
            parse_filter(query), parse_cursor(query.get("after", "")), PAGE + 1
        )
        shown = found[:PAGE]
        more = list_query(query, after=cursor_text(shown[-1])) if len(found) > PAGE else ""
        return ctx.page(
            "sessions.html",
            who,
            sessions=shown,
            query=query,
            more=more,
            export=list_query(query),
            statuses=STATUSES,
            kinds=KINDS,
            masked=masked,
            projects=await ctx.deps.store.list_projects(),
        )

    @app.get(PREFIX + "/sessions.csv", include_in_schema=False)
    async def sessions_csv(request: Request) -> Response:
        who = await ctx.who(request)
        if who is None:
            return to_login(request)
        where = parse_filter(dict(request.query_params))
        return StreamingResponse(
            csv_export(ctx.reads, where),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="kassa-sessions.csv"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @app.get(PREFIX + "/sessions/{any_id}", include_in_schema=False)
    async def session_page(request: Request, any_id: str) -> Response:
        who = await ctx.who(request)
        if who is None:
            return to_login(request)
        session = await ctx.reads.session_by_any_id(any_id)
        if session is None:
            return ctx.refused(who, 404, "Not found", f"No session or operation {any_id}.")
        deliveries = await ctx.reads.deliveries_of_session(session.id)
        postings = await ctx.reads.postings_of_session(session.id)
        return ctx.page(
            "session.html",
            who,
            session=session,
            events=timeline(session, deliveries),
            deliveries=deliveries,
            postings=postings_by_operation(postings),
            masked=masked,
            done=request.query_params.get("done", ""),
        )

    @app.get(PREFIX + "/projects", include_in_schema=False)
    async def projects_page(request: Request) -> Response:
        who = await ctx.who(request)
        if who is None:
            return to_login(request)
        return ctx.page(
            "projects.html",
            who,
            projects=await ctx.deps.store.list_projects(),
            done=request.query_params.get("done", ""),
        )

    @app.get(PREFIX + "/projects/{project_id}", include_in_schema=False)
    async def project_page(request: Request, project_id: str) -> Response:
        who = await ctx.who(request)
        if who is None:
            return to_login(request)
        try:
            project = await project_service.load_project(ctx.deps.store, project_id)
        except KassaError:
            return ctx.refused(who, 404, "Not found", f"No project {project_id}.")
        balances = [b for b in await ctx.reads.balances() if b.project_id == project_id]
        return ctx.page(
            "project.html",
            who,
            project=project,
            fingerprints=[key_fingerprint(k) for k in project.public_keys],
            balances=balances,
            done=request.query_params.get("done", ""),
            data_dir=str(settings.data_dir),
        )

    @app.get(PREFIX + "/audit", include_in_schema=False)
    async def audit_page(request: Request, before: int | None = None) -> Response:
        who = await ctx.who(request)
        if who is None:
            return to_login(request)
        entries = await ctx.admin.audit_entries(101, before)
        return ctx.page(
            "audit.html",
            who,
            entries=entries[:100],
            older=entries[99].id if len(entries) > 100 else None,  # noqa: PLR2004
        )

    dashboard_actions.install(app, ctx)
