"""Classic API test tools: delegated and application clients of the education synchronization API, the spec's
create body, and waiting for a profile's background work."""

from __future__ import annotations

import copy
import time

from apitools import Api, Client

from homeroom.auth.registrations import create_user

PROFILES = "/beta/education/synchronizationProfiles"
PASSWORD = "correct horse battery staple"
#: The create body of the spec (§2.13, Microsoft's example), as is: a foreign namespace in its @odata.types.
SPEC_BODY = {
    "displayName": "Test Profile",
    "dataProvider": {"@odata.type": "#Microsoft.Education.DataSync.educationCsvDataProvider",
                     "customizations": {"student": {"optionalPropertiesToSync": ["State ID", "Middle Name"]}}},
    "identitySynchronizationConfiguration": {
        "@odata.type": "#Microsoft.Education.DataSync.educationIdentityCreationConfiguration",
        "userDomains": [{"appliesTo": "student", "name": "testschool.edu"}, {"appliesTo": "teacher", "name": "testschool.edu"}]},
    "licensesToAssign": [{"appliesTo": "teacher", "skuIds": ["6fd2c87f-b296-42f0-b197-1e91e994b900"]},
                         {"appliesTo": "student", "skuIds": ["6fd2c87f-b296-42f0-b197-1e91e994b900"]}],
}
ALL_DELEGATED = ["EduAdministration.Read", "EduAdministration.ReadWrite"]


def spec_body(**changes) -> dict:
    """A copy of the spec's body with some properties changed."""
    return {**copy.deepcopy(SPEC_BODY), **changes}


def delegated_client(api: Api, tenant: str = "contoso", permissions: list[str] | None = None,
                     username: str = "sds-admin@district.example") -> Client:
    """A client acting for a user (password grant) with these delegated permissions (both the app and the user hold them)."""
    permissions = ALL_DELEGATED if permissions is None else permissions
    client_id, secret = api.register(tenant, permissions)
    with api.app.state.sessions() as db:
        create_user(db=db, tenant_id=tenant, username=username, permissions=permissions, password=PASSWORD)
        db.commit()
    r = api.http.post(f"/{tenant}/oauth2/v2.0/token", data={"grant_type": "password", "client_id": client_id,
                                                            "username": username, "password": PASSWORD,
                                                            "scope": "https://graph.microsoft.com/.default"})
    assert r.status_code == 200, r.text
    return Client(tenant, client_id, secret, r.json()["access_token"], api.http)


def wait_until(check, what: str, seconds: float = 60.0):
    """Poll ``check()`` until it returns something truthy (background work of the app); its value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def provisioned(client: Client, profile_id: str) -> dict:
    """The profile once its state is provisioned."""
    def check():
        body = client.get(f"{PROFILES}/{profile_id}").json()
        assert "error" not in body, body
        return body if body["state"] == "provisioned" else None
    return wait_until(check, f"profile {profile_id} to be provisioned")


def settled(client: Client, profile_id: str) -> dict:
    """The profile's status once its synchronization is no longer in progress."""
    def check():
        body = client.get(f"{PROFILES}/{profile_id}/profileStatus").json()
        assert "error" not in body, body
        return body if body["status"] != "inProgress" else None
    return wait_until(check, f"profile {profile_id} to finish synchronizing")


PUT_HEADERS = {"x-ms-blob-type": "BlockBlob", "x-ms-version": "2023-11-03"}


def upload(client: Client, profile_id: str, folder) -> str:
    """GET the profile's uploadUrl and Put Blob every file of ``folder`` there (Azure's protocol, plainly); the URL."""
    r = client.get(f"{PROFILES}/{profile_id}/uploadUrl")
    assert r.status_code == 200, r.text
    url = r.json()["value"]
    container, _, query = url.partition("?")
    for path in sorted(folder.iterdir()):
        put = client.http.put(f"{container}/{path.name}?{query}", content=path.read_bytes(), headers=PUT_HEADERS)
        assert put.status_code == 201, put.text
    return url


def started_profile(client: Client, folder, body: dict | None = None) -> tuple[str, dict]:
    """Create a profile (the spec's body by default), wait until provisioned, upload ``folder`` and start;
    the profile id and start's answer."""
    r = client.post(PROFILES, json=body or SPEC_BODY)
    assert r.status_code == 201, r.text
    profile_id = r.json()["id"]
    provisioned(client, profile_id)
    upload(client, profile_id, folder)
    start = client.post(f"{PROFILES}/{profile_id}/start")
    assert start.status_code == 200, start.text
    return profile_id, start.json()
