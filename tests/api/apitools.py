"""API test tools: an app on a temporary data folder, registered clients and their tokens, fixture builders."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import uvicorn

from fastapi.testclient import TestClient

from homeroom.api import create_app
from homeroom.auth.permissions import PERMISSIONS
from homeroom.auth.registrations import create_app_registration
from homeroom.settings import Settings

BASE = "/beta/external/industryData"


@dataclass
class Client:
    """A registered app: its tenant, client id, secret and an authorised HTTP client."""

    tenant: str
    client_id: str
    secret: str
    token: str
    http: TestClient

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _headers(self, kw: dict) -> dict:
        return {**self.headers, **kw.pop("headers", {})}

    def get(self, path: str, **kw):
        return self.http.get(path, headers=self._headers(kw), **kw)

    def post(self, path: str, json=None, **kw):
        return self.http.post(path, json=json, headers=self._headers(kw), **kw)

    def patch(self, path: str, json=None, **kw):
        return self.http.patch(path, json=json, headers=self._headers(kw), **kw)

    def delete(self, path: str, **kw):
        return self.http.delete(path, headers=self._headers(kw), **kw)


class Api:
    """The application under test, and a factory of registered clients."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.app = create_app(settings)
        self.http = TestClient(self.app)

    def register(self, tenant: str, permissions: list[str]) -> tuple[str, str]:
        with self.app.state.sessions() as db:
            registration, secret = create_app_registration(db=db, tenant_id=tenant, display_name="test", permissions=permissions)
            db.commit()
        return registration.id, secret

    def client(self, tenant: str = "contoso", permissions: list[str] | None = None) -> Client:
        client_id, secret = self.register(tenant, sorted(PERMISSIONS) if permissions is None else permissions)
        response = self.http.post(f"/{tenant}/oauth2/v2.0/token", data={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
            "scope": "https://graph.microsoft.com/.default"})
        assert response.status_code == 200, response.text
        return Client(tenant, client_id, secret, response.json()["access_token"], self.http)


def make_source(client: Client, name: str = "SIS") -> dict:
    r = client.post(f"{BASE}/sourceSystems", json={"displayName": name})
    assert r.status_code == 201, r.text
    return r.json()


def make_year(client: Client, code: str = "2026") -> dict:
    r = client.post(f"{BASE}/years", json={"displayName": f"Year {code}", "startDate": f"{int(code) - 1}-08-01",
                                           "endDate": f"{code}-07-31", "year": {"code": code}})
    assert r.status_code == 201, r.text
    return r.json()


def make_file_connector(client: Client, source_id: str, name: str = "CSV connector") -> dict:
    r = client.post(f"{BASE}/dataConnectors", json={
        "@odata.type": "#microsoft.graph.industryData.azureDataLakeConnector", "displayName": name,
        "sourceSystem@odata.bind": f"https://graph.microsoft.com/beta/external/industryData/sourceSystems('{source_id}')",
        "fileFormat": {"@odata.type": "microsoft.graph.industryData.fileFormatReferenceValue", "code": "schoolDataSyncV2Rev1"}})
    assert r.status_code == 201, r.text
    return r.json()


def make_api_connector(client: Client, source_id: str, base_url: str = "https://sis.example/ims/oneroster/v1p1",
                       credential: dict | None = None, name: str = "API") -> dict:
    """A OneRoster API connector (an OAuth 2 client-credentials credential unless ``credential`` is given)."""
    r = client.post(f"{BASE}/dataConnectors", json={
        "@odata.type": "#microsoft.graph.industryData.oneRosterApiDataConnector", "displayName": name,
        "sourceSystem@odata.bind": f"{BASE}/sourceSystems/{source_id}", "apiFormat": "oneRoster",
        "baseUrl": base_url, "apiVersion": "1.1", "isDemographicsEnabled": False,
        "isFlagsEnabled": False, "isContactsEnabled": False,
        "credential": credential or {"@odata.type": "#microsoft.graph.industryData.oAuth2ClientCredential", "displayName": "c",
                                     "clientId": "id", "clientSecret": "s", "tokenUrl": "https://sis.example/token"}})
    assert r.status_code == 201, r.text
    return r.json()


@contextmanager
def live_server(api: Api) -> Iterator[int]:
    """The app under uvicorn on 127.0.0.1:<free port> in a thread (for clients that need real HTTP); yields the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(api.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    assert server.started
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
