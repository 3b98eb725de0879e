"""The sandbox 3DS page: ``GET /3ds/{payment_id}?token=…`` shows Pass / Fail, the form posts back.

No scripts; every value is escaped by the template. The token in the link is the payment's own
secret, so a guessed payment id shows nothing. After the answer the customer is sent to the
payment's ``return_url`` (http/https only), else shown the outcome. The project's widget
origins may frame the page (the acquiring widget runs 3DS inside its frame).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from fastapi.responses import RedirectResponse, Response
from starlette.requests import Request  # noqa: TC002 - FastAPI resolves it at run time

from kassa.domain.errors import KassaError
from kassa.service.commands import ThreeDsAnswer
from kassa.service.three_ds import answer_three_ds, three_ds_page
from kassa.service.widgets import frame_origins_of_payment
from kassa.web.pages import render

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.responses import HTMLResponse

    from kassa.api.methods import Runtime

_MAX_FORM = 4096
_FORMS = ("http:", "https:")  # the answer redirects to the merchant's return_url


def _page(
    status: int = 200,
    frame_ancestors: tuple[str, ...] = (),
    **context: Any,  # noqa: ANN401 - template data
) -> HTMLResponse:
    return render(
        "three_ds.html", status, form_targets=_FORMS, frame_ancestors=frame_ancestors, **context
    )


def install(app: FastAPI, runtime: Runtime) -> None:
    """Add the 3DS page routes."""

    async def _framers(payment_id: str) -> tuple[str, ...]:
        origins = await frame_origins_of_payment(runtime.deps, payment_id)
        return (*origins, "'self'") if runtime.settings.sandbox else origins

    @app.get("/3ds/{payment_id}", tags=["sandbox"], summary="Sandbox 3DS challenge page")
    async def show(payment_id: str, token: str = "") -> Response:
        try:
            page = await three_ds_page(runtime.deps, payment_id, token)
        except KassaError:
            return _page(404, message="This challenge does not exist.")
        payment = page.payment
        card = payment.card
        return _page(
            frame_ancestors=await _framers(payment.id),
            payment=payment,
            amount=f"{payment.amount.minor} {payment.amount.currency.upper()} (minor units)",
            masked="" if card is None else f"{card.brand} •••• {card.last4}",
            open=page.open,
            message=None if page.open else "This challenge is already answered.",
            action=f"/3ds/{payment.id}",
            token=token,
        )

    @app.post("/3ds/{payment_id}", tags=["sandbox"], summary="Answer the sandbox 3DS challenge")
    async def answer(payment_id: str, request: Request) -> Response:
        raw = await request.body()
        form = parse_qs(raw[:_MAX_FORM].decode("utf-8", "replace"))
        token = form.get("token", [""])[0]
        result = form.get("result", [""])[0]
        if result not in {"pass", "fail"}:
            return _page(400, await _framers(payment_id), message="Choose Pass or Fail.")
        cmd = ThreeDsAnswer(payment_id, token, passed=result == "pass")
        try:
            payment = await answer_three_ds(runtime.deps, cmd)
        except KassaError as exc:
            if exc.code == "session_not_found":
                return _page(404, message="This challenge does not exist.")
            return _page(409, await _framers(payment_id), message=exc.description)
        target = payment.return_url
        if target and urlsplit(target).scheme in {"http", "https"}:
            return RedirectResponse(target, status_code=303)
        outcome = "passed" if result == "pass" else "failed"
        return _page(
            frame_ancestors=await _framers(payment_id),
            message=f"Authentication {outcome}. You may close this page.",
        )
