"""Rendering the widget pages: security headers per project, the form, refusals, results.

Every widget page is rendered by ``pages.render`` (nonce CSP, ``Cache-Control: no-store``,
nosniff, no referrer) with ``frame-ancestors`` set to the project's allowed origins. A page
that hands something to the embedding page (a card's ``number_hash``, a payment's outcome,
a refusal) carries it in ``data-`` attributes; ``static/widget.js`` posts it to each allowed
origin (``postMessage`` delivers only to the one that matches the parent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson

from kassa.api.errors import status_of
from kassa.domain.errors import BodyTooLarge, KassaError
from kassa.domain.public_token import DEFAULT_LOCALE
from kassa.web.pages import render
from kassa.web.widget_text import refusal, texts

if TYPE_CHECKING:
    from collections.abc import Iterable

    from starlette.requests import Request
    from starlette.responses import HTMLResponse

    from kassa.domain.json import JSONObject
    from kassa.service.public_tokens import FoundToken

MAX_FORM = 8192  # a card form is a few hundred bytes
ANY_ORIGIN = "*"
SELF = "'self'"


def locale_of(found: FoundToken | None) -> str:
    """The locale the merchant chose for the token's widget."""
    if found is None:
        return DEFAULT_LOCALE
    widget = found.token.acquiring or found.token.tokenize
    return DEFAULT_LOCALE if widget is None else widget.locale


def origins_of(found: FoundToken | None, *, sandbox: bool) -> tuple[str, ...]:
    """Who may frame the page and get its messages: the project's origins (+ kassa in sandbox).

    In sandbox mode kassa's own origin is added, so its ``/demo`` page can embed the widgets.
    """
    own = (SELF,) if sandbox else ()
    return own if found is None else (*found.project.allowed_origins, *own)


def message_origins(origins: Iterable[str]) -> list[str]:
    """The ``postMessage`` targets: the frame-ancestor sources (widget.js reads 'self')."""
    return [o for o in origins if o.startswith(("http://", "https://")) or o in {ANY_ORIGIN, SELF}]


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded form (first value of each field), refusing bodies over ``MAX_FORM``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM:
            msg = f"form over {MAX_FORM} bytes"
            raise BodyTooLarge(msg)
        chunks.append(chunk)
    parsed = parse_qs(b"".join(chunks).decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def client_address(request: Request) -> str:
    """The peer address (behind a proxy: the proxy's, see docs/widgets.md)."""
    return request.client.host if request.client is not None else "unknown"


def widget_page(
    template: str,
    status: int = 200,
    *,
    locale: str,
    origins: tuple[str, ...],
    embed: bool,
    message: JSONObject | None = None,
    form_targets: Iterable[str] = (),
    **context: Any,  # noqa: ANN401 - template data
) -> HTMLResponse:
    """A widget page in ``locale``, frameable by ``origins``, handing ``message`` to its parent."""
    words = texts(locale)
    field_messages = {key: text for key, text in words.items() if "." in key}
    return render(
        template,
        status,
        frame_ancestors=origins,
        form_targets=form_targets,
        lang=locale,
        t=words,
        embed=embed,
        messages_json=orjson.dumps(field_messages).decode(),
        message_json=orjson.dumps(message).decode() if message is not None else "",
        origins_json=orjson.dumps(message_origins(origins)).decode(),
        **context,
    )


def refused_page(
    error: KassaError, found: FoundToken | None, *, embed: bool, sandbox: bool
) -> HTMLResponse:
    """A clear page (HTTP 4xx) for a token or form that cannot be used; never a trace.

    A token nobody issued has no project, so its page may be framed by anyone and tells any
    parent only that: ``public_token_not_found``.
    """
    locale = locale_of(found)
    status = status_of(error)
    code = "internal_error" if status >= 500 else error.code  # noqa: PLR2004
    origins = origins_of(found, sandbox=sandbox) if found is not None else (ANY_ORIGIN,)
    words = texts(locale)
    text = refusal(code, locale)
    return widget_page(
        "widgets/refused.html",
        status,
        locale=locale,
        origins=origins,
        embed=embed,
        message={"source": "kassa", "type": "kassa:error", "code": code, "message": text},
        title=words["refused_title"],
        text=text,
    )
