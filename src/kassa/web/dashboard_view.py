"""What every dashboard page shares: the log-in check, cookies, form tokens, rendering.

Pages are server-rendered by ``pages.render`` (nonce CSP with no inline script or style,
``no-store``, nosniff, no referrer, never framed). The log-in cookie is HttpOnly,
SameSite=Strict, path ``/dashboard`` and Secure on HTTPS (``X-Forwarded-Proto: https`` counts
only with ``KASSA_TRUST_FORWARDED_PROTO``). A request without a live log-in is sent to the
login page; a form without its token is refused with 403 before anything is read from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi.responses import RedirectResponse, Response

from kassa.api.errors import status_of
from kassa.domain.money import EXPONENTS
from kassa.service import admin as admin_service
from kassa.service.dashboard import Actor, LedgerCheckCache, admin_of, reads_of
from kassa.web.pages import render
from kassa.web.widget_pages import client_address

if TYPE_CHECKING:
    from starlette.requests import Request

    from kassa.api.methods import Runtime
    from kassa.domain.errors import KassaError
    from kassa.service.deps import Deps
    from kassa.service.ports.dashboard import AdminSession, AdminStore, DashboardReads
    from kassa.web.limits import AttemptWindow

PREFIX = "/dashboard"
COOKIE = "kassa_admin"
LOGIN_COOKIE = "kassa_login"


def money(minor: int, currency: str) -> str:
    """``12.34 USD`` (exact: Decimal, the currency's own exponent)."""
    exponent = EXPONENTS.get(currency.upper(), 2)
    value = Decimal(minor).scaleb(-exponent)
    return f"{value:,.{exponent}f} {currency.upper()}"


def when(moment: datetime | None) -> str:
    """``2026-12-02 03:04:05 UTC`` (or a dash)."""
    return "—" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(slots=True)
class Dashboard:
    """The dashboard's shared state inside one app."""

    runtime: Runtime
    logins: AttemptWindow
    ledger: LedgerCheckCache = field(default_factory=LedgerCheckCache)

    @property
    def deps(self) -> Deps:
        """The running app's dependencies."""
        return self.runtime.deps

    @property
    def admin(self) -> AdminStore:
        """Log-ins, form tokens and audit log."""
        return admin_of(self.deps)

    @property
    def reads(self) -> DashboardReads:
        """The read side."""
        return reads_of(self.deps)

    @property
    def idle(self) -> timedelta:
        """How long an idle log-in lives."""
        return timedelta(seconds=self.runtime.settings.dashboard_idle_seconds)

    @property
    def form_key(self) -> bytes:
        """The form-token key of this deployment."""
        return admin_service.form_key(self.deps.widgets.form_key)

    def secure(self, request: Request) -> bool:
        """Whether the request came over HTTPS (a trusted proxy's header counts)."""
        if request.url.scheme == "https":
            return True
        forwarded = request.headers.get("x-forwarded-proto", "").lower()
        return self.runtime.settings.trust_forwarded_proto and forwarded == "https"

    async def who(self, request: Request) -> AdminSession | None:
        """The live log-in of the request's cookie, or None."""
        token = request.cookies.get(COOKIE, "")
        return await admin_service.current(self.admin, self.deps.clock, token, self.idle)

    def actor(self, request: Request, session: AdminSession) -> Actor:
        """Who acts, for the audit log."""
        return Actor(session.username, client_address(request))

    def page(
        self,
        template: str,
        who: AdminSession | None,
        status: int = 200,
        **context: Any,  # noqa: ANN401 - template data
    ) -> Response:
        """A dashboard page; each call gets a fresh form token bound to the log-in."""
        token = "" if who is None else admin_service.form_token(self.form_key, who.token_hash)
        return render(
            f"dashboard/{template}",
            status,
            csrf=token,
            user=None if who is None else who.username,
            prefix=PREFIX,
            money=money,
            when=when,
            **context,
        )

    def refused(self, session: AdminSession | None, status: int, title: str, text: str) -> Response:
        """A clear error page with ``status``."""
        return self.page("message.html", session, status, title=title, text=text, ok=False)

    def error(self, session: AdminSession | None, exc: KassaError) -> Response:
        """A refused action: the API's status, code and description."""
        status = status_of(exc)
        text = "internal error" if status >= 500 else f"{exc.code}: {exc}"  # noqa: PLR2004
        return self.refused(session, status, "Not done", text)


def to_login(request: Request) -> Response:
    """Redirect to the login page, coming back here afterwards."""
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{PREFIX}/login?next={quote(back)}", status_code=303)


def set_cookie(response: Response, name: str, value: str, *, secure: bool, path: str) -> None:
    """An HttpOnly, SameSite=Strict session cookie."""
    response.set_cookie(
        name, value, httponly=True, samesite="strict", secure=secure, path=path, max_age=None
    )
