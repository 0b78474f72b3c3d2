"""App registrations (client ids, hashed secrets, granted permissions) and the people who sign in for delegated tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from homeroom.auth.permissions import PERMISSIONS
from homeroom.errors import ConfigurationError
from homeroom.store import service
from homeroom.store.models import AppRegistration, Tenant, User


_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_secret(secret: str) -> str:
    """A salted scrypt hash of a client secret."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def secret_matches(secret: str, stored: str) -> bool:
    """Whether ``secret`` is the one whose hash is ``stored`` (constant-time comparison)."""
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(candidate.hex(), digest)


def create_app_registration(
    *, db: Session, tenant_id: str, display_name: str, permissions: list[str]
) -> tuple[AppRegistration, str]:
    """Register an app in a tenant; returns it and its secret, which is not kept anywhere and cannot be shown again."""
    unknown = sorted(set(permissions) - PERMISSIONS)
    if unknown:
        raise ConfigurationError(f"unknown permission(s): {', '.join(unknown)}; known: {', '.join(sorted(PERMISSIONS))}")
    service.ensure_tenant(db=db, tenant_id=tenant_id)
    secret = secrets.token_urlsafe(32)
    app = AppRegistration(tenant_id=tenant_id, display_name=display_name, secret_hash=hash_secret(secret),
                          permissions=sorted(set(permissions)))
    db.add(app)
    db.flush()
    return app, secret


def held_permissions(*, db: Session, tenant_id: str, client_id: str) -> tuple[list[str], int] | None:
    """The permissions the tenant's app holds now and the tenant's revision, or None if the app is not registered
    (one light query per call)."""
    apps, tenants = AppRegistration.__table__, Tenant.__table__
    row = db.execute(select(apps.c.permissions, tenants.c.revision).join(tenants, tenants.c.id == apps.c.tenant_id)
                     .where(apps.c.tenant_id == tenant_id, apps.c.id == client_id)).first()
    return None if row is None else (list(row[0]), int(row[1]))


def get_app_registration(*, db: Session, tenant_id: str, client_id: str) -> AppRegistration | None:
    """The tenant's app with this client id (another tenant's app is not found)."""
    return db.scalar(select(AppRegistration).where(AppRegistration.tenant_id == tenant_id, AppRegistration.id == client_id))


def list_app_registrations(*, db: Session, tenant_id: str) -> list[AppRegistration]:
    """The tenant's apps, oldest first."""
    return list(db.scalars(select(AppRegistration).where(AppRegistration.tenant_id == tenant_id).order_by(AppRegistration.created)))


def create_user(*, db: Session, tenant_id: str, username: str, permissions: list[str], password: str | None = None) -> tuple[User, str]:
    """Create a person who can sign in for delegated tokens; returns the user and the password (generated when not given)."""
    unknown = sorted(set(permissions) - PERMISSIONS)
    if unknown:
        raise ConfigurationError(f"unknown permission(s): {', '.join(unknown)}; known: {', '.join(sorted(PERMISSIONS))}")
    if not username or len(username) > 200 or any(c.isspace() for c in username):
        raise ConfigurationError(f"a username is 1 to 200 characters without spaces, not {username!r}")
    if password is not None and len(password) < 12:
        raise ConfigurationError("a password has at least 12 characters")
    service.ensure_tenant(db=db, tenant_id=tenant_id)
    if get_user(db=db, tenant_id=tenant_id, username=username) is not None:
        raise ConfigurationError(f"tenant {tenant_id!r} already has a user {username!r}")
    password = password or secrets.token_urlsafe(18)
    user = User(tenant_id=tenant_id, username=username, password_hash=hash_secret(password), permissions=sorted(set(permissions)))
    db.add(user)
    db.flush()
    return user, password


def get_user(*, db: Session, tenant_id: str, username: str | None = None, user_id: str | None = None) -> User | None:
    """The tenant's user with this username (case-insensitive) or id."""
    query = select(User).where(User.tenant_id == tenant_id)
    if user_id is not None:
        return db.scalar(query.where(User.id == user_id))
    found = [u for u in db.scalars(query) if u.username.lower() == (username or "").lower()]
    return found[0] if found else None


def list_users(*, db: Session, tenant_id: str) -> list[User]:
    """The tenant's users, oldest first."""
    return list(db.scalars(select(User).where(User.tenant_id == tenant_id).order_by(User.created)))
