"""Render a template as an HTML response with kassa's security headers."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

if TYPE_CHECKING:
    from collections.abc import Iterable

STATIC_DIR = Path(__file__).with_name("static")
STATIC_PREFIX = "/static"

_env = Environment(
    loader=PackageLoader("kassa.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def static_files() -> StaticFiles:
    """The ``/static`` mount: the stylesheet and scripts (no directory listing)."""
    return StaticFiles(directory=STATIC_DIR)


def content_security_policy(
    nonce: str,
    *,
    frame_ancestors: Iterable[str] = (),
    form_targets: Iterable[str] = (),
    connect: bool = False,
    frame_src: Iterable[str] = (),
) -> str:
    """A strict CSP: only kassa's own styles, scripts with this response's nonce.

    ``frame_ancestors`` lists the origins allowed to embed the page (none by default);
    ``form_targets`` extra form-action targets (the 3DS page posts back, then redirects);
    ``frame_src`` the origins the page may itself frame (the demo page frames the widgets).
    """
    ancestors = " ".join(frame_ancestors) or "'none'"
    forms = " ".join(["'self'", *form_targets])
    parts = [
        "default-src 'none'",
        f"script-src 'nonce-{nonce}'",
        "style-src 'self'",
        "img-src 'self' data:",
        f"form-action {forms}",
        f"frame-ancestors {ancestors}",
        "base-uri 'none'",
    ]
    if connect:
        parts.append("connect-src 'self'")
    frames = " ".join(frame_src)
    if frames:
        parts.append(f"frame-src {frames}")
    return "; ".join(parts)


def render(
    template: str,
    status: int = 200,
    *,
    frame_ancestors: Iterable[str] = (),
    form_targets: Iterable[str] = (),
    connect: bool = False,
    frame_src: Iterable[str] = (),
    headers: dict[str, str] | None = None,
    **context: Any,  # noqa: ANN401 - template variables
) -> HTMLResponse:
    """``template`` rendered with ``context`` (plus ``csp_nonce``) and the security headers."""
    nonce = secrets.token_urlsafe(16)
    body = _env.get_template(template).render(csp_nonce=nonce, static=STATIC_PREFIX, **context)
    return HTMLResponse(
        body,
        status_code=status,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": content_security_policy(
                nonce,
                frame_ancestors=frame_ancestors,
                form_targets=form_targets,
                connect=connect,
                frame_src=frame_src,
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            **(headers or {}),
        },
    )
