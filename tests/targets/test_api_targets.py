"""Configuring directory targets over the API: add, read, change, check against a real scim2-server, delete.

Secrets go in and never come out; writes need DataConnector.ReadWrite.All; another tenant sees nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from scimserver import TOKEN, free_port, scim_server  # noqa: F401 - fixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from apitools import BASE, Api  # noqa: E402

from homeroom.settings import Settings  # noqa: E402

TARGETS = f"{BASE}/directoryTargets"
WRITE, READ = ["IndustryData-DataConnector.ReadWrite.All"], ["IndustryData-DataConnector.Read.All"]


@pytest.fixture
def api(tmp_path) -> Api:
    return Api(Settings(data_dir=tmp_path / "data"))


def test_a_target_is_added_read_changed_checked_and_deleted(api, scim_server):
    admin = api.client("contoso", WRITE)
    created = admin.post(TARGETS, json={"name": "district-scim", "kind": "scim", "settings": {"base_url": scim_server},
                                        "secrets": {"bearer_token": TOKEN}})
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"].endswith(f"{TARGETS}/district-scim")
    assert (body["name"], body["kind"], body["settings"]["base_url"], body["secretsSet"], body["sourceSystemIds"]) == (
        "district-scim", "scim", scim_server, ["bearer_token"], [])
    assert TOKEN not in created.text

    check = admin.post(f"{TARGETS}/district-scim/check")
    assert check.status_code == 200 and check.json() == {"name": "district-scim", "kind": "scim", "connected": True, "message": None}

    # A wrong token: the check answers what failed, it is not an error of the request.
    assert admin.patch(f"{TARGETS}/district-scim", json={"secrets": {"bearer_token": "wrong"}}).status_code == 204
    failed = admin.post(f"{TARGETS}/district-scim/check").json()
    assert failed["connected"] is False and "district-scim" in failed["message"] and "wrong" not in failed["message"]

    # Settings are merged and validated as a whole; a null removes one.
    assert admin.patch(f"{TARGETS}/district-scim", json={"settings": {"timeout_seconds": 50}}).status_code == 204
    shown = admin.get(f"{TARGETS}/district-scim").json()
    assert (shown["settings"]["base_url"], shown["settings"]["timeout_seconds"], shown["secretsSet"]) == (scim_server, 50, ["bearer_token"])
    assert shown["lastModifiedDateTime"] >= body["lastModifiedDateTime"]
    refused = admin.patch(f"{TARGETS}/district-scim", json={"settings": {"timeout_seconds": "many"}})
    assert refused.status_code == 400 and "timeout_seconds" in refused.json()["error"]["message"]
    assert admin.get(f"{TARGETS}/district-scim").json()["settings"]["timeout_seconds"] == 50  # nothing half-changed
    cleared = admin.patch(f"{TARGETS}/district-scim", json={"secrets": {"bearer_token": None}})
    assert cleared.status_code == 204 and admin.get(f"{TARGETS}/district-scim").json()["secretsSet"] == []

    assert admin.delete(f"{TARGETS}/district-scim").status_code == 204
    assert admin.get(f"{TARGETS}/district-scim").status_code == 404
    assert admin.get(TARGETS).json()["value"] == []


def test_bad_bodies_name_what_is_wrong(api):
    admin = api.client("contoso", WRITE)
    cases = [
        ({"kind": "scim"}, "Property 'name' is required to create a directoryTarget."),
        ({"name": "x", "kind": "novell"}, "novell"),
        ({"name": "../up", "kind": "scim", "settings": {"base_url": "http://127.0.0.1:1"}}, "cannot name a target"),
        ({"name": "x", "kind": "scim", "settings": {}}, "base_url"),
        ({"name": "x", "kind": "scim", "settings": {"base_url": "http://127.0.0.1:1"}, "secrets": {"password": "p"}},
         "scim targets have no secret password"),
        ({"name": "x", "kind": "scim", "colour": "red"}, "Property 'colour' does not exist"),
    ]
    for body, message in cases:
        answer = admin.post(TARGETS, json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert message in answer.json()["error"]["message"], (body, answer.json())
    ok = {"name": "x", "kind": "scim", "settings": {"base_url": "http://127.0.0.1:1"}}
    assert admin.post(TARGETS, json=ok).status_code == 201
    again = admin.post(TARGETS, json=ok)
    assert again.status_code == 409 and again.json()["error"]["message"] == "target 'x' already exists in tenant 'contoso'"
    unreachable = admin.post(f"{TARGETS}/x/check").json()
    assert unreachable["connected"] is False and "x" in unreachable["message"]


def test_permissions_and_tenants(api):
    admin, reader = api.client("contoso", WRITE), api.client("contoso", READ)
    other = api.client("fabrikam", WRITE)
    body = {"name": "ad", "kind": "scim", "settings": {"base_url": "http://127.0.0.1:1"}, "secrets": {"bearer_token": "s3cret-t0ken"}}
    assert reader.post(TARGETS, json=body).status_code == 403
    assert admin.post(TARGETS, json=body).status_code == 201
    listed = reader.get(TARGETS).json()["value"]
    assert [(t["name"], t["secretsSet"]) for t in listed] == [("ad", ["bearer_token"])]
    assert "s3cret-t0ken" not in json.dumps(listed) and "s3cret-t0ken" not in reader.get(f"{TARGETS}/ad").text
    for method in ("patch", "delete"):
        kwargs = {"json": {"settings": {}}} if method == "patch" else {}
        assert getattr(reader, method)(f"{TARGETS}/ad", **kwargs).status_code == 403
    assert reader.post(f"{TARGETS}/ad/check").status_code == 403
    # Another tenant's target does not exist for fabrikam, whatever it does.
    assert other.get(f"{TARGETS}/ad").status_code == 404
    assert other.patch(f"{TARGETS}/ad", json={"settings": {"timeout_seconds": 5}}).status_code == 404
    assert other.delete(f"{TARGETS}/ad").status_code == 404
    assert other.post(f"{TARGETS}/ad/check").status_code == 404
    assert other.get(TARGETS).json()["value"] == []
    assert reader.get(f"{TARGETS}/ad").json()["settings"]["base_url"] == "http://127.0.0.1:1"
