"""Delegated tokens: the password and refresh-token grants, ``scp`` permissions, revocation and forgery."""

from __future__ import annotations

import json

import jwt
from apitools import BASE, Api, make_file_connector, make_source

from homeroom.auth.registrations import create_user
from homeroom.store.models import User

APP_PERMISSIONS = ["IndustryData-DataConnector.Upload", "IndustryData-Run.Read.All", "IndustryData-Run.Start",
                   "IndustryData-SourceSystem.Read.All"]
USER_PERMISSIONS = ["IndustryData-DataConnector.Upload", "IndustryData-Run.Start", "IndustryData-TimePeriod.Read.All"]
PASSWORD = "correct horse battery staple"


def _setup(api: Api, tenant: str = "contoso") -> tuple[str, str]:
    client_id, secret = api.register(tenant, APP_PERMISSIONS)
    with api.app.state.sessions() as db:
        create_user(db=db, tenant_id=tenant, username="it-admin@district.example", permissions=USER_PERMISSIONS, password=PASSWORD)
        db.commit()
    return client_id, secret


def _token(api: Api, tenant: str = "contoso", **form):
    return api.http.post(f"/{tenant}/oauth2/v2.0/token", data=form)


def _password(api: Api, client_id: str, scope: str = "https://graph.microsoft.com/.default", **extra):
    return _token(api, grant_type="password", client_id=client_id, username="IT-Admin@district.example",
                  password=PASSWORD, scope=scope, **extra)


def test_the_password_grant_gives_the_permissions_both_the_user_and_the_app_hold(api):
    client_id, _ = _setup(api)
    r = _password(api, client_id)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "IndustryData-DataConnector.Upload IndustryData-Run.Start"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (claims["idtyp"], claims["scp"], claims["upn"], claims["azp"]) == (
        "user", "IndustryData-DataConnector.Upload IndustryData-Run.Start", "it-admin@district.example", client_id)
    assert "roles" not in claims
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert api.http.get(f"{BASE}/runs", headers=headers).status_code == 200, "Run.Start also reads runs (spec §1.13.4)"
    assert api.http.get(f"{BASE}/sourceSystems", headers=headers).status_code == 403, "nor SourceSystem.Read.All"
    assert api.http.get(f"{BASE}/years", headers=headers).status_code == 403, "the app does not hold TimePeriod.Read.All"
    assert api.http.post(f"{BASE}/runs/start", headers=headers).json()["error"]["code"] == "NothingToRun", "Run.Start works"

    narrow = _password(api, client_id, scope="openid offline_access https://graph.microsoft.com/IndustryData-Run.Start")
    assert narrow.json()["scope"] == "IndustryData-Run.Start"


def test_delegated_refusals(api):
    client_id, secret = _setup(api)
    bad = _token(api, grant_type="password", client_id=client_id, username="it-admin@district.example", password="wrong password!")
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid_grant",
                                                   "error_description": "the user name or password is incorrect."})
    unknown = _token(api, grant_type="password", client_id=client_id, username="nobody@district.example", password=PASSWORD)
    assert unknown.json() == bad.json(), "an unknown user and a wrong password look the same"
    assert _password(api, client_id, client_secret="not the secret").status_code == 401
    assert _password(api, client_id, client_secret=secret).status_code == 200
    scope = _password(api, client_id, scope="IndustryData-OutboundFlow.ReadWrite.All")
    assert (scope.status_code, scope.json()["error"]) == (400, "invalid_scope")
    assert _password(api, client_id, scope="User.Read.All").json()["error_description"] == (
        "'User.Read.All' is not a permission of industryData or the education API.")
    other_tenant = _password(api, client_id).json()["access_token"]
    assert _token(api, "fabrikam", grant_type="password", client_id=client_id, username="it-admin@district.example",
                  password=PASSWORD).status_code == 401, "the client is not registered in another tenant"
    assert jwt.decode(other_tenant, options={"verify_signature": False})["tid"] == "contoso"
    grant = _token(api, grant_type="device_code", client_id=client_id)
    assert grant.json()["error"] == "unsupported_grant_type"


def test_refresh_tokens_renew_never_widen_and_are_not_access_tokens(api):
    client_id, _ = _setup(api)
    first = _password(api, client_id, scope="IndustryData-Run.Start offline_access").json()
    renewed = _token(api, grant_type="refresh_token", client_id=client_id, refresh_token=first["refresh_token"])
    assert renewed.status_code == 200 and renewed.json()["scope"] == "IndustryData-Run.Start"
    wider = _token(api, grant_type="refresh_token", client_id=client_id, refresh_token=first["refresh_token"],
                   scope="IndustryData-DataConnector.Upload")
    assert wider.json()["error"] == "invalid_scope", "a refresh cannot add a permission the first grant did not have"

    as_access = api.http.get(f"{BASE}/runs", headers={"Authorization": f"Bearer {first['refresh_token']}"})
    assert as_access.status_code == 401 and as_access.json()["error"]["message"] == "Access token has an invalid audience."
    as_refresh = _token(api, grant_type="refresh_token", client_id=client_id, refresh_token=first["access_token"])
    assert as_refresh.json()["error_description"] == "the refresh token is not valid (InvalidAudienceError)."
    other_client, _ = api.register("contoso", APP_PERMISSIONS)
    stolen = _token(api, grant_type="refresh_token", client_id=other_client, refresh_token=first["refresh_token"])
    assert stolen.json()["error_description"] == "the refresh token was issued to another client."
    forged = jwt.encode({**jwt.decode(first["refresh_token"], options={"verify_signature": False}), "scp": "IndustryData-Run.Start"},
                        "secret", algorithm="HS256")
    assert _token(api, grant_type="refresh_token", client_id=client_id, refresh_token=forged).json()["error"] == "invalid_grant"


def test_disabling_a_user_or_revoking_a_permission_takes_effect_at_once(api, admin):
    client_id, _ = _setup(api)
    connector = make_file_connector(admin, make_source(admin)["id"])
    token = _password(api, client_id).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    path = f"{BASE}/dataConnectors/{connector['id']}/getUploadSession"
    assert api.http.get(path, headers=headers).status_code == 200
    with api.app.state.sessions.begin() as db:
        user = db.query(User).one()
        user.permissions = ["IndustryData-Run.Start"]
    assert api.http.get(path, headers=headers).status_code == 403
    with api.app.state.sessions.begin() as db:
        db.query(User).one().disabled = True
    assert api.http.get(f"{BASE}/runs", headers=headers).json()["error"]["message"] == (
        "Access token's user no longer exists or is disabled.")
    assert _token(api, grant_type="refresh_token", client_id=client_id,
                  refresh_token=token["refresh_token"]).json()["error"] == "invalid_grant"


def test_common_tenant_and_entras_v1_endpoint_as_the_sds_connector_calls_them(api):
    client_id, secret = _setup(api)
    common = _token(api, "common", grant_type="password", client_id=client_id, username="it-admin@district.example",
                    password=PASSWORD, scope="IndustryData-Run.Start")
    assert common.status_code == 200, common.text
    assert jwt.decode(common.json()["access_token"], options={"verify_signature": False})["tid"] == "contoso"
    v1 = api.http.post("/common/oauth2/token", data={"grant_type": "password", "client_id": client_id, "resource": "https://graph.microsoft.com",
                                                      "username": "it-admin@district.example", "password": PASSWORD})
    assert v1.status_code == 200, v1.text
    body = v1.json()
    assert body["resource"] == "https://graph.microsoft.com" and int(body["expires_on"]) > int(body["not_before"])
    assert body["scope"] == "IndustryData-DataConnector.Upload IndustryData-Run.Start"
    apps = api.http.post("/contoso/oauth2/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                        "client_secret": secret, "resource": "https://graph.microsoft.com/"})
    assert apps.status_code == 200 and "roles" in jwt.decode(apps.json()["access_token"], options={"verify_signature": False})
    other = api.http.post("/contoso/oauth2/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                         "client_secret": secret, "resource": "https://management.azure.com"})
    assert (other.status_code, other.json()["error"]) == (400, "invalid_resource")
    unknown = _token(api, "organizations", grant_type="client_credentials", client_id="00000000-0000-0000-0000-000000000000",
                     client_secret="x")
    assert (unknown.status_code, unknown.json()["error"]) == (401, "invalid_client")
    assert api.http.post("/fabrikam/oauth2/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                         "client_secret": secret}).status_code == 401, "not fabrikam's app"


def test_reserved_tenant_names_are_refused(api):
    import pytest

    from homeroom.errors import ConfigurationError

    with api.app.state.sessions() as db, pytest.raises(ConfigurationError, match="'common' cannot name a tenant"):
        create_user(db=db, tenant_id="common", username="x@y", permissions=USER_PERMISSIONS)
