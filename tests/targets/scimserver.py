"""The real ``scim2-server`` (PyPI) on loopback, for SCIM target tests; and loading planted accounts into it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

TOKEN = "scim-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def scim_server():
    """A fresh scim2-server process on a free loopback port (bearer token ``TOKEN``); yields its base URL."""
    port = free_port()
    binary = Path(sys.executable).parent / "scim2-server"
    process = subprocess.Popen([str(binary), "--hostname", "127.0.0.1", "--port", str(port), "--bearer-token", TOKEN],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    base = f"http://127.0.0.1:{port}/v2"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/ServiceProviderConfig", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    pytest.fail(f"scim2-server exited with {process.returncode}")
                time.sleep(0.05)
        else:
            pytest.fail("scim2-server did not answer within 10 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def load_accounts(base: str, accounts: list[dict]) -> list[str]:
    """POST each planted account as a SCIM user (login in userName, employee id in the enterprise extension)."""
    ids = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}) as http:
        for a in accounts:
            body = {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                "userName": a["user_principal_name"], "active": a["enabled"], "displayName": a["display_name"],
                "name": {"givenName": a["given_name"], "familyName": a["family_name"]},
                "emails": [{"value": a["mail"], "primary": True}],
            }
            if a["employee_id"]:
                body[ENTERPRISE] = {"employeeNumber": a["employee_id"]}
            response = http.post("/Users", json=body)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    return ids
