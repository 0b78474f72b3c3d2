"""Signing in to a OneRoster REST API, and the check behind a OneRoster connector's ``validate``.

OneRoster providers authenticate with OAuth 2 client credentials (OneRoster 1.2; a token from ``tokenUrl``, sent
as a bearer token) or with OAuth 1.0a signed requests using HMAC-SHA256 (OneRoster 1.1). ``oauthlib`` builds the
token request and signs the requests; ``httpx`` sends them. Failures are ``TransientError`` (unreachable, a
timeout, 429, 5xx: worth retrying) or ``PermanentError`` (refused credentials, any other answer); their messages say
what failed and where, never the secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from oauthlib import oauth1
from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error

from homeroom.errors import PermanentError, TransientError

OAUTH1, OAUTH2 = "oAuth1ClientCredential", "oAuth2ClientCredential"
SYSTEM = "OneRoster API"


@dataclass(frozen=True)
class OneRosterCredential:
    """A connector's credential with its write-only secret (``kind``: ``OAUTH1`` or ``OAUTH2``)."""

    kind: str
    client_id: str
    client_secret: str = field(default="", repr=False)  # never in a log line or a message
    token_url: str | None = None
    scope: str | None = None


def _send(http: httpx.Client, request: httpx.Request, what: str, auth: httpx.Auth | None = None) -> httpx.Response:
    """Send a request; a failure to get any answer is an ``ExternalError`` naming ``what`` was asked."""
    try:
        return http.send(request, auth=auth)
    except httpx.TimeoutException:
        raise TransientError(f"{what} did not answer within {http.timeout.read:g} seconds.", system=SYSTEM) from None
    except httpx.TransportError as exc:
        raise TransientError(f"{what} is unreachable: {exc or type(exc).__name__}.", system=SYSTEM) from None


def _refused(response: httpx.Response, what: str, reason: str = "") -> Exception:
    """The error for an answer other than 200: 429 and 5xx are worth retrying, the rest is not."""
    message = f"HTTP {response.status_code} from {what}{f': {reason}' if reason else ''}."
    if response.status_code == 429 or response.status_code >= 500:
        retry_after = response.headers.get("Retry-After", "")
        return TransientError(message, system=SYSTEM, retry_after=float(retry_after) if retry_after.isdigit() else None)
    return PermanentError(message, system=SYSTEM)


def _oauth2_token(http: httpx.Client, credential: OneRosterCredential) -> str:
    """An access token by the client-credentials grant (client authentication by HTTP Basic, RFC 6749 §2.3.1)."""
    what = f"the token endpoint {credential.token_url}"
    if not credential.token_url:
        raise PermanentError("The credential has no tokenUrl to request a token from.", system=SYSTEM)
    client = BackendApplicationClient(client_id=credential.client_id)
    body = client.prepare_request_body(scope=credential.scope or None)
    try:
        request = http.build_request("POST", credential.token_url, content=body,
                                     headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
    except httpx.InvalidURL as exc:
        raise PermanentError(f"The tokenUrl is not a URL Homeroom can call: {exc}.", system=SYSTEM) from None
    response = _send(http, request, what, httpx.BasicAuth(credential.client_id, credential.client_secret))
    try:
        client.parse_request_body_response(response.text)
    except OAuth2Error as exc:  # RFC 6749 §5.2: the error code and description, as the endpoint gave them
        raise _refused(response, what, f"{exc.error}{f' ({exc.description})' if exc.description else ''}") from None
    except ValueError:  # neither JSON nor a form: an error page, or no token at all
        raise _refused(response, what, "the answer is not a token" if response.status_code == 200 else "") from None
    if response.status_code != 200:
        raise _refused(response, what)
    return client.access_token


def check_connection(base_url: str, credential: OneRosterCredential, *, timeout: float) -> str:
    """Sign in and read one org (``GET {baseUrl}/orgs?limit=1``); returns what was checked, in words.

    Raises ``TransientError`` or ``PermanentError`` saying what failed."""
    probe = f"{base_url.rstrip('/')}/orgs?limit=1"
    with httpx.Client(timeout=timeout, follow_redirects=False) as http:
        headers = {"Accept": "application/json"}
        if credential.kind == OAUTH2:
            headers["Authorization"] = f"Bearer {_oauth2_token(http, credential)}"
        try:
            if credential.kind == OAUTH1:
                signer = oauth1.Client(credential.client_id, client_secret=credential.client_secret,
                                       signature_method=oauth1.SIGNATURE_HMAC_SHA256)
                headers["Authorization"] = signer.sign(probe, http_method="GET")[1]["Authorization"]
            request = http.build_request("GET", probe, headers=headers)
        except (httpx.InvalidURL, ValueError) as exc:
            raise PermanentError(f"The baseUrl is not a URL Homeroom can call: {exc}.", system=SYSTEM) from None
        response = _send(http, request, f"the OneRoster API {probe}")
        if response.status_code != 200:
            raise _refused(response, f"the OneRoster API {probe}")
    how = "an OAuth 2 token from " + str(credential.token_url) if credential.kind == OAUTH2 else "OAuth 1.0a (HMAC-SHA256)"
    return f"Signed in with {how} and read {probe}."
