"""The sandbox 3DS page: ``GET /3ds/{payment_id}?token=…`` shows Pass / Fail, the form posts back.

Plain HTML, no scripts; every value is escaped. The token in the link is the payment's own
secret, so a guessed payment id shows nothing. After the answer the customer is sent to the
payment's ``return_url`` (http/https only), else shown the outcome.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.requests import Request  # noqa: TC002 - FastAPI resolves it at run time

from kassa.domain.errors import KassaError
from kassa.service.commands import ThreeDsAnswer
from kassa.service.retry import retry_on_conflict
from kassa.service.three_ds import answer_three_ds, three_ds_page

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kassa.api.methods import Runtime

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}"
    "button{font-size:1.1rem;padding:.5rem 1.5rem;margin-right:1rem}"
)
_MAX_FORM = 4096


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; "
            "style-src 'unsafe-inline'; form-action 'self' http: https:",
        },
    )


def _not_found() -> HTMLResponse:
    return _page("3-D Secure", "<p>This challenge does not exist.</p>", 404)


def install(app: FastAPI, runtime: Runtime) -> None:
    """Add the 3DS page routes."""

    @app.get("/3ds/{payment_id}", tags=["sandbox"], summary="Sandbox 3DS challenge page")
    async def show(payment_id: str, token: str = "") -> Response:
        try:
            page = await three_ds_page(runtime.deps, payment_id, token)
        except KassaError:
            return _not_found()
        payment = page.payment
        amount = f"{payment.amount.minor} {payment.amount.currency.upper()} (minor units)"
        card = payment.instrument.card
        masked = "" if card is None else f"{card.brand} •••• {card.last4}"
        facts = (
            f"<p>Payment <code>{html.escape(payment.id)}</code>: {html.escape(amount)}</p>"
            f"<p>Card: {html.escape(masked)}</p>"
        )
        if not page.open:
            return _page("3-D Secure", f"{facts}<p>This challenge is already answered.</p>")
        action = html.escape(f"/3ds/{payment.id}")
        form = (
            f"<form method='post' action='{action}'>"
            f"<input type='hidden' name='token' value='{html.escape(token)}'>"
            "<button type='submit' name='result' value='pass'>Pass</button>"
            "<button type='submit' name='result' value='fail'>Fail</button></form>"
        )
        return _page("3-D Secure", facts + form)

    @app.post("/3ds/{payment_id}", tags=["sandbox"], summary="Answer the sandbox 3DS challenge")
    async def answer(payment_id: str, request: Request) -> Response:
        raw = await request.body()
        form = parse_qs(raw[:_MAX_FORM].decode("utf-8", "replace"))
        token = form.get("token", [""])[0]
        result = form.get("result", [""])[0]
        if result not in {"pass", "fail"}:
            return _page("3-D Secure", "<p>Choose Pass or Fail.</p>", 400)
        cmd = ThreeDsAnswer(payment_id, token, passed=result == "pass")
        try:
            payment = await retry_on_conflict(lambda: answer_three_ds(runtime.deps, cmd))
        except KassaError as exc:
            if exc.code == "session_not_found":
                return _not_found()
            return _page("3-D Secure", f"<p>{html.escape(exc.description)}</p>", 409)
        target = payment.return_url
        if target and urlsplit(target).scheme in {"http", "https"}:
            return RedirectResponse(target, status_code=303)
        outcome = "passed" if result == "pass" else "failed"
        return _page("3-D Secure", f"<p>Authentication {outcome}. You may close this page.</p>")
