"""Upload test tools: sessions (a container and its SAS URL) on a served app, and the check of an Azure error."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.etree import ElementTree

import httpx

from homeroom.uploads import session_url

MIB = 1024 * 1024
LIMITS = {"upload_max_blob_bytes": 2 * MIB, "upload_max_container_bytes": 4 * MIB, "upload_max_blobs": 4}


@dataclass
class Session:
    """An upload container and its session URL."""

    container: str
    url: str

    @property
    def sas(self) -> str:
        return self.url.partition("?")[2]

    @property
    def container_url(self) -> str:
        return self.url.partition("?")[0]

    def blob(self, name: str, extra: str = "") -> str:
        """The URL of a blob, ``extra`` query parameters first (as azure-storage-blob puts its own)."""
        return f"{self.container_url}/{name}?{extra + '&' if extra else ''}{self.sas}"

    def listing(self) -> str:
        return f"{self.container_url}?restype=container&comp=list&{self.sas}"


class LiveServer:
    """The app, served on ``base_url``."""

    def __init__(self, app, port: int):
        self.app = app
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"

    @property
    def store(self):
        return self.app.state.blob_store

    @property
    def data_dir(self) -> Path:
        return self.app.state.settings.data_dir

    def session(self, permissions: str = "racwdl", expires: datetime | None = None, container: str | None = None,
                create: bool = True) -> Session:
        container = container or str(uuid.uuid4())
        if create:
            self.store.create_container(container)
        expires = expires or datetime.now(timezone.utc) + timedelta(hours=1)
        return Session(container, session_url(self.base_url, container, expires, self.app.state.sas_key, permissions))


def assert_azure_error(response: httpx.Response, status: int, code: str) -> None:
    """An Azure Storage error: the status, ``x-ms-error-code`` and the same code in the XML body."""
    assert (response.status_code, response.headers.get("x-ms-error-code")) == (status, code), response.text
    if response.request.method != "HEAD":
        assert response.headers["content-type"].startswith("application/xml")
        assert ElementTree.fromstring(response.content).findtext("Code") == code
