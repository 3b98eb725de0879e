"""The dashboard operator: password (scrypt hash only), log-ins, single-use form tokens.

- The password is generated on the first ``kassa serve`` (``secrets.token_urlsafe``) and
  printed once; only ``scrypt$n$r$p$salt$hash`` is stored. ``kassa admin set-password``
  replaces it and ends every log-in.
- A log-in is a random cookie token; the database keeps its SHA-256 with an idle expiry
  (``idle``), pushed forward at most once a minute by activity.
- Every form carries ``nonce.mac``: the MAC binds the nonce to the log-in (a token from another
  log-in, or none, is refused: 403), and an acting form's nonce is used once, so a double
  submit acts once. The login form's token is bound to a pre-login cookie instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from kassa.domain.errors import AuthenticationError, InvalidRequest
from kassa.service.ports.dashboard import AdminSession

if TYPE_CHECKING:
    from kassa.service.ports import Clock
    from kassa.service.ports.dashboard import AdminStore

ADMIN = "admin"
_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~16 MiB, ~50 ms
_TOUCH_EVERY = timedelta(seconds=60)
MIN_PASSWORD = 12


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` of the password with a fresh salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the stored hash (constant-time comparison)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        given = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(given, _unb64(digest))


def token_hash(token: str) -> str:
    """What the database keeps of a cookie token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def ensure_password(admin: AdminStore, clock: Clock) -> str | None:
    """Create the admin password if none exists; return it (the one time it is known)."""
    if await admin.password_hash(ADMIN) is not None:
        return None
    password = secrets.token_urlsafe(18)
    await admin.set_password_hash(ADMIN, hash_password(password), clock.now())
    return password


async def set_password(admin: AdminStore, clock: Clock, password: str) -> None:
    """Replace the admin password (at least ``MIN_PASSWORD`` characters); log-ins end."""
    if len(password) < MIN_PASSWORD:
        msg = f"password: at least {MIN_PASSWORD} characters"
        raise InvalidRequest(msg)
    await admin.set_password_hash(ADMIN, hash_password(password), clock.now())


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """A fresh log-in: the cookie token (never stored) and its row."""

    token: str
    session: AdminSession


async def log_in(
    admin: AdminStore, clock: Clock, password: str, address: str, idle: timedelta
) -> LoggedIn:
    """A new log-in for the right password, else ``AuthenticationError``."""
    stored = await admin.password_hash(ADMIN)
    if stored is None or not verify_password(password, stored):
        msg = "wrong password"
        raise AuthenticationError(msg)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session = AdminSession(token_hash(token), ADMIN, address, now, now, now + idle)
    await admin.add_session(session)
    return LoggedIn(token, session)


async def current(
    admin: AdminStore, clock: Clock, token: str, idle: timedelta
) -> AdminSession | None:
    """The live log-in of a cookie token; None if unknown or expired (then it is deleted)."""
    if not token:
        return None
    hashed = token_hash(token)
    found = await admin.get_session(hashed)
    if found is None:
        return None
    now = clock.now()
    if found.expires_at <= now:
        await admin.delete_session(hashed)
        return None
    if now - found.last_seen_at >= _TOUCH_EVERY:
        await admin.touch_session(hashed, now, now + idle)
    return found


async def log_out(admin: AdminStore, token: str) -> None:
    """End the log-in of this cookie token."""
    await admin.delete_session(token_hash(token))


def form_key(base: bytes) -> bytes:
    """The dashboard's form-token key, derived from the deployment's widget form key."""
    return hmac.digest(base, b"kassa-dashboard-forms", hashlib.sha256)


def form_token(key: bytes, binding: str) -> str:
    """A fresh ``nonce.mac`` bound to ``binding`` (a log-in's token hash, or a login cookie)."""
    nonce = secrets.token_urlsafe(16)
    mac = hmac.new(key, f"{binding}:{nonce}".encode(), hashlib.sha256).hexdigest()
    return f"{nonce}.{mac}"


class FormRefused(AuthenticationError):
    """A form without a valid token for this log-in (403)."""


def check_form_token(key: bytes, binding: str, given: str) -> str:
    """The nonce of a valid token, else ``FormRefused``."""
    nonce, _, mac = given.partition(".")
    want = hmac.new(key, f"{binding}:{nonce}".encode(), hashlib.sha256).hexdigest()
    if not nonce or not binding or not hmac.compare_digest(mac, want):
        msg = "the form's security token is missing or wrong; reload the page and try again"
        raise FormRefused(msg)
    return nonce
