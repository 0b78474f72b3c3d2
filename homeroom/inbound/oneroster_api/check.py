"""The check behind a OneRoster connector's ``validate``: sign in and read one org.

Graph's ``validate`` of an API connector "validates connectivity and credentials" and records the result in
``credential.isValid`` and ``lastValidDateTime`` (``homeroom.runs.jobs.run_credential_check``). The check is one
request, ``GET {root}/orgs?limit=1``, signed as a pull signs it, without retries: an admin waiting on ``validate``
wants the answer of now.
"""

from __future__ import annotations

from homeroom.errors import PermanentError
from homeroom.inbound.oneroster_api.auth import SYSTEM, OneRosterCredential
from homeroom.inbound.oneroster_api.client import OneRosterClient, api_root


def check_connection(base_url: str, credential: OneRosterCredential, *, timeout: float, version: str = "1.1") -> str:
    """Sign in and read one org; returns what was checked, in words. Raises ``TransientError`` or ``PermanentError``."""
    if not base_url:
        raise PermanentError("The connector has no baseUrl to call.", system=SYSTEM)
    root = api_root(base_url, version)
    with OneRosterClient(root, credential, timeout=timeout, retries=0, backoff=0, max_wait=0, page_size=1,
                         concurrency=1) as client:
        client.get("orgs", {"limit": 1})
    return f"Signed in with {credential.describe()} and read {root}/orgs?limit=1."
