"""OAuth 2.0 tokens as RS256 JWTs, and the principal a request acts as.

Grants: ``client_credentials`` (an app acting as itself: ``roles``), and for scripts and connectors acting for a
person, ``password`` (resource owner password credentials) and ``refresh_token`` (delegated: ``scp``, the
intersection of what the user holds, what the app holds and what was asked for).
Tokens carry ``tid`` (the tenant), ``roles`` or ``scp`` and ``azp``/``appid`` (the client).
Tokens of configured external OpenID Connect issuers are verified against the issuer's JWKS instead.
Verification pins the algorithm to RS256, so ``alg: none`` and HS256 tokens are refused, and checks the
signature, expiry, audience, issuer and that the app is still registered in the token's tenant.
"""

from __future__ import annotations

import functools
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from homeroom.auth.lockout import SignInGuard
from homeroom.auth.permissions import ONEROSTER, PERMISSIONS, usable
from homeroom.auth.registrations import get_app_registration, get_user, hash_secret, held_permissions, secret_matches
from homeroom.errors import ConfigurationError, InvalidClient, InvalidToken, OAuthRequestError, PermissionMissing
from homeroom.store import service
from homeroom.store.models import AppRegistration, Tenant, User
from homeroom.store.service import RESERVED_TENANTS

ALGORITHM = "RS256"
#: The audience of refresh tokens: never accepted as an access token, and access tokens are never refresh tokens.
REFRESH_AUDIENCE = "urn:homeroom:refresh-token"
REFRESH_LIFETIME_SECONDS = 14 * 24 * 3600
#: OpenID scopes a delegated request may carry; they grant nothing here.
_OIDC_SCOPES = {"openid", "profile", "email", "offline_access"}
#: Asymmetric algorithms accepted from external issuers (never "none" nor HMAC, whose key would be public).
EXTERNAL_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")


@functools.cache
def _unmatchable_hash() -> str:
    """A hash no secret matches (of random bytes), to spend on unknown clients and users what a known one costs."""
    return hash_secret(secrets.token_urlsafe(32))


def _auth_error(exc: jwt.PyJWTError) -> InvalidToken:
    """The 401 for a token PyJWT refused, Homeroom's or an external issuer's."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return InvalidToken("Access token has expired or is not yet valid.")
    if isinstance(exc, jwt.InvalidAudienceError):
        return InvalidToken("Access token has an invalid audience.")
    if isinstance(exc, jwt.PyJWKClientConnectionError):
        return InvalidToken("The issuer's signing keys could not be fetched.")
    return InvalidToken(f"Access token validation failure: {type(exc).__name__}.")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant, the client id and the permissions the token grants."""

    tenant_id: str
    client_id: str
    permissions: frozenset[str]
    #: The tenant's data revision when the call was authenticated (homeroom.store.revisions); -1 when unknown.
    revision: int = -1
    #: Whether the token acts for a user (``scp``) rather than as the app itself (``roles``).
    delegated: bool = False

    def require(self, *accepted: str) -> None:
        """Raise ``PermissionMissing`` unless the token grants one of the accepted permissions."""
        if not self.permissions.intersection(accepted):
            if accepted and not any(usable(p, delegated=self.delegated) for p in accepted):
                token, other = ("a delegated", "an application") if self.delegated else ("an application", "a delegated (user)")
                raise PermissionMissing(f"Missing permission: this operation requires one of {', '.join(accepted)}, which "
                                        f"{token} token cannot carry; call it with {other} token.")
            raise PermissionMissing(f"Missing permission: this operation requires one of {', '.join(accepted)}.")


@dataclass(frozen=True)
class ExternalIssuer:
    """An OpenID Connect issuer whose tokens are accepted: their ``roles``/``scp`` are trusted as permissions."""

    issuer: str
    jwks_uri: str
    audience: str
    tenant_claim: str = "tid"

    @classmethod
    def from_setting(cls, value: dict[str, str]) -> "ExternalIssuer":
        """One entry of ``HOMEROOM_API_OIDC_ISSUERS``."""
        missing = [k for k in ("issuer", "jwks_uri", "audience") if not value.get(k)]
        if missing:
            raise ConfigurationError(f"HOMEROOM_API_OIDC_ISSUERS entry {value!r} lacks {', '.join(missing)}")
        return cls(value["issuer"], value["jwks_uri"], value["audience"], value.get("tenant_claim") or "tid")


class TokenService:
    """Issues and verifies the access tokens of one Homeroom instance."""

    def __init__(self, key: RSAPrivateKey, *, audience: str, lifetime_seconds: int, issuer_base: str = "https://homeroom.local",
                 external_issuers: list[ExternalIssuer] | None = None, sign_in_guard: SignInGuard | None = None):
        self._key = key
        #: Failed sign-ins per client id and username (``homeroom.auth.lockout``).
        self.guard = sign_in_guard or SignInGuard(max_failures=10, window_seconds=300)
        self.public_key = key.public_key()
        self.audience = audience
        self.lifetime_seconds = lifetime_seconds
        self.issuer_base = issuer_base.rstrip("/")
        self.external = {i.issuer: i for i in external_issuers or []}
        self._jwks = {i.issuer: jwt.PyJWKClient(i.jwks_uri, lifespan=300) for i in external_issuers or []}
        #: Claims of tokens whose signature was verified, by token (the signature check is the costly part of a
        #: call); expiry, the app and the user are still checked on every call.
        self._verified: dict[str, dict] = {}

    def issuer(self, tenant_id: str) -> str:
        """The ``iss`` of a tenant's tokens."""
        return f"{self.issuer_base}/{tenant_id}/v2.0"

    def issue(self, *, tenant_id: str, client_id: str, roles: list[str], now: float | None = None) -> str:
        """A signed application token for a client of a tenant."""
        now = int(time.time() if now is None else now)
        claims = {
            "aud": self.audience, "iss": self.issuer(tenant_id), "iat": now, "nbf": now,
            "exp": now + self.lifetime_seconds, "tid": tenant_id, "azp": client_id, "appid": client_id,
            "sub": client_id, "oid": client_id, "roles": roles, "idtyp": "app", "jti": str(uuid.uuid4()), "ver": "2.0",
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": "homeroom"})

    def token(self, *, db: Session, tenant_id: str, form: dict[str, str], v1: bool = False) -> dict:
        """The token endpoint's answer to a grant (``client_credentials``, ``password`` or ``refresh_token``).

        ``common`` and ``organizations`` stand for the tenant of the app ``client_id`` names (client ids are
        GUIDs, unique across tenants). ``v1`` is Entra's v1 endpoint (``/oauth2/token``): ``resource`` instead
        of ``scope``, and ``resource``/``expires_on`` in the answer, as the SDS Power Automate connector expects.
        """
        if tenant_id.lower() in RESERVED_TENANTS:
            found = db.execute(select(AppRegistration.tenant_id).where(AppRegistration.id == (form.get("client_id") or ""))).scalar()
            if found is None:
                raise InvalidClient("The client id is not registered in any tenant.")
            tenant_id = found
        if v1:
            resource = (form.get("resource") or self.audience).rstrip("/")
            if resource != self.audience.rstrip("/"):
                raise OAuthRequestError("invalid_resource", f"the resource is {resource!r}; Homeroom's tokens are for {self.audience}.")
            form = {**form, "scope": form.get("scope") or f"{resource}/.default"}
            answer = self.token(db=db, tenant_id=tenant_id, form=form)
            now = int(time.time())
            return {**answer, "resource": resource, "expires_on": str(now + self.lifetime_seconds), "not_before": str(now)}
        grant = form.get("grant_type")
        if grant == "client_credentials":
            return self.client_credentials(db=db, tenant_id=tenant_id, form=form)
        if grant in ("password", "refresh_token"):
            return self._delegated(db=db, tenant_id=tenant_id, form=form)
        raise OAuthRequestError("unsupported_grant_type", f"{grant!r}; supported: client_credentials, password, refresh_token.")

    def _app(self, db: Session, tenant_id: str, form: dict[str, str], secret_required: bool):
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if not client_id or (secret_required and not secret):
            raise OAuthRequestError("invalid_request", "client_id" + (" and client_secret are" if secret_required else " is") + " required.")
        key = ("client", tenant_id, client_id)
        self.guard.check(key)
        app = get_app_registration(db=db, tenant_id=tenant_id, client_id=client_id)
        # An unknown client costs the same key derivation as a known one, so timing does not tell which ids exist.
        matches = secret is None or secret_matches(secret, app.secret_hash if app is not None else _unmatchable_hash())
        if app is None or not matches:
            self.guard.failed(key)
            raise InvalidClient("The client id or secret is not valid for this tenant.")
        return app

    def client_credentials(self, *, db: Session, tenant_id: str, form: dict[str, str]) -> dict:
        """The token endpoint's answer to a ``client_credentials`` grant."""
        if form.get("grant_type") != "client_credentials":
            raise OAuthRequestError("unsupported_grant_type", f"{form.get('grant_type')!r}; only client_credentials is supported.")
        items = form.get("scope", "").split()
        unknown = [s for s in items if not s.endswith("/.default") and s not in ONEROSTER]
        if unknown:
            raise OAuthRequestError("invalid_scope", f"{unknown[0]!r}: client credentials tokens take a scope ending in "
                                    "'/.default' or OneRoster scopes (https://purl.imsglobal.org/spec/or/...).")
        app = self._app(db, tenant_id, form, secret_required=True)
        roles = [p for p in app.permissions if usable(p, delegated=False)]
        answer: dict = {}
        if items and not any(s.endswith("/.default") for s in items):
            # OneRoster consumers ask for scopes by name: the token grants those the app holds (RFC 6749 §3.3).
            roles = sorted(set(items) & set(app.permissions))
            if not roles:
                raise OAuthRequestError("invalid_scope", "the app holds none of the requested scopes.")
            answer["scope"] = " ".join(roles)
        token = self.issue(tenant_id=tenant_id, client_id=app.id, roles=roles)
        return {"token_type": "Bearer", "expires_in": self.lifetime_seconds, "ext_expires_in": self.lifetime_seconds,
                "access_token": token, **answer}

    def _requested(self, scope: str) -> set[str] | None:
        """The permissions a delegated request asks for (None: ``.default``, everything granted)."""
        wanted: set[str] = set()
        for item in scope.split():
            name = item if item in PERMISSIONS else item.rsplit("/", 1)[-1] if item.startswith(("https://", "http://", "api://")) else item
            if name == ".default":
                return None
            if name in _OIDC_SCOPES:
                continue
            if name not in PERMISSIONS:
                raise OAuthRequestError("invalid_scope", f"{item!r} is not a permission of industryData or the education API.")
            wanted.add(name)
        return wanted or None

    def sign_in_user(self, *, db: Session, tenant_id: str, username: str, password: str) -> User | None:
        """The tenant's enabled user with this username and password, or None; refused (``SignInThrottled``) while the
        username has had too many failures. The password grant and the dashboard's sign-in share these counts."""
        key = ("user", tenant_id, username.lower())
        self.guard.check(key)
        user = get_user(db=db, tenant_id=tenant_id, username=username)
        # An unknown user costs the same key derivation as a known one: timing does not tell which names exist.
        matches = secret_matches(password, user.password_hash if user is not None else _unmatchable_hash())
        if user is None or user.disabled or not matches:
            self.guard.failed(key)
            return None
        return user

    def _delegated(self, *, db: Session, tenant_id: str, form: dict[str, str]) -> dict:
        """``password`` and ``refresh_token`` grants: a token acting for a user, with ``scp`` permissions."""
        app = self._app(db, tenant_id, form, secret_required=False)
        requested = self._requested(form.get("scope", ""))
        if form["grant_type"] == "password":
            username, password = form.get("username"), form.get("password")
            if not username or not password:
                raise OAuthRequestError("invalid_request", "username and password are required.")
            user = self.sign_in_user(db=db, tenant_id=tenant_id, username=username, password=password)
            if user is None:
                raise OAuthRequestError("invalid_grant", "the user name or password is incorrect.")
            ceiling = set(PERMISSIONS)
        else:
            try:
                claims = jwt.decode(form.get("refresh_token") or "", self.public_key, algorithms=[ALGORITHM],
                                    audience=REFRESH_AUDIENCE, issuer=self.issuer(tenant_id),
                                    options={"require": ["exp", "sub", "azp", "tid"]})
            except jwt.PyJWTError as exc:
                raise OAuthRequestError("invalid_grant", f"the refresh token is not valid ({type(exc).__name__}).") from None
            if claims["azp"] != app.id:
                raise OAuthRequestError("invalid_grant", "the refresh token was issued to another client.")
            user = get_user(db=db, tenant_id=tenant_id, user_id=str(claims["sub"]))
            if user is None or user.disabled:
                raise OAuthRequestError("invalid_grant", "the refresh token's user no longer exists or is disabled.")
            ceiling = set(str(claims.get("scp") or "").split())  # a refresh never widens the grant
        allowed = {p for p in set(user.permissions) & set(app.permissions) & ceiling if usable(p, delegated=True)}
        scopes = allowed if requested is None else requested & allowed
        if not scopes:
            raise OAuthRequestError("invalid_scope", "neither the user nor the app holds any of the requested permissions.")
        now = int(time.time())
        scp = " ".join(sorted(scopes))
        common = {"iss": self.issuer(tenant_id), "iat": now, "nbf": now, "tid": tenant_id, "azp": app.id, "appid": app.id,
                  "sub": user.id, "oid": user.id, "scp": scp, "jti": str(uuid.uuid4()), "ver": "2.0"}
        access = jwt.encode({**common, "aud": self.audience, "exp": now + self.lifetime_seconds, "idtyp": "user",
                             "upn": user.username, "preferred_username": user.username},
                            self._key, algorithm=ALGORITHM, headers={"kid": "homeroom"})
        refresh = jwt.encode({**common, "aud": REFRESH_AUDIENCE, "exp": now + REFRESH_LIFETIME_SECONDS},
                             self._key, algorithm=ALGORITHM, headers={"kid": "homeroom"})
        return {"token_type": "Bearer", "scope": scp, "expires_in": self.lifetime_seconds,
                "ext_expires_in": self.lifetime_seconds, "access_token": access, "refresh_token": refresh}

    def tenant_of(self, authorization: str | None) -> str | None:
        """The tenant of a request's own-issued bearer token once its signature checks out (no database read;
        cached like ``verify``), else None: what the API's fair share counts a call against."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        token = authorization[7:].strip()
        claims = self._verified.get(token)
        if claims is None:
            try:
                claims = jwt.decode(token, self.public_key, algorithms=[ALGORITHM], audience=self.audience,
                                    options={"require": ["exp", "iat", "aud", "iss", "tid"]})
            except jwt.PyJWTError:
                return None  # an external issuer's token, or a bad one: verify() says which
            if len(self._verified) >= 10_000:
                self._verified.clear()
            self._verified[token] = claims
        return str(claims["tid"])

    def verify(self, *, db: Session, authorization: str | None) -> Principal:
        """The principal of a request's ``Authorization: Bearer`` token, or ``AuthError``."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise InvalidToken("Access token is empty.")
        token = authorization[7:].strip()
        cached = self._verified.get(token)
        try:
            unverified_issuer = cached["iss"] if cached else jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise InvalidToken("Access token validation failure: DecodeError.") from None
        if unverified_issuer in self.external:
            return self._verify_external(db=db, token=token, issuer=self.external[unverified_issuer])
        claims = self._verified.get(token)
        if claims is not None and claims["exp"] <= time.time():
            self._verified.pop(token, None)
            raise InvalidToken("Access token has expired or is not yet valid.")
        try:
            if claims is None:
                claims = jwt.decode(
                    token, self.public_key, algorithms=[ALGORITHM], audience=self.audience,
                    options={"require": ["exp", "iat", "aud", "iss", "tid"]},
                )
                if len(self._verified) >= 10_000:
                    self._verified.clear()  # a bound; tokens are re-verified after it
                self._verified[token] = claims
        except jwt.PyJWTError as exc:
            raise _auth_error(exc) from None
        tenant_id = str(claims["tid"])
        if claims["iss"] != self.issuer(tenant_id):
            raise InvalidToken("Access token was not issued for its tenant.")
        client_id = str(claims.get("azp") or claims.get("appid") or "")
        held_now = held_permissions(db=db, tenant_id=tenant_id, client_id=client_id)
        if held_now is None:
            raise InvalidToken("Access token's application is not registered in its tenant.")
        app_permissions, revision = held_now
        roles = claims.get("roles") or []
        scopes = str(claims.get("scp") or "").split()
        # A token can only use permissions the app (and its user) still hold: revoking takes effect at once.
        held = set(app_permissions)
        delegated = claims.get("idtyp") == "user" or bool(scopes)
        if delegated:
            user = get_user(db=db, tenant_id=tenant_id, user_id=str(claims.get("sub") or ""))
            if user is None or user.disabled:
                raise InvalidToken("Access token's user no longer exists or is disabled.")
            held &= set(user.permissions)
            roles = []  # a delegated token acts with its scopes only
        granted = frozenset(p for p in [*roles, *scopes] if p in held and usable(p, delegated=delegated))
        return Principal(tenant_id=tenant_id, client_id=client_id, permissions=granted, revision=revision, delegated=delegated)

    def _verify_external(self, *, db: Session, token: str, issuer: ExternalIssuer) -> Principal:
        """The principal of a token from an external OpenID Connect issuer, checked against its JWKS."""
        try:
            key = self._jwks[issuer.issuer].get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=list(EXTERNAL_ALGORITHMS), audience=issuer.audience,
                                issuer=issuer.issuer, options={"require": ["exp", "iat", "aud", "iss"]})
        except jwt.PyJWTError as exc:
            raise _auth_error(exc) from None
        tenant_id = claims.get(issuer.tenant_claim)
        if not isinstance(tenant_id, str) or not tenant_id:
            raise InvalidToken(f"Access token has no '{issuer.tenant_claim}' claim naming its tenant.")
        if db.get(Tenant, tenant_id) is None and not service.is_tenant_id(tenant_id):
            raise InvalidToken(f"Access token's '{issuer.tenant_claim}' claim is not a tenant id Homeroom accepts.")
        service.ensure_tenant(db=db, tenant_id=tenant_id)
        db.commit()
        roles = claims.get("roles") or []
        scopes = str(claims.get("scp") or "").split()
        delegated = bool(scopes)
        granted = frozenset(p for p in [*roles, *scopes] if p in PERMISSIONS and usable(p, delegated=delegated))
        client_id = str(claims.get("azp") or claims.get("appid") or claims.get("client_id") or claims.get("sub") or "")
        return Principal(tenant_id=tenant_id, client_id=f"{issuer.issuer}#{client_id}", permissions=granted, delegated=delegated)
