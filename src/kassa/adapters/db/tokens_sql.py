"""SQL of the widgets for ``SqlStore``: public tokens (by hash) and projects' widget origins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from kassa.adapters.db import rows
from kassa.adapters.db.driver import Stmt
from kassa.domain.errors import KassaError, PublicTokenUsed
from kassa.domain.public_token import AcquiringWidget, PublicToken, TokenizeWidget, WidgetKind

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from kassa.adapters.db.driver import Driver
    from kassa.domain.json import JSONObject

_COLUMNS = (
    "token_hash, project_id, kinds, session_id, options, created_at, expires_at, used_at, "
    "card_attempts, result"
)


def options_to_json(token: PublicToken) -> JSONObject:
    """Each widget's settings, under its wire name."""
    out: JSONObject = {}
    if token.tokenize is not None:
        out[WidgetKind.TOKENIZE.value] = {"locale": token.tokenize.locale}
    if token.acquiring is not None:
        widget = token.acquiring
        acquiring: JSONObject = {
            "session_id": widget.session_id,
            "locale": widget.locale,
            "show_recurrent_checkbox": widget.show_recurrent_checkbox,
            "success_on_hold": widget.success_on_hold,
        }
        for name in ("success_return_url", "failure_return_url"):
            value = getattr(widget, name)
            if value is not None:
                acquiring[name] = value
        out[WidgetKind.ACQUIRING.value] = acquiring
    if token.fps_session_id is not None:
        out[WidgetKind.FPS.value] = {"session_id": token.fps_session_id}
    return out


def token_from_row(row: Sequence[Any]) -> PublicToken:
    """A public token from a row of ``_COLUMNS``."""
    options: dict[str, Any] = orjson.loads(row[4])
    tokenize = options.get(WidgetKind.TOKENIZE.value)
    acquiring = options.get(WidgetKind.ACQUIRING.value)
    fps = options.get(WidgetKind.FPS.value)
    return PublicToken(
        token_hash=row[0],
        project_id=row[1],
        created_at=rows.from_us(row[5]),
        expires_at=rows.from_us(row[6]),
        tokenize=None if tokenize is None else TokenizeWidget(**tokenize),
        acquiring=None if acquiring is None else AcquiringWidget(**acquiring),
        fps_session_id=None if fps is None else fps["session_id"],
        used_at=rows.opt_from_us(row[7]),
        card_attempts=int(row[8]),
        result=orjson.loads(row[9]) if row[9] else {},
    )


def add_token_statement(token: PublicToken) -> Stmt:
    """Insert a public token."""
    return Stmt(
        f"INSERT INTO public_tokens ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            token.token_hash,
            token.project_id,
            " ".join(kind.value for kind in token.kinds),
            token.session_id,
            rows.dumps(options_to_json(token)),
            rows.to_us(token.created_at),
            rows.to_us(token.expires_at),
            rows.opt_to_us(token.used_at),
            token.card_attempts,
            rows.dumps(token.result) if token.result else None,
        ),
    )


def _already_used() -> KassaError:
    return PublicTokenUsed("the public token was already used")


def use_token_statement(token_hash: str, used_at: datetime, result: JSONObject) -> Stmt:
    """Set ``used_at`` once: a second use touches no row and fails its transaction."""
    return Stmt(
        "UPDATE public_tokens SET used_at = ?, result = ? WHERE token_hash = ? AND used_at IS NULL",
        (rows.to_us(used_at), rows.dumps(result) if result else None, token_hash),
        expect=1,
        error=_already_used,
    )


async def get_token(
    driver: Driver, token_hash: str, project_id: str | None = None
) -> PublicToken | None:
    """The token by hash, optionally only within one project."""
    sql = f"SELECT {_COLUMNS} FROM public_tokens WHERE token_hash = ?"
    params: tuple[str, ...] = (token_hash,)
    if project_id is not None:
        sql += " AND project_id = ?"
        params = (token_hash, project_id)
    found = await driver.fetch(sql, params)
    return token_from_row(found[0]) if found else None


async def take_card_attempt(driver: Driver, token_hash: str, limit: int) -> bool:
    """One more card attempt, in one statement, only while fewer than ``limit`` were made."""
    [result] = await driver.write(
        [
            Stmt(
                "UPDATE public_tokens SET card_attempts = card_attempts + 1 "
                "WHERE token_hash = ? AND card_attempts < ?",
                (token_hash, limit),
            ),
        ],
    )
    return result.rowcount == 1


async def set_widget_origins(driver: Driver, project_id: str, origins: tuple[str, ...]) -> bool:
    """Store the project's widget origins; False if there is no such project."""
    [result] = await driver.write(
        [
            Stmt(
                "UPDATE projects SET widget_origins = ? WHERE id = ?",
                (rows.origins_to_column(origins), project_id),
            ),
        ],
    )
    return result.rowcount == 1
