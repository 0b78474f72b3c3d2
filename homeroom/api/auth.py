"""OAuth 2.0 tokens (client credentials) as RS256 JWTs, and the principal a request acts as.

Tokens carry ``tid`` (the tenant), ``roles`` (application permissions) and ``azp``/``appid`` (the client).
Tokens of configured external OpenID Connect issuers are verified against the issuer's JWKS instead.
Verification pins the algorithm to RS256, so ``alg: none`` and HS256 tokens are refused, and checks the
signature, expiry, audience, issuer and that the app is still registered in the token's tenant.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy.orm import Session

from homeroom.api.apps import PERMISSIONS, get_app_registration, secret_matches
from homeroom.api.errors import AuthError, BadRequest, InvalidClient, PermissionDenied
from homeroom.errors import ConfigurationError
from homeroom.store import service

ALGORITHM = "RS256"
#: Asymmetric algorithms accepted from external issuers (never "none" nor HMAC, whose key would be public).
EXTERNAL_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant, the client id and the permissions the token grants."""

    tenant_id: str
    client_id: str
    permissions: frozenset[str]

    def require(self, *accepted: str) -> None:
        """Raise ``PermissionDenied`` unless the token grants one of the accepted permissions."""
        if not self.permissions.intersection(accepted):
            raise PermissionDenied(f"Missing permission: this operation requires one of {', '.join(accepted)}.")


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
                 external_issuers: list[ExternalIssuer] | None = None):
        self._key = key
        self.public_key = key.public_key()
        self.audience = audience
        self.lifetime_seconds = lifetime_seconds
        self.issuer_base = issuer_base.rstrip("/")
        self.external = {i.issuer: i for i in external_issuers or []}
        self._jwks = {i.issuer: jwt.PyJWKClient(i.jwks_uri, lifespan=300) for i in external_issuers or []}

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

    def client_credentials(self, *, db: Session, tenant_id: str, form: dict[str, str]) -> dict:
        """The token endpoint's answer to a ``client_credentials`` grant."""
        if form.get("grant_type") != "client_credentials":
            raise BadRequest(f"unsupported_grant_type: {form.get('grant_type')!r}; only client_credentials is supported.")
        scope = form.get("scope", "")
        if scope and not all(s.endswith("/.default") for s in scope.split()):
            raise BadRequest("invalid_scope: client credentials tokens take a scope ending in '/.default'.")
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if not client_id or not secret:
            raise BadRequest("invalid_request: client_id and client_secret are required.")
        app = get_app_registration(db=db, tenant_id=tenant_id, client_id=client_id)
        if app is None or not secret_matches(secret, app.secret_hash):
            raise InvalidClient("The client id or secret is not valid for this tenant.")
        token = self.issue(tenant_id=tenant_id, client_id=app.id, roles=list(app.permissions))
        return {"token_type": "Bearer", "expires_in": self.lifetime_seconds, "ext_expires_in": self.lifetime_seconds,
                "access_token": token}

    def verify(self, *, db: Session, authorization: str | None) -> Principal:
        """The principal of a request's ``Authorization: Bearer`` token, or ``AuthError``."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise AuthError("Access token is empty.")
        token = authorization[7:].strip()
        try:
            unverified_issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise AuthError("Access token validation failure: DecodeError.") from None
        if unverified_issuer in self.external:
            return self._verify_external(db=db, token=token, issuer=self.external[unverified_issuer])
        try:
            claims = jwt.decode(
                token, self.public_key, algorithms=[ALGORITHM], audience=self.audience,
                options={"require": ["exp", "iat", "aud", "iss", "tid"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("Access token has expired or is not yet valid.") from None
        except jwt.InvalidAudienceError:
            raise AuthError("Access token has an invalid audience.") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"Access token validation failure: {type(exc).__name__}.") from None
        tenant_id = str(claims["tid"])
        if claims["iss"] != self.issuer(tenant_id):
            raise AuthError("Access token was not issued for its tenant.")
        client_id = str(claims.get("azp") or claims.get("appid") or "")
        app = get_app_registration(db=db, tenant_id=tenant_id, client_id=client_id)
        if app is None:
            raise AuthError("Access token's application is not registered in its tenant.")
        roles = claims.get("roles") or []
        scopes = str(claims.get("scp") or "").split()
        # A token can only use permissions the app still holds: revoking a permission takes effect at once.
        granted = frozenset(p for p in [*roles, *scopes] if p in app.permissions)
        return Principal(tenant_id=tenant_id, client_id=client_id, permissions=granted)

    def _verify_external(self, *, db: Session, token: str, issuer: ExternalIssuer) -> Principal:
        """The principal of a token from an external OpenID Connect issuer, checked against its JWKS."""
        try:
            key = self._jwks[issuer.issuer].get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=list(EXTERNAL_ALGORITHMS), audience=issuer.audience,
                                issuer=issuer.issuer, options={"require": ["exp", "iat", "aud", "iss"]})
        except jwt.ExpiredSignatureError:
            raise AuthError("Access token has expired or is not yet valid.") from None
        except jwt.InvalidAudienceError:
            raise AuthError("Access token has an invalid audience.") from None
        except jwt.PyJWKClientConnectionError:
            raise AuthError("The issuer's signing keys could not be fetched.") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"Access token validation failure: {type(exc).__name__}.") from None
        tenant_id = claims.get(issuer.tenant_claim)
        if not isinstance(tenant_id, str) or not tenant_id:
            raise AuthError(f"Access token has no '{issuer.tenant_claim}' claim naming its tenant.")
        service.ensure_tenant(db=db, tenant_id=tenant_id)
        db.commit()
        roles = claims.get("roles") or []
        scopes = str(claims.get("scp") or "").split()
        granted = frozenset(p for p in [*roles, *scopes] if p in PERMISSIONS)
        client_id = str(claims.get("azp") or claims.get("appid") or claims.get("client_id") or claims.get("sub") or "")
        return Principal(tenant_id=tenant_id, client_id=f"{issuer.issuer}#{client_id}", permissions=granted)
