"""Tokens from an external OpenID Connect issuer, verified against its JWKS (HOMEROOM_API_OIDC_ISSUERS)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from apitools import BASE, Api
from cryptography.hazmat.primitives.asymmetric import rsa

from homeroom.settings import Settings

ISSUER = "https://idp.example.org/realms/schools"
AUDIENCE = "api://homeroom"


@pytest.fixture(scope="module")
def idp():
    """A JWKS endpoint on loopback serving one RSA key (kid 'k1'), and that key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield key, f"http://127.0.0.1:{server.server_address[1]}/jwks"
    server.shutdown()


def _token(key, **changes) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, "tid": "district-9", "azp": "script",
              "roles": ["IndustryData-SourceSystem.ReadWrite.All", "Not.A.Permission"], **changes}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def api(tmp_path, idp) -> Api:
    _, jwks = idp
    return Api(Settings(data_dir=tmp_path / "data", api_oidc_issuers=[{"issuer": ISSUER, "jwks_uri": jwks, "audience": AUDIENCE}]))


def test_external_token_acts_in_its_tenant_with_its_roles(api, idp):
    key, _ = idp
    headers = {"Authorization": f"Bearer {_token(key)}"}
    created = api.http.post(f"{BASE}/sourceSystems", json={"displayName": "From the IdP"}, headers=headers)
    assert created.status_code == 201, created.text
    assert api.http.get(f"{BASE}/years", headers=headers).status_code == 403
    # Homeroom's own clients of another tenant do not see it.
    assert api.client("contoso").get(f"{BASE}/sourceSystems/{created.json()['id']}").status_code == 404


def test_external_token_with_wrong_key_audience_expiry_or_alg_is_refused(api, idp):
    key, _ = idp
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = {
        "wrong key": _token(other),
        "wrong audience": _token(key, aud="api://someone-else"),
        "expired": _token(key, iat=now - 7200, exp=now - 3600),
        "unknown kid": jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, "tid": "t"}, key,
                                  algorithm="RS256", headers={"kid": "k2"}),
        "alg none": jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, "tid": "t"}, None, algorithm="none"),
        "no tenant": _token(key, tid=None),
    }
    for name, token in forged.items():
        r = api.http.get(f"{BASE}/sourceSystems", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, name
        assert r.json()["error"]["code"] == "InvalidAuthenticationToken", name


def test_issuer_entry_needs_its_fields(tmp_path):
    from homeroom.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="lacks jwks_uri, audience"):
        Api(Settings(data_dir=tmp_path / "data", api_oidc_issuers=[{"issuer": ISSUER}]))


def test_an_external_tid_that_is_not_a_tenant_id_is_refused_and_makes_no_tenant(api, idp):
    """A tid names folders of the lake: '..', '.', paths and reserved names never become tenants."""
    from homeroom.store.models import Tenant

    key, _ = idp
    for tid in ("..", ".", "../x", "a/b", "common", "x" * 65):
        r = api.http.get(f"{BASE}/sourceSystems", headers={"Authorization": f"Bearer {_token(key, tid=tid)}"})
        assert (r.status_code, r.json()["error"]["code"]) == (401, "InvalidAuthenticationToken"), tid
        assert r.json()["error"]["message"] == "Access token's 'tid' claim is not a tenant id Homeroom accepts.", tid
    with api.app.state.sessions() as db:
        assert db.query(Tenant).filter(Tenant.id.in_(["..", ".", "common"])).count() == 0
