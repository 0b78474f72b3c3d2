"""Signing in to the dashboard: the tenant's users (``homeroom users create``), a signed session cookie, CSRF tokens.

The session is a cookie signed with itsdangerous (a key derived from the data folder's, so sessions survive a
restart): the tenant, the user id, when it was issued and the CSRF nonce of the session. It is ``HttpOnly``,
``SameSite=Lax`` and ``Secure`` whenever the dashboard is reached over TLS. Every request reads the user again, so
a disabled or deleted user, or a permission taken away, takes effect at once; a session lasts ``SESSION_SECONDS``.

CSRF: a signed double-submit token. Every form carries the session's nonce (``csrf_token``, or the ``X-CSRF-Token``
header for htmx requests); a POST whose token is missing or differs from the one in the signed cookie is refused
with 403. Before signing in, the nonce lives in a cookie of its own, so the sign-in form is protected as well.

Failed sign-ins are counted with the token endpoint's ``SignInGuard`` (``homeroom.auth.lockout``), per username:
guessing a password through the dashboard or through the password grant adds up to the same lockout.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from homeroom.store.models import Tenant, User

SESSION_COOKIE = "homeroom_admin"
CSRF_COOKIE = "homeroom_admin_csrf"
#: How long a sign-in lasts.
SESSION_SECONDS = 8 * 3600
#: The form field and header that carry the CSRF token.
CSRF_FIELD, CSRF_HEADER = "csrf_token", "x-csrf-token"
COOKIE_PATH = "/admin"


class PageError(Exception):
    """A dashboard request that ends on an error page (403, 404, 400, 409, 429) with a message in words."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class SignInRequired(Exception):
    """The request needs a signed-in user; the answer is a redirect to the sign-in page."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in person: tenant, user and the permissions they hold now."""

    tenant_id: str
    user_id: str
    username: str
    permissions: frozenset[str]
    csrf: str
    #: The tenant's data revision when the request was authenticated (``homeroom.store.revisions``).
    revision: int = -1

    def may(self, accepted: tuple[str, ...]) -> bool:
        """Whether the user holds one of the accepted permissions."""
        return bool(self.permissions.intersection(accepted))

    def require(self, accepted: tuple[str, ...], what: str) -> None:
        """A 403 page unless the user holds one of the accepted permissions."""
        if not self.may(accepted):
            raise PageError(403, f"You cannot {what}: it needs one of {', '.join(accepted)}, and {self.username} holds "
                                 f"{', '.join(sorted(self.permissions)) or 'no permission'}.")


def session_key(sas_key: bytes) -> bytes:
    """The dashboard's signing key, derived from the data folder's key (as the API's ``$skiptoken`` key is)."""
    return hmac.new(sas_key, b"homeroom dashboard session", hashlib.sha256).digest()


class SessionCookies:
    """Reads and writes the dashboard's signed cookies."""

    def __init__(self, key: bytes, secure_always: bool = False):
        self._session = URLSafeTimedSerializer(key, salt="homeroom dashboard session")
        self._csrf = URLSafeTimedSerializer(key, salt="homeroom dashboard csrf")
        self.secure_always = secure_always

    def secure(self, request: Request) -> bool:
        """Whether cookies get ``Secure``: over TLS (directly, or behind a proxy that uvicorn trusts) or when the public
        URL is https."""
        return self.secure_always or request.url.scheme == "https"

    def session_of(self, request: Request) -> dict | None:
        """The signed session in the request's cookie, or None (missing, tampered with, expired)."""
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self._session.loads(raw, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        return data if isinstance(data, dict) and {"t", "u", "c"} <= data.keys() else None

    def new_session(self, tenant_id: str, user_id: str) -> tuple[str, str]:
        """A new session cookie value and its CSRF nonce."""
        nonce = secrets.token_urlsafe(24)
        return self._session.dumps({"t": tenant_id, "u": user_id, "c": nonce, "i": int(time.time())}), nonce

    def anonymous_nonce(self, request: Request) -> tuple[str, str | None]:
        """The CSRF nonce of a visitor not signed in, and a new cookie value to set when there was none."""
        raw = request.cookies.get(CSRF_COOKIE)
        if raw:
            try:
                nonce = self._csrf.loads(raw, max_age=SESSION_SECONDS)
                if isinstance(nonce, str):
                    return nonce, None
            except BadSignature:
                pass
        nonce = secrets.token_urlsafe(24)
        return nonce, self._csrf.dumps(nonce)

    def set(self, response, request: Request, name: str, value: str, *, same_site: str = "lax") -> None:
        response.set_cookie(name, value, max_age=SESSION_SECONDS, path=COOKIE_PATH, httponly=True,
                            secure=self.secure(request), samesite=same_site)

    def clear(self, response, request: Request) -> None:
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, secure=self.secure(request), samesite="lax")


def viewer_of(request: Request, db: Session) -> Viewer | None:
    """The signed-in user of this request, read from the database now (one light query, with the tenant's revision),
    or None."""
    data = request.app.state.dashboard_cookies.session_of(request)
    if data is None:
        return None
    users, tenants = User.__table__, Tenant.__table__
    row = db.execute(select(users.c.username, users.c.permissions, users.c.disabled, tenants.c.revision)
                     .join(tenants, tenants.c.id == users.c.tenant_id)
                     .where(users.c.tenant_id == data["t"], users.c.id == data["u"])).first()
    if row is None or row.disabled:
        return None
    return Viewer(data["t"], data["u"], row.username, frozenset(row.permissions or ()), data["c"], int(row.revision))


def check_csrf(request: Request, submitted: str | None, expected: str) -> None:
    """Refuse (403) a POST whose CSRF token is missing or is not the session's."""
    token = submitted or request.headers.get(CSRF_HEADER) or ""
    if not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise PageError(403, "The form was refused: its security token is missing or out of date. Reload the page and "
                             "submit it again.")
