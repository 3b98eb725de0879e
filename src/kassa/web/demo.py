"""``/demo`` (sandbox only): a merchant page that embeds both widgets with ``kassa.js``.

Each visit creates a session and two public tokens on the server side (as a merchant's backend
would) and mounts the payment and tokenization widgets; ``static/demo.js`` shows what the
callbacks receive. ``?project_id=`` picks the project (default: the one named ``demo``),
``?locale=ru`` the widgets' language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi.responses import Response  # noqa: TC002 - FastAPI reads the return type at run time

from kassa.domain.errors import KassaError
from kassa.domain.public_token import DEFAULT_LOCALE, LOCALES
from kassa.service.widget_demo import demo_checkout
from kassa.web.pages import render
from kassa.web.widget_text import amount

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kassa.api.methods import Runtime


def install(app: FastAPI, runtime: Runtime) -> None:
    """Add ``/demo``."""

    @app.get("/demo", tags=["sandbox"], summary="Demo shop embedding both widgets (sandbox only)")
    async def demo(project_id: str = "", locale: str = DEFAULT_LOCALE) -> Response:
        if not runtime.settings.sandbox:
            return render("demo.html", 404, message="The demo shop exists only in sandbox mode.")
        chosen = locale if locale in LOCALES else DEFAULT_LOCALE
        try:
            checkout = await demo_checkout(runtime.deps, project_id, chosen)
        except KassaError as exc:
            return render("demo.html", 404, message=exc.description)
        return render(
            "demo.html",
            frame_src=("'self'",),
            checkout=checkout,
            amount=amount(checkout.amount, chosen),
            locale=chosen,
        )
