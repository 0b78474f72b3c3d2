"""Google's Directory API through google-api-python-client (its bundled discovery document, no network for it),
signed in as a service account with domain-wide delegation; errors that name the target and what to fix."""

from __future__ import annotations

import json
from collections.abc import Mapping

from homeroom.errors import ExternalError, PermanentError, TransientError
from homeroom.targets.google.config import SCOPES, Config


class GoogleTarget:
    """An open connection to one Workspace customer's directory."""

    kind = "google"

    def __init__(self, name: str, config: Config, secrets: Mapping[str, str]):
        self.name, self.config = name, config
        self._key = secrets.get("service_account_json") or ""
        self._service = None

    def where(self) -> str:
        return f"Google target {self.name!r} (customer {self.config.customer})"

    def service(self):
        """The Directory API client (built once, from the discovery document shipped with the library)."""
        if self._service is None:
            import google_auth_httplib2
            import httplib2
            from google.oauth2 import service_account
            from googleapiclient.discovery import build

            try:
                info = json.loads(self._key)
                credentials = service_account.Credentials.from_service_account_info(
                    info, scopes=list(SCOPES), subject=self.config.admin_email)
            except (ValueError, KeyError, TypeError) as exc:
                raise PermanentError(f"{self.where()}: service_account_json is not a service account key ({exc}); set it to "
                                     "the JSON key file of the service account") from None
            http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=self.config.timeout_seconds))
            options = {"api_endpoint": self.config.api_endpoint} if self.config.api_endpoint else None
            self._service = build("admin", "directory_v1", http=http, client_options=options, static_discovery=True,
                                  cache_discovery=False)
        return self._service

    def execute(self, request, doing: str):
        """Run one API request; Google's errors become Homeroom's."""
        from google.auth.exceptions import RefreshError, TransportError
        from googleapiclient.errors import HttpError

        try:
            return request.execute(num_retries=3)
        except RefreshError as exc:
            raise PermanentError(f"{self.where()}: the service account cannot act for {self.config.admin_email} ({exc.args[0]}); "
                                 "check the key and its domain-wide delegation of the directory read-only scopes") from None
        except (TransportError, OSError) as exc:
            raise TransientError(f"{self.where()} cannot reach the Directory API to {doing} ({exc}); check api_endpoint and the network") from None
        except HttpError as exc:
            status = exc.resp.status
            if status in (401, 403):
                raise PermanentError(f"{self.where()} may not {doing} ({status}: {exc.reason}); grant the service account the "
                                     "directory read-only scopes and make admin_email an administrator") from None
            if status in (429, 500, 503):
                raise TransientError(f"{self.where()} is busy ({status}) when asked to {doing}; try again later") from None
            raise ExternalError(f"{self.where()}: failed to {doing} ({status}: {exc.reason})") from None

    def check(self) -> None:
        """Sign in and list one user and one group."""
        users = self.service().users()
        self.execute(users.list(customer=self.config.customer, maxResults=1), "list users")
        self.execute(self.service().groups().list(customer=self.config.customer, maxResults=1), "list groups")

    def read_accounts(self, page_size: int = 500):
        from homeroom.targets.google.reader import read_accounts

        return read_accounts(self, page_size)

    def read_groups(self, page_size: int = 200):
        from homeroom.targets.google.reader import read_groups

        return read_groups(self, page_size)

    def close(self) -> None:
        self._service = None


def open_target(name: str, config: Config, secrets: Mapping[str, str]) -> GoogleTarget:
    """A connection to the Google target ``name``."""
    return GoogleTarget(name, config, secrets)
