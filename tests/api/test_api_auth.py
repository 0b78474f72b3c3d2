"""Tokens, permissions, tenant isolation and throttling of the Graph-compatible API."""

from __future__ import annotations

import time

import jwt
from apitools import BASE, Api, make_source
from cryptography.hazmat.primitives.asymmetric import rsa

from homeroom.auth.keys import KEY_FILE
from homeroom.settings import Settings


def _claims(api: Api, client, **changes) -> dict:
    claims = jwt.decode(client.token, options={"verify_signature": False})
    claims.update(changes)
    return claims


def _assert_graph_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["innerError"]["request-id"] == response.headers["request-id"]
    return body


def test_token_endpoint_issues_rs256_jwt_with_tenant_and_roles(api):
    client_id, secret = api.register("contoso", ["IndustryData-SourceSystem.Read.All"])
    r = api.http.post("/contoso/oauth2/v2.0/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                          "client_secret": secret, "scope": "https://graph.microsoft.com/.default"})
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "RS256"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["tid"] == "contoso" and claims["roles"] == ["IndustryData-SourceSystem.Read.All"]
    assert claims["aud"] == "https://graph.microsoft.com" and claims["azp"] == client_id


def test_token_endpoint_refuses_wrong_secret_other_tenant_and_grant(api):
    client_id, secret = api.register("contoso", ["IndustryData.ReadBasic.All"])
    wrong = api.http.post("/contoso/oauth2/v2.0/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                              "client_secret": secret + "x"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    other_tenant = api.http.post("/fabrikam/oauth2/v2.0/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                                      "client_secret": secret})
    assert other_tenant.status_code == 401 and other_tenant.json()["error"] == "invalid_client"
    grant = api.http.post("/contoso/oauth2/v2.0/token", data={"grant_type": "authorization_code", "client_id": client_id,
                                                              "client_secret": secret})
    assert grant.status_code == 400 and grant.json() == {
        "error": "unsupported_grant_type",
        "error_description": "'authorization_code'; supported: client_credentials, password, refresh_token."}
    no_user = api.http.post("/contoso/oauth2/v2.0/token", data={"grant_type": "password", "client_id": client_id})
    assert no_user.status_code == 400 and no_user.json()["error"] == "invalid_request"
    scope = api.http.post("/contoso/oauth2/v2.0/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                              "client_secret": secret, "scope": "User.Read"})
    assert scope.status_code == 400 and scope.json()["error"] == "invalid_scope"


def test_secret_is_stored_hashed_and_signing_key_is_private(api, settings):
    client_id, secret = api.register("contoso", ["IndustryData.ReadBasic.All"])
    db_bytes = (settings.data_dir / "homeroom.db").read_bytes()
    assert secret.encode() not in db_bytes
    assert (settings.data_dir / KEY_FILE).stat().st_mode & 0o777 == 0o600


def test_missing_token_is_401_with_graph_error_and_www_authenticate(api):
    r = api.http.get(f"{BASE}/sourceSystems")
    _assert_graph_error(r, 401, "InvalidAuthenticationToken")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_token_signed_with_another_key_is_refused(api, admin):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(_claims(api, admin), other_key, algorithm="RS256")
    r = api.http.get(f"{BASE}/sourceSystems", headers={"Authorization": f"Bearer {forged}"})
    body = _assert_graph_error(r, 401, "InvalidAuthenticationToken")
    assert "InvalidSignatureError" in body["error"]["message"]


def test_token_with_alg_none_is_refused(api, admin):
    forged = jwt.encode(_claims(api, admin), None, algorithm="none")
    r = api.http.get(f"{BASE}/sourceSystems", headers={"Authorization": f"Bearer {forged}"})
    _assert_graph_error(r, 401, "InvalidAuthenticationToken")


def test_token_signed_hs256_with_public_key_is_refused(api, admin):
    # The classic algorithm-confusion attack: HMAC keyed with the server's public key.
    from cryptography.hazmat.primitives import serialization

    public = api.app.state.tokens.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT"}')
    import hashlib
    import hmac
    import json
    payload = jwt.utils.base64url_encode(json.dumps(_claims(api, admin)).encode())
    signature = jwt.utils.base64url_encode(hmac.new(public, header + b"." + payload, hashlib.sha256).digest())
    forged = (header + b"." + payload + b"." + signature).decode()
    r = api.http.get(f"{BASE}/sourceSystems", headers={"Authorization": f"Bearer {forged}"})
    _assert_graph_error(r, 401, "InvalidAuthenticationToken")


def test_expired_token_is_refused(api, admin):
    tokens = api.app.state.tokens
    expired = tokens.issue(tenant_id="contoso", client_id=admin.client_id, roles=["IndustryData-SourceSystem.Read.All"],
                           now=time.time() - 7200)
    r = api.http.get(f"{BASE}/sourceSystems", headers={"Authorization": f"Bearer {expired}"})
    body = _assert_graph_error(r, 401, "InvalidAuthenticationToken")
    assert "expired" in body["error"]["message"]


def test_token_for_another_audience_is_refused(api, admin):
    key = api.app.state.tokens._key
    forged = jwt.encode(_claims(api, admin, aud="https://example.org"), key, algorithm="RS256")
    r = api.http.get(f"{BASE}/sourceSystems", headers={"Authorization": f"Bearer {forged}"})
    body = _assert_graph_error(r, 401, "InvalidAuthenticationToken")
    assert "audience" in body["error"]["message"]


def test_token_claiming_another_tenant_is_refused(api, admin):
    # Correctly signed, but the app is not registered in the tenant the token names.
    key = api.app.state.tokens._key
    tokens = api.app.state.tokens
    forged = jwt.encode(_claims(api, admin, tid="fabrikam", iss=tokens.issuer("fabrikam")), key, algorithm="RS256")
    r = api.http.get(f"{BASE}/sourceSystems", headers={"Authorization": f"Bearer {forged}"})
    _assert_graph_error(r, 401, "InvalidAuthenticationToken")
    mismatched_issuer = jwt.encode(_claims(api, admin, iss=tokens.issuer("fabrikam")), key, algorithm="RS256")
    r = api.http.get(f"{BASE}/sourceSystems", headers={"Authorization": f"Bearer {mismatched_issuer}"})
    _assert_graph_error(r, 401, "InvalidAuthenticationToken")


def test_token_cannot_add_permissions_the_app_does_not_hold(api):
    reader = api.client("contoso", ["IndustryData-SourceSystem.Read.All"])
    key = api.app.state.tokens._key
    forged = jwt.encode(_claims(api, reader, roles=["IndustryData-SourceSystem.ReadWrite.All"]), key, algorithm="RS256")
    r = api.http.post(f"{BASE}/sourceSystems", json={"displayName": "x"}, headers={"Authorization": f"Bearer {forged}"})
    _assert_graph_error(r, 403, "Authorization_RequestDenied")


def test_read_permission_allows_reading_and_refuses_writing(api):
    reader = api.client("contoso", ["IndustryData-SourceSystem.Read.All"])
    assert reader.get(f"{BASE}/sourceSystems").status_code == 200
    r = reader.post(f"{BASE}/sourceSystems", json={"displayName": "SIS"})
    body = _assert_graph_error(r, 403, "Authorization_RequestDenied")
    assert "IndustryData-SourceSystem.ReadWrite.All" in body["error"]["message"]


def test_each_collection_needs_its_own_permission(api):
    cases = {
        "sourceSystems": "IndustryData-SourceSystem.Read.All", "years": "IndustryData-TimePeriod.Read.All",
        "dataConnectors": "IndustryData-DataConnector.Read.All", "inboundFlows": "IndustryData-InboundFlow.Read.All",
        "referenceDefinitions": "IndustryData-ReferenceDefinition.Read.All", "roleGroups": "IndustryData.ReadBasic.All",
        "runs": "IndustryData-Run.Read.All",
    }
    for collection, permission in cases.items():
        allowed = api.client("contoso", [permission])
        assert allowed.get(f"{BASE}/{collection}").status_code == 200, collection
        others = [p for p in cases.values() if p != permission and not (collection == "referenceDefinitions" and p == "IndustryData.ReadBasic.All")]
        refused = api.client("contoso", others)
        _assert_graph_error(refused.get(f"{BASE}/{collection}"), 403, "Authorization_RequestDenied")


def test_write_permissions_per_collection(api):
    writes = {
        "sourceSystems": ("IndustryData-SourceSystem.ReadWrite.All", {"displayName": "SIS"}),
        "years": ("IndustryData-TimePeriod.ReadWrite.All",
                  {"displayName": "Y", "startDate": "2025-08-01", "endDate": "2026-07-31", "year": {"code": "2026"}}),
        "referenceDefinitions": ("IndustryData-ReferenceDefinition.ReadWrite.All",
                                 {"referenceType": "RefGradeLevel", "code": "G13", "isDisabled": False, "sortIndex": 9999}),
    }
    for collection, (permission, body) in writes.items():
        read_only = api.client("contoso", [permission.replace("ReadWrite", "Read")])
        _assert_graph_error(read_only.post(f"{BASE}/{collection}", json=body), 403, "Authorization_RequestDenied")
        writer = api.client("contoso", [permission])
        assert writer.post(f"{BASE}/{collection}", json=body).status_code == 201, collection


def test_another_tenants_ids_answer_404(api, admin):
    source = make_source(admin)
    other = api.client("fabrikam")
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"vendor": "x"}} if method == "patch" else {}
        r = getattr(other, method)(f"{BASE}/sourceSystems/{source['id']}", **kwargs)
        _assert_graph_error(r, 404, "ResourceNotFound")
    assert other.get(f"{BASE}/sourceSystems").json()["value"] == []
    assert admin.get(f"{BASE}/sourceSystems/{source['id']}").status_code == 200


def test_another_tenants_source_system_cannot_be_bound(api, admin):
    source = make_source(admin)
    other = api.client("fabrikam")
    r = other.post(f"{BASE}/dataConnectors", json={
        "@odata.type": "#microsoft.graph.industryData.azureDataLakeConnector", "displayName": "c",
        "sourceSystem@odata.bind": f"{BASE}/sourceSystems/{source['id']}"})
    body = _assert_graph_error(r, 400, "BadRequest")
    assert "sourceSystem@odata.bind" in body["error"]["message"]


def test_reference_changes_are_per_tenant(api, admin):
    assert admin.delete(f"{BASE}/referenceDefinitions/RefGradeLevel-01").status_code == 204
    other = api.client("fabrikam")
    assert other.get(f"{BASE}/referenceDefinitions/RefGradeLevel-01").json()["isDisabled"] is False
    assert admin.get(f"{BASE}/referenceDefinitions/RefGradeLevel-01").json()["isDisabled"] is True


def test_throttling_answers_429_with_retry_after(tmp_path):
    api = Api(Settings(data_dir=tmp_path / "d", api_throttle_calls=3, api_throttle_window_seconds=60))
    client = api.client("contoso")
    for _ in range(3):
        assert client.get(f"{BASE}/roleGroups").status_code == 200
    r = client.get(f"{BASE}/roleGroups")
    _assert_graph_error(r, 429, "TooManyRequests")
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # Another client of the same tenant has its own budget.
    assert api.client("contoso").get(f"{BASE}/roleGroups").status_code == 200


def test_throttle_window_slides():
    from homeroom.api.errors import Throttled
    from homeroom.api.throttle import Throttle

    now = [0.0]
    throttle = Throttle(2, 10, clock=lambda: now[0])
    throttle.check("t", "c")
    throttle.check("t", "c")
    try:
        throttle.check("t", "c")
        raise AssertionError("expected Throttled")
    except Throttled as exc:
        assert exc.headers == {"Retry-After": "10"}
    now[0] = 10.5
    throttle.check("t", "c")
