"""The card widgets: ``/widget/tokenize`` and ``/widget/pay`` (+ its result page), ``kassa.js``.

A form post is checked in this order, and each refusal is a page with a 4xx status: the public
token (404 unknown or foreign, 410 expired or used, 409 session no longer payable), the form
token (403), the per-address window (429), the per-token attempt counter (429), then the card
fields (400, each field's problem on the page; the number and CVC are never echoed back).
Only then is the card vaulted or charged. The card travels only in POST bodies; no log line
here carries more than the brand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

import structlog
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.requests import Request  # noqa: TC002 - FastAPI resolves it at run time

from kassa.domain.card_form import check_card_form
from kassa.domain.errors import InternalError, KassaError
from kassa.domain.origin import origin_of
from kassa.domain.public_token import WidgetKind
from kassa.service import public_tokens, widgets
from kassa.web.limits import AttemptWindow
from kassa.web.pages import STATIC_DIR
from kassa.web.widget_pages import (
    client_address,
    locale_of,
    origins_of,
    read_form,
    refused_page,
    widget_page,
)
from kassa.web.widget_text import amount, texts

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kassa.api.methods import Runtime
    from kassa.domain.card_form import Problem
    from kassa.domain.json import JSONObject
    from kassa.domain.public_token import AcquiringWidget
    from kassa.service.public_tokens import FoundToken, OpenWidget

log = structlog.get_logger("kassa.web")
_JS_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


def _field_errors(problems: dict[str, Problem], locale: str) -> dict[str, str]:
    words = texts(locale)
    return {name: words[f"{name}.{problem.value}"] for name, problem in problems.items()}


def _kept(form: dict[str, str]) -> dict[str, str]:
    """What a re-shown form keeps: never the card number or the CVC."""
    return {k: form[k] for k in ("expiry", "cardholder_name", "recurrent") if k in form}


def _targets(widget: AcquiringWidget) -> tuple[str, ...]:
    """form-action origins: the pay form redirects (via the result page) to the return URLs."""
    urls = (widget.success_return_url, widget.failure_return_url)
    return tuple(o for o in (origin_of(u) for u in urls if u) if o is not None)


def install(app: FastAPI, runtime: Runtime) -> None:  # noqa: C901, PLR0915 - one route each
    """Add the widget routes."""
    settings = runtime.settings
    sandbox = settings.sandbox
    per_address = AttemptWindow(settings.widget_ip_attempts, settings.widget_ip_window_seconds)

    def form_page(
        opened: OpenWidget,
        found: FoundToken | None,
        token: str,
        *,
        embed: bool,
        status: int = 200,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Response:
        locale = locale_of(found)
        widget = opened.token.acquiring
        pay = opened.session is not None and widget is not None
        money = None if opened.session is None else opened.session.draft.amount
        return widget_page(
            "widgets/pay.html" if pay else "widgets/tokenize.html",
            status,
            locale=locale,
            origins=origins_of(found, sandbox=sandbox),
            embed=embed,
            form_targets=() if widget is None else _targets(widget),
            amount="" if money is None else amount(money, locale),
            show_recurrent=widget is not None and widget.show_recurrent_checkbox,
            token=token,
            form_token=public_tokens.form_token(runtime.deps.widgets, opened.token.token_hash),
            errors=errors or {},
            values=values or {},
        )

    async def checked_post(
        request: Request, form: dict[str, str], found: FoundToken | None, kind: WidgetKind
    ) -> OpenWidget:
        """The token's widget, after the token, the form token and both attempt limits."""
        deps = runtime.deps
        opened = await public_tokens.open_widget(deps, found, kind)
        given = form.get("form_token", "")
        public_tokens.check_form_token(deps.widgets, opened.token.token_hash, given)
        per_address.take(client_address(request))
        await public_tokens.take_card_attempt(deps, opened.token)
        return opened

    async def posted(request: Request) -> tuple[dict[str, str], FoundToken | None]:
        """The posted form and the public token it names (None: no such token)."""
        form = await read_form(request)
        return form, await public_tokens.find_token(runtime.deps, form.get("public_token", ""))

    @app.get("/widget/kassa.js", tags=["widgets"], summary="The embed API (Kassa.mountTokenize…)")
    async def kassa_js() -> Response:
        return FileResponse(
            STATIC_DIR / "kassa.js", media_type="text/javascript", headers=_JS_HEADERS
        )

    @app.get("/widget/tokenize", tags=["widgets"], summary="Card tokenization widget")
    async def tokenize_page(public_token: str = "", embed: str = "") -> Response:
        found = await public_tokens.find_token(runtime.deps, public_token)
        try:
            opened = await public_tokens.open_widget(runtime.deps, found, WidgetKind.TOKENIZE)
        except KassaError as exc:
            return refused_page(exc, found, embed=embed == "1", sandbox=sandbox)
        assert found is not None  # noqa: S101 - open_widget refuses a missing token
        return form_page(opened, found, public_token, embed=embed == "1")

    @app.post("/widget/tokenize", tags=["widgets"], summary="Vault the card; hand back its hash")
    async def tokenize_post(request: Request) -> Response:
        found, embed = None, False
        try:
            form, found = await posted(request)
            embed = form.get("embed") == "1"
            opened = await checked_post(request, form, found, WidgetKind.TOKENIZE)
            today = runtime.deps.clock.now().date()
            checked = check_card_form(form, today, want_cvc=False, want_name=True)
            if checked.card is None:
                log.info("widget_card_refused", widget="tokenize", project=opened.project.id)
                return form_page(
                    opened,
                    found,
                    form["public_token"],
                    embed=embed,
                    status=400,
                    errors=_field_errors(checked.problems, locale_of(found)),
                    values=_kept(form),
                )
            card = await widgets.tokenize(runtime.deps, opened, checked.card)
        except KassaError as exc:
            return refused_page(exc, found, embed=embed, sandbox=sandbox)
        log.info("widget_tokenized", project=opened.project.id, brand=card.brand)
        locale = locale_of(found)
        words = texts(locale)
        message: JSONObject = {
            "source": "kassa",
            "type": "kassa:token",
            "number_hash": card.number_hash,
            "brand": card.brand,
            "last4": card.last4,
        }
        return widget_page(
            "widgets/result.html",
            locale=locale,
            origins=origins_of(found, sandbox=sandbox),
            embed=embed,
            message=message,
            title=words["saved_title"],
            text=words["saved"].format(brand=card.brand.title(), last4=card.last4),
            ok=True,
        )

    @app.get("/widget/pay", tags=["widgets"], summary="Acquiring widget: pay a session by card")
    async def pay_page(public_token: str = "", embed: str = "") -> Response:
        found = await public_tokens.find_token(runtime.deps, public_token)
        try:
            opened = await public_tokens.open_widget(runtime.deps, found, WidgetKind.ACQUIRING)
        except KassaError as exc:
            return refused_page(exc, found, embed=embed == "1", sandbox=sandbox)
        assert found is not None  # noqa: S101 - open_widget refuses a missing token
        return form_page(opened, found, public_token, embed=embed == "1")

    @app.post("/widget/pay", tags=["widgets"], summary="Pay the session with the card")
    async def pay_post(request: Request) -> Response:
        found, embed = None, False
        try:
            form, found = await posted(request)
            embed = form.get("embed") == "1"
            opened = await checked_post(request, form, found, WidgetKind.ACQUIRING)
            token = form["public_token"]
            today = runtime.deps.clock.now().date()
            checked = check_card_form(form, today, want_cvc=True, want_name=False)
            if checked.card is None:
                log.info("widget_card_refused", widget="pay", project=opened.project.id)
                return form_page(
                    opened,
                    found,
                    token,
                    embed=embed,
                    status=400,
                    errors=_field_errors(checked.problems, locale_of(found)),
                    values=_kept(form),
                )
            result_url = _result_url(runtime.deps.acquiring.base_url, token, embed=embed)
            session = await widgets.pay(
                runtime.deps,
                opened,
                checked.card,
                recurrent=form.get("recurrent") == "1",
                return_url=result_url,
            )
        except KassaError as exc:
            return refused_page(exc, found, embed=embed, sandbox=sandbox)
        log.info("widget_paid", project=opened.project.id, session_id=session.id)
        return RedirectResponse(result_url, status_code=303)

    @app.get("/widget/pay/result", tags=["widgets"], summary="Where the payment went")
    async def pay_result(public_token: str = "", embed: str = "") -> Response:
        framed = embed == "1"
        deps = runtime.deps
        found = await public_tokens.find_token(deps, public_token)
        try:
            opened = await public_tokens.open_widget(
                deps, found, WidgetKind.ACQUIRING, allow_used=True
            )
            if opened.session is None or opened.token.acquiring is None:
                raise InternalError("an acquiring widget without its session")
        except KassaError as exc:
            return refused_page(exc, found, embed=framed, sandbox=sandbox)
        return _result_page(opened, found, framed=framed, sandbox=sandbox)


def _result_url(base: str, token: str, *, embed: bool) -> str:
    url = f"{base}/widget/pay/result?public_token={quote(token)}"
    return url + "&embed=1" if embed else url


def _result_page(
    opened: OpenWidget, found: FoundToken | None, *, framed: bool, sandbox: bool
) -> Response:
    """Redirect to the 3DS page or the merchant's URL, or show the outcome (embedded: tell it)."""
    session, widget = opened.session, opened.token.acquiring
    assert session is not None  # noqa: S101 - checked by the caller
    assert widget is not None  # noqa: S101 - checked by the caller
    result = widgets.outcome(session, widget)
    if result.outcome is widgets.Outcome.ACTION and result.action_url:
        return RedirectResponse(result.action_url, status_code=303)
    target = {
        widgets.Outcome.SUCCESS: widget.success_return_url,
        widgets.Outcome.FAILURE: widget.failure_return_url,
    }.get(result.outcome)
    if target and not framed and urlsplit(target).scheme in {"http", "https"}:
        return RedirectResponse(target, status_code=303)
    locale = locale_of(found)
    words = texts(locale)
    key = {
        widgets.Outcome.SUCCESS: "success",
        widgets.Outcome.FAILURE: "failure",
        widgets.Outcome.WAITING: "waiting",
        widgets.Outcome.ACTION: "action",
    }[result.outcome]
    message: JSONObject = {
        "source": "kassa",
        "type": "kassa:result",
        "status": result.outcome.value,
        "session_id": session.id,
    }
    if target:
        message["redirect_url"] = target
    waiting = result.outcome is widgets.Outcome.WAITING
    return widget_page(
        "widgets/result.html",
        locale=locale,
        origins=origins_of(found, sandbox=sandbox),
        embed=framed,
        message=None if waiting else message,
        title=words[f"{key}_title"],
        text=words[key],
        ok=result.outcome is widgets.Outcome.SUCCESS,
        failed=result.outcome is widgets.Outcome.FAILURE,
        refresh=waiting,
        continue_url=target,
        action_url=result.action_url,
    )
