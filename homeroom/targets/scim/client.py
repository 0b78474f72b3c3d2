"""Connecting to a SCIM service with scim2-client (its httpx2 engine) and checking the connection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from httpx2 import Client
from scim2_client import SCIMClientException
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import SCIMException

from homeroom.errors import ExternalError, PermanentError, TransientError
from homeroom.targets.scim.config import Config


class ScimTarget:
    """An open connection to one SCIM service."""

    kind = "scim"

    def __init__(self, name: str, config: Config, secrets: Mapping[str, str]):
        self.name, self.config = name, config
        headers = {"Accept": "application/scim+json"}
        if token := secrets.get("bearer_token"):
            headers["Authorization"] = f"Bearer {token}"
        self.http = Client(base_url=config.base_url, headers=headers, timeout=config.timeout_seconds, verify=config.verify_tls)
        self.scim = SyncSCIMClient(self.http)
        self._discovered = False

    def models(self) -> tuple[Any, Any]:
        """The service's User and Group models (discovered once)."""
        if not self._discovered:
            with self.errors("read its schemas"):
                self.scim.discover()
            self._discovered = True
        return self.scim.get_resource_model("User"), self.scim.get_resource_model("Group")

    def errors(self, doing: str):
        """A context turning scim2-client's exceptions into Homeroom's, naming the target and what to fix."""
        return _Errors(self, doing)

    def check(self) -> None:
        """Discover the service and list one user."""
        from homeroom.targets.scim.reader import read_page

        user, _group = self.models()
        if user is None:
            raise PermanentError(f"SCIM target {self.name!r} at {self.config.base_url} has no User resource type; check base_url")
        read_page(self, user, 1, 1)

    def read_accounts(self, page_size: int = 1000):
        from homeroom.targets.scim.reader import read_accounts

        return read_accounts(self, page_size)

    def read_groups(self, page_size: int = 1000):
        from homeroom.targets.scim.reader import read_groups

        return read_groups(self, page_size)

    def close(self) -> None:
        self.http.close()


class _Errors:
    def __init__(self, target: ScimTarget, doing: str):
        self.target, self.doing = target, doing

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or isinstance(exc, ExternalError):
            return False
        where = f"SCIM target {self.target.name!r} ({self.target.config.base_url})"
        status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
        text = str(exc) + "".join(f" {n}" for n in getattr(exc, "__notes__", []))
        if isinstance(exc, SCIMException) and type(exc).__name__ == "UnauthorizedException" or status == 401:
            raise PermanentError(f"{where} refused the bearer token (401) when asked to {self.doing}; set a valid bearer_token "
                                 "(homeroom targets add ... --secret bearer_token)") from None
        if status == 403:
            raise PermanentError(f"{where} forbids this token to {self.doing} (403); give its client read access to Users and Groups") from None
        if status in (429, 503):
            raise TransientError(f"{where} is busy ({status}) when asked to {self.doing}; try again later") from None
        if isinstance(exc, SCIMClientException) and type(exc).__name__ == "RequestNetworkException":
            raise TransientError(f"{where} cannot be reached to {self.doing} ({text.strip()}); check base_url and that the service is up") from None
        if isinstance(exc, (SCIMException, SCIMClientException)):
            raise PermanentError(f"{where} failed to {self.doing}: {text.strip()}") from None
        return False


def open_target(name: str, config: Config, secrets: Mapping[str, str]) -> ScimTarget:
    """A connection to the SCIM target ``name``."""
    return ScimTarget(name, config, secrets)
