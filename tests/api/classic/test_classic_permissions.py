"""Who may call what (spec §2.14): delegated EduAdministration.Read/ReadWrite, application .Read.All/.ReadWrite.All,
application tokens refused where the docs list no application permission; and every tenant sees only its own."""

from __future__ import annotations

from classictools import PROFILES, SPEC_BODY, delegated_client, provisioned, settled, upload
from tests.inbound.sds_v1_packages import V1Package


def _status(client, method: str, path: str, json=None) -> int:
    return client.http.request(method, path, headers=client.headers, json=json).status_code


def test_application_tokens_read_and_synchronize_but_never_list_create_or_upload(api, tmp_path):
    admin = delegated_client(api)
    profile_id = admin.post(PROFILES, json=SPEC_BODY).json()["id"]
    provisioned(admin, profile_id)
    app = api.client("contoso", ["EduAdministration.ReadWrite.All"])
    refused = [("GET", PROFILES), ("GET", f"{PROFILES}/$count"), ("POST", PROFILES), ("PUT", PROFILES),
               ("PATCH", f"{PROFILES}/{profile_id}"), ("DELETE", f"{PROFILES}/{profile_id}"),
               ("GET", f"{PROFILES}/{profile_id}/uploadUrl"), ("POST", f"{PROFILES}/{profile_id}/resume")]
    for method, path in refused:
        r = app.http.request(method, path, headers=app.headers, json=SPEC_BODY if method in ("POST", "PUT", "PATCH") and "resume" not in path else None)
        assert r.status_code == 403, (method, path, r.text)
    r = app.get(PROFILES)
    assert r.json()["error"]["message"] == (
        "Missing permission: this operation requires one of EduAdministration.Read, EduAdministration.ReadWrite, which an "
        "application token cannot carry; call it with a delegated (user) token.")
    for path in ("", "/profileStatus", "/errors", "/errors/$count"):
        assert app.get(f"{PROFILES}/{profile_id}{path}").status_code == 200, path
    upload(admin, profile_id, V1Package(tmp_path / "package").root)
    assert app.post(f"{PROFILES}/{profile_id}/start").status_code == 200, "start takes EduAdministration.ReadWrite.All"
    assert settled(app, profile_id)["status"] == "success"
    assert app.post(f"{PROFILES}/{profile_id}/pause").status_code == 200
    assert app.post(f"{PROFILES}/{profile_id}/reset").status_code == 200
    reader = api.client("contoso", ["EduAdministration.Read.All"])
    assert reader.get(f"{PROFILES}/{profile_id}").status_code == 200
    assert [_status(reader, "POST", f"{PROFILES}/{profile_id}/{a}") for a in ("start", "pause", "reset")] == [403, 403, 403]


def test_delegated_permissions_are_honoured_only_in_delegated_tokens(api):
    # An app granted a delegated permission does not carry it in its own (client credentials) token, and a user's
    # token never carries an application permission.
    app = api.client("contoso", ["EduAdministration.ReadWrite", "EduAdministration.Read.All"])
    import jwt
    assert jwt.decode(app.token, options={"verify_signature": False})["roles"] == ["EduAdministration.Read.All"]
    assert app.post(PROFILES, json=SPEC_BODY).status_code == 403
    user = delegated_client(api, permissions=["EduAdministration.ReadWrite", "EduAdministration.ReadWrite.All"])
    assert jwt.decode(user.token, options={"verify_signature": False})["scp"] == "EduAdministration.ReadWrite"
    assert user.post(PROFILES, json=SPEC_BODY).status_code == 201
    reader = delegated_client(api, permissions=["EduAdministration.Read"], username="reader@district.example")
    assert reader.get(PROFILES).status_code == 200
    assert reader.post(PROFILES, json=SPEC_BODY).json()["error"]["message"] == (
        "Missing permission: this operation requires one of EduAdministration.ReadWrite.")
    industry = api.client("contoso", ["IndustryData-Run.Start"])
    assert industry.get(f"{PROFILES}/anything").status_code == 403, "industryData permissions grant nothing here"
    assert api.http.get(PROFILES).status_code == 401


def test_a_tenant_sees_and_touches_only_its_own_profiles(api, tmp_path):
    contoso = delegated_client(api, "contoso")
    fabrikam = delegated_client(api, "fabrikam")
    mine = contoso.post(PROFILES, json=SPEC_BODY).json()["id"]
    provisioned(contoso, mine)
    theirs = fabrikam.post(PROFILES, json={**SPEC_BODY, "displayName": "Fabrikam"}).json()["id"]
    provisioned(fabrikam, theirs)
    assert [p["id"] for p in contoso.get(PROFILES).json()["value"]] == [mine]
    assert [p["id"] for p in fabrikam.get(PROFILES).json()["value"]] == [theirs]
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/profileStatus"), ("GET", "/errors"),
                           ("GET", "/uploadUrl"), ("POST", "/start"), ("POST", "/pause"), ("POST", "/resume"), ("POST", "/reset")):
        r = fabrikam.http.request(method, f"{PROFILES}/{mine}{suffix}", headers=fabrikam.headers,
                                  json={"displayName": "x"} if method == "PATCH" else None)
        assert r.status_code == 404, (method, suffix, r.text)
    put = fabrikam.http.put(PROFILES, headers=fabrikam.headers, json={**SPEC_BODY, "id": mine})
    assert put.status_code == 404
    # An upload URL is signed for one container: another profile's container refuses it.
    url = upload(contoso, mine, V1Package(tmp_path / "package").root)
    other = fabrikam.get(f"{PROFILES}/{theirs}/uploadUrl").json()["value"]
    container, _, query = url.partition("?")
    forged = fabrikam.http.put(f"{other.partition('?')[0]}/School.csv?{query}", content=b"SIS ID,Name\r\n",
                               headers={"x-ms-blob-type": "BlockBlob"})
    assert forged.status_code == 403
    assert contoso.get(f"{PROFILES}/{mine}").json()["displayName"] == "Test Profile"
