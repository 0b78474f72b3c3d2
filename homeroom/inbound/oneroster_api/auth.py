"""Signing in to a OneRoster REST API: OAuth 1.0a request signing and OAuth 2 client-credentials tokens.

OneRoster 1.1 providers sign every request with OAuth 1.0a, two-legged (a consumer key and secret, no token;
HMAC-SHA256 by default, HMAC-SHA1 where a provider accepts only that); many 1.1 providers and every 1.2 provider
issue an OAuth 2 access token instead (client credentials at ``tokenUrl``, with a space-separated ``scope``), sent as
a bearer token. ``oauthlib`` builds the signatures and the token request; ``httpx`` sends them. The token is kept
until shortly before it expires, and fetched again when the API answers 401 (once per request).

Failures are ``TransientError`` (unreachable, a timeout, 429, 5xx: worth retrying) or ``PermanentError`` (refused
credentials, any other answer); their messages say what failed and where, never the secret.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx
from oauthlib import oauth1
from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error

from homeroom.errors import PermanentError, TransientError

OAUTH1, OAUTH2 = "oAuth1ClientCredential", "oAuth2ClientCredential"
SYSTEM = "OneRoster API"
SIGNATURE_METHODS = {"HMAC-SHA256": oauth1.SIGNATURE_HMAC_SHA256, "HMAC-SHA1": oauth1.SIGNATURE_HMAC_SHA1}
#: A token is fetched again this long before the expiry its endpoint gave.
TOKEN_MARGIN_SECONDS = 30.0


@dataclass(frozen=True)
class OneRosterCredential:
    """A connector's credential with its write-only secret (``kind``: ``OAUTH1`` or ``OAUTH2``)."""

    kind: str
    client_id: str
    client_secret: str = field(default="", repr=False)  # never in a log line or a message
    token_url: str | None = None
    scope: str | None = None
    signature_method: str = "HMAC-SHA256"  # OAuth 1.0a: HMAC-SHA256 or HMAC-SHA1
    client_auth: str = "basic"  # OAuth 2: the client id and secret by HTTP Basic, or in the form body

    def describe(self) -> str:
        """How it signs in, in words (for messages)."""
        if self.kind == OAUTH2:
            return f"an OAuth 2 token from {self.token_url}"
        return f"OAuth 1.0a ({self.signature_method})"


def send(http: httpx.Client, request: httpx.Request, what: str) -> httpx.Response:
    """Send a request; a failure to get any answer is a ``TransientError`` naming ``what`` was asked."""
    try:
        return http.send(request)
    except httpx.TimeoutException:
        raise TransientError(f"{what} did not answer within {http.timeout.read:g} seconds.", system=SYSTEM) from None
    except httpx.TransportError as exc:
        raise TransientError(f"{what} is unreachable: {exc or type(exc).__name__}.", system=SYSTEM) from None


def retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` of an answer in seconds (a number of seconds or an HTTP date), None without one."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def refused(response: httpx.Response, what: str, reason: str = "") -> Exception:
    """The error for an answer other than 200: 429 and 5xx are worth retrying, the rest is not."""
    message = f"HTTP {response.status_code} from {what}{f': {reason}' if reason else ''}."
    if response.status_code == 429 or response.status_code >= 500:
        return TransientError(message, system=SYSTEM, retry_after=retry_after(response))
    return PermanentError(message, system=SYSTEM)


class SignIn:
    """The ``Authorization`` header of each request to the API, by the credential's kind (thread-safe)."""

    def __init__(self, credential: OneRosterCredential):
        self.credential = credential
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        if credential.kind == OAUTH1 and credential.signature_method not in SIGNATURE_METHODS:
            raise PermanentError(f"OAuth 1.0a signature method {credential.signature_method!r} is not one of "
                                 f"{', '.join(SIGNATURE_METHODS)}.", system=SYSTEM)

    def authorize(self, http: httpx.Client, request: httpx.Request) -> None:
        """Sign the request (OAuth 1.0a) or give it the bearer token, fetching one when there is none or it expired."""
        if self.credential.kind == OAUTH1:
            signer = oauth1.Client(self.credential.client_id, client_secret=self.credential.client_secret,
                                   signature_method=SIGNATURE_METHODS[self.credential.signature_method])
            request.headers["Authorization"] = signer.sign(str(request.url), http_method=request.method)[1]["Authorization"]
            return
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                self._token, lifetime = fetch_token(http, self.credential)
                self._expires = time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 0.0) if lifetime else float("inf")
            request.headers["Authorization"] = f"Bearer {self._token}"

    def forget_token(self, used: httpx.Request) -> bool:
        """After a 401: drop the token ``used`` carried, so that the next request fetches another. False for OAuth 1.0a
        (a signature cannot be refreshed: the 401 stands)."""
        if self.credential.kind != OAUTH2:
            return False
        with self._lock:
            if used.headers.get("Authorization") == f"Bearer {self._token}":
                self._token = None
        return True


def fetch_token(http: httpx.Client, credential: OneRosterCredential) -> tuple[str, float | None]:
    """An access token by the client-credentials grant and its lifetime in seconds (None: not given)."""
    what = f"the token endpoint {credential.token_url}"
    if not credential.token_url:
        raise PermanentError("The credential has no tokenUrl to request a token from.", system=SYSTEM)
    client = BackendApplicationClient(client_id=credential.client_id)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if credential.client_auth == "body":  # RFC 6749 §2.3.1 allows it; some SIS accept nothing else
        body = client.prepare_request_body(scope=credential.scope or None, include_client_id=True,
                                           client_secret=credential.client_secret)
    else:
        body = client.prepare_request_body(scope=credential.scope or None)
        pair = f"{credential.client_id}:{credential.client_secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    try:
        request = http.build_request("POST", credential.token_url, content=body, headers=headers)
    except httpx.InvalidURL as exc:
        raise PermanentError(f"The tokenUrl is not a URL Homeroom can call: {exc}.", system=SYSTEM) from None
    response = send(http, request, what)
    try:
        token = client.parse_request_body_response(response.text)
    except OAuth2Error as exc:  # RFC 6749 §5.2: the error code and description, as the endpoint gave them
        raise refused(response, what, f"{exc.error}{f' ({exc.description})' if exc.description else ''}") from None
    except ValueError:  # neither JSON nor a form: an error page, or no token at all
        raise refused(response, what, "the answer is not a token" if response.status_code == 200 else "") from None
    if response.status_code != 200:
        raise refused(response, what)
    lifetime = token.get("expires_in")
    return client.access_token, float(lifetime) if lifetime not in (None, "") else None
