"""``validate`` of a oneRosterApiDataConnector: a credential check against a real OneRoster-ish server on loopback.

The server is a small ``http.server`` in a thread: a client-credentials token endpoint (HTTP Basic) and ``/orgs``,
which takes the token it issued or an OAuth 1.0a HMAC-SHA256 signature it checks itself (RFC 5849 §3.4).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from apitools import BASE, make_api_connector, make_source
from test_api_uploads_runs import wait

CLIENT_ID, SECRET, TOKEN = "homeroom-client", "the-right-secret", "issued-token-7"


def _enc(value: str) -> str:
    return quote(value, safe="~-._")


def _oauth1_signature_ok(method: str, url: str, authorization: str) -> bool:
    """Recompute an OAuth 1.0a HMAC-SHA256 signature (RFC 5849 §3.4.1-3.4.2) and compare."""
    fields = dict(pair for part in authorization.removeprefix("OAuth ").split(",")
                  for pair in parse_qsl(part.strip().replace('"', ""), keep_blank_values=True))
    if fields.get("oauth_signature_method") != "HMAC-SHA256" or fields.get("oauth_consumer_key") != CLIENT_ID:
        return False
    parts = urlsplit(url)
    params = [(k, v) for k, v in fields.items() if k not in ("oauth_signature", "realm")] + parse_qsl(parts.query)
    normalized = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in sorted((_enc(k), _enc(v)) for k, v in params))
    base = "&".join((method, _enc(f"{parts.scheme}://{parts.netloc}{parts.path}"), _enc(normalized)))
    expected = base64.b64encode(hmac.new(f"{_enc(SECRET)}&".encode(), base.encode(), hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, fields.get("oauth_signature", ""))


class OneRosterish(BaseHTTPRequestHandler):
    """POST /token (client credentials) and GET /ims/oneroster/v1p1/orgs (bearer token or OAuth 1.0a)."""

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        form = dict(parse_qsl(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()))
        basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
        if self.path != "/token" or form.get("grant_type") != "client_credentials":
            return self._answer(400, {"error": "unsupported_grant_type"})
        if self.headers.get("Authorization") != basic:
            return self._answer(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
        if form.get("scope") != "https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly":
            return self._answer(400, {"error": "invalid_scope"})
        self._answer(200, {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600})

    def do_GET(self) -> None:  # noqa: N802
        if urlsplit(self.path).path != "/ims/oneroster/v1p1/orgs" or "limit=1" not in self.path:
            return self._answer(404, {"error": "not found"})
        auth = self.headers.get("Authorization", "")
        url = f"http://{self.headers['Host']}{self.path}"
        if auth == f"Bearer {TOKEN}" or (auth.startswith("OAuth ") and _oauth1_signature_ok("GET", url, auth)):
            return self._answer(200, {"orgs": [{"sourcedId": "org-1", "name": "District"}]})
        self._answer(401, {"imsx_codeMajor": "failure", "imsx_description": "Unauthorized"})

    def log_message(self, *args) -> None:  # quiet
        pass


@contextmanager
def oneroster_server() -> Iterator[str]:
    """The server on 127.0.0.1:<free port>; yields its base address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), OneRosterish)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sis() -> Iterator[str]:
    with oneroster_server() as address:
        yield address


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def oauth2(address: str, secret: str = SECRET) -> dict:
    return {"@odata.type": "#microsoft.graph.industryData.oAuth2ClientCredential", "displayName": "SIS app",
            "clientId": CLIENT_ID, "clientSecret": secret, "tokenUrl": f"{address}/token",
            "scope": "https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly"}


def oauth1(secret: str = SECRET) -> dict:
    return {"@odata.type": "#microsoft.graph.industryData.oAuth1ClientCredential", "displayName": "SIS app",
            "clientId": CLIENT_ID, "clientSecret": secret}


def check(client, connector_id: str) -> tuple[dict, dict]:
    """validate the connector; returns the finished operation and the connector's credential."""
    r = client.post(f"{BASE}/dataConnectors/{connector_id}/microsoft.graph.industryData.validate")
    assert r.status_code == 202, r.text
    assert r.content == b""
    op = wait(client, r.headers["Location"])
    return op, client.get(f"{BASE}/dataConnectors/{connector_id}").json()["credential"]


@pytest.mark.parametrize("kind", ["oAuth2", "oAuth1"])
def test_validate_of_a_oneroster_connector_checks_its_credential(admin, sis, kind):
    credential = oauth2(sis) if kind == "oAuth2" else oauth1()
    connector = make_api_connector(admin, make_source(admin)["id"], base_url=f"{sis}/ims/oneroster/v1p1/",
                                   credential=credential)
    assert connector["credential"]["isValid"] is None and connector["credential"]["lastValidDateTime"] is None
    op, stored = check(admin, connector["id"])
    assert op["@odata.type"] == "#microsoft.graph.longRunningOperation"
    assert op["resourceLocation"] == f"http://testserver{BASE}/dataConnectors/{connector['id']}"
    how = f"an OAuth 2 token from {sis}/token" if kind == "oAuth2" else "OAuth 1.0a (HMAC-SHA256)"
    assert (op["status"], op["statusDetail"]) == (
        "succeeded", f"Signed in with {how} and read {sis}/ims/oneroster/v1p1/orgs?limit=1.")
    assert stored["isValid"] is True and stored["lastValidDateTime"].endswith("Z")
    assert "clientSecret" not in stored
    last_valid = stored["lastValidDateTime"]

    # A wrong secret: isValid false with the reason; lastValidDateTime keeps the last success; no secret in words.
    patch = admin.patch(f"{BASE}/dataConnectors/{connector['id']}", json={
        "@odata.type": "#microsoft.graph.industryData.oneRosterApiDataConnector",
        "credential": oauth2(sis, "a-wrong-secret") if kind == "oAuth2" else oauth1("a-wrong-secret")})
    assert patch.status_code == 204, patch.text
    op, stored = check(admin, connector["id"])
    reason = (f"HTTP 401 from the token endpoint {sis}/token: invalid_client (Client authentication failed.)."
              if kind == "oAuth2" else f"HTTP 401 from the OneRoster API {sis}/ims/oneroster/v1p1/orgs?limit=1: Unauthorized.")
    assert (op["status"], op["statusDetail"]) == ("failed", f"The credential check failed: {reason}")
    assert stored["isValid"] is False
    assert stored["lastValidDateTime"] is None, "a replaced credential has not been valid yet"
    assert "a-wrong-secret" not in json.dumps(op) and SECRET not in json.dumps(op)
    assert last_valid


def test_a_failed_check_keeps_the_time_of_the_last_success(admin):
    with oneroster_server() as address:
        connector = make_api_connector(admin, make_source(admin)["id"], base_url=f"{address}/ims/oneroster/v1p1",
                                       credential=oauth2(address))
        op, stored = check(admin, connector["id"])
        assert op["status"] == "succeeded" and stored["isValid"] is True
    op, after = check(admin, connector["id"])  # the server is gone
    assert op["status"] == "failed" and op["statusDetail"].startswith(
        f"The credential check failed: the token endpoint {address}/token is unreachable: ")
    assert after["isValid"] is False and after["lastValidDateTime"] == stored["lastValidDateTime"]


def test_an_unreachable_oneroster_api_is_not_valid(admin):
    base = f"http://127.0.0.1:{_closed_port()}/ims/oneroster/v1p1"
    connector = make_api_connector(admin, make_source(admin)["id"], base_url=base, credential=oauth1())
    op, stored = check(admin, connector["id"])
    assert op["status"] == "failed"
    assert op["statusDetail"].startswith(f"The credential check failed: the OneRoster API {base}/orgs?limit=1 is unreachable: ")
    assert stored["isValid"] is False and stored["lastValidDateTime"] is None


def test_credential_check_permissions_and_tenants(api, admin, sis):
    connector = make_api_connector(admin, make_source(admin)["id"], base_url=f"{sis}/ims/oneroster/v1p1",
                                   credential=oauth2(sis))
    reader = api.client("contoso", ["IndustryData-DataConnector.Read.All"])
    denied = reader.post(f"{BASE}/dataConnectors/{connector['id']}/validate")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"
    other = api.client("fabrikam")
    assert other.post(f"{BASE}/dataConnectors/{connector['id']}/validate").status_code == 404
    assert admin.get(f"{BASE}/dataConnectors/{connector['id']}").json()["credential"]["isValid"] is None, "nothing checked"
    uploader = api.client("contoso", ["IndustryData-DataConnector.Upload", "IndustryData.ReadBasic.All",
                                      "IndustryData-DataConnector.Read.All"])
    op, stored = check(uploader, connector["id"])
    assert op["status"] == "succeeded" and stored["isValid"] is True
    assert other.get(op["resourceLocation"].replace("http://testserver", "")).status_code == 404
    assert other.get(f"{BASE}/operations/{op['id']}").status_code == 404
