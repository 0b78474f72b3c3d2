"""Microsoft Graph over httpx: a client-credentials token, paging by ``@odata.nextLink``, 429/503 with
``Retry-After`` honoured (exponential backoff when it is missing), errors that name the target and what to fix."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping

import httpx

from homeroom.errors import ExternalError, PermanentError, TransientError
from homeroom.targets.entra.config import Config

SCOPE = "https://graph.microsoft.com/.default"
#: Graph permissions each read needs, for the message of a 403.
NEEDS = {"/users": "User.Read.All", "/groups": "GroupMember.Read.All", "/education": "EduRoster.Read.All",
         "/directory/administrativeUnits": "AdministrativeUnit.Read.All"}


class EntraTarget:
    """An open connection to one Entra tenant through Microsoft Graph."""

    kind = "entra"

    def __init__(self, name: str, config: Config, secrets: Mapping[str, str], *, state: dict | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.name, self.config, self._secret = name, config, secrets.get("client_secret") or ""
        self.http = httpx.Client(timeout=config.timeout_seconds)
        self._token: str | None = None
        self._token_expires = 0.0
        self.sleep = sleep
        #: What the target keeps between snapshots: ``usersDeltaLink``, stored with the target.
        self.state: dict = dict(state or {})

    def _where(self) -> str:
        return f"Entra target {self.name!r} (tenant {self.config.tenant_id})"

    def token(self) -> str:
        """An app-only access token (client credentials), cached until shortly before it expires."""
        if self._token and time.monotonic() < self._token_expires:
            return self._token
        url = f"{self.config.authority_url}/{self.config.tenant_id}/oauth2/v2.0/token"
        try:
            response = self.http.post(url, data={"grant_type": "client_credentials", "client_id": self.config.client_id,
                                                 "client_secret": self._secret, "scope": SCOPE})
        except httpx.TransportError as exc:
            raise TransientError(f"{self._where()}: cannot reach {self.config.authority_url} to sign in ({exc}); "
                                 "check authority_url and the network") from None
        if response.status_code != 200:
            body = _json(response)
            description = (body.get("error_description") or "").split("\r\n")[0] or response.reason_phrase
            if body.get("error") in ("invalid_client", "unauthorized_client") or response.status_code == 401:
                raise PermanentError(f"{self._where()} refused the app's credentials ({body.get('error', response.status_code)}: "
                                     f"{description}); check client_id and set a valid client_secret") from None
            raise PermanentError(f"{self._where()}: sign-in failed ({response.status_code}: {description}); check tenant_id") from None
        body = response.json()
        self._token = body["access_token"]
        self._token_expires = time.monotonic() + max(float(body.get("expires_in", 3600)) - 120, 30)
        return self._token

    def get(self, url: str, params: dict | None = None) -> dict:
        """One Graph GET (a path under graph_url, or a full nextLink/deltaLink), retried when throttled."""
        return self.send("GET", url, params=params)

    def send(self, method: str, url: str, *, params: dict | None = None, body: dict | None = None) -> dict:
        """One Graph request, retried when throttled (429/503/504, as ``Retry-After`` says); the answer's JSON ({} for 204)."""
        full = url if url.startswith("http") else f"{self.config.graph_url}{url}"
        for attempt in range(self.config.max_retries + 1):
            try:
                response = self.http.request(method, full, params=params, json=body, headers={
                    "Authorization": f"Bearer {self.token()}", "ConsistencyLevel": "eventual"})
            except httpx.TransportError as exc:
                raise TransientError(f"{self._where()}: cannot reach {self.config.graph_url} ({exc}); check graph_url and the network") from None
            if response.status_code in (429, 503, 504) and attempt < self.config.max_retries:
                self.sleep(_retry_after(response, attempt))
                continue
            if response.status_code < 300:
                return response.json() if response.content else {}
            self._raise(response, url, method)
        raise AssertionError("unreachable")

    def _raise(self, response: httpx.Response, url: str, method: str = "GET") -> None:
        error = _json(response).get("error") or {}
        code, message = error.get("code", response.status_code), error.get("message", response.reason_phrase)
        path = url.split("?")[0].removeprefix(self.config.graph_url)
        if response.status_code in (429, 503, 504):
            raise TransientError(f"{self._where()} is still throttling {path} after {self.config.max_retries} retries; "
                                 "try again later", retry_after=_retry_after(response, 0))
        if response.status_code == 401:
            self._token = None
            raise PermanentError(f"{self._where()} refused the token for {path} ({code}: {message}); check the app registration")
        if response.status_code == 403:
            needed = next((p for prefix, p in NEEDS.items() if path.startswith(prefix)), "the read permissions")
            if method != "GET":
                needed = needed.replace(".Read.All", ".ReadWrite.All")
            raise PermanentError(f"{self._where()} may not {'read' if method == 'GET' else 'write'} {path} ({code}: {message}); "
                                 f"grant the app the application permission {needed} with admin consent")
        raise ExternalError(f"{self._where()}: {method} {path} failed ({response.status_code} {code}: {message})")

    def pages(self, path: str, params: dict | None = None) -> Iterator[tuple[list[dict], dict]]:
        """Every page of a collection, following ``@odata.nextLink``; yields (items, the page's body)."""
        body = self.get(path, params)
        while True:
            yield body.get("value") or [], body
            link = body.get("@odata.nextLink")
            if not link:
                return
            body = self.get(link)

    def check(self) -> None:
        """Sign in and read one user (and one class, one unit, when those are read)."""
        self.get("/users", {"$select": "id", "$top": "1"})
        self.get("/groups", {"$select": "id", "$top": "1"})
        if self.config.read_classes:
            self.get("/education/classes", {"$select": "id", "$top": "1"})
        if self.config.read_units:
            self.get("/directory/administrativeUnits", {"$select": "id", "$top": "1"})

    def read_accounts(self, page_size: int = 999):
        from homeroom.targets.entra.reader import read_accounts

        return read_accounts(self, page_size)

    def read_account_changes(self, page_size: int = 999):
        from homeroom.targets.entra.reader import read_account_changes

        return read_account_changes(self, page_size)

    def read_groups(self, page_size: int = 999):
        from homeroom.targets.entra.reader import read_groups

        return read_groups(self, page_size)

    def close(self) -> None:
        self.http.close()


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait: Retry-After when Graph gave it (capped at 5 minutes), else 1, 2, 4, ... seconds."""
    try:
        return min(max(float(response.headers["Retry-After"]), 0.0), 300.0)
    except (KeyError, ValueError):
        return float(min(2 ** attempt, 60))


def open_target(name: str, config: Config, secrets: Mapping[str, str], state: dict | None = None) -> EntraTarget:
    """A connection to the Entra target ``name``."""
    return EntraTarget(name, config, secrets, state=state)


__all__ = ["EntraTarget", "open_target"]
