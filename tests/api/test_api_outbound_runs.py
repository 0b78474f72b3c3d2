"""Outbound flows run after their inbound flow in the same run (issue 12, point 5), seen through the API.

Microsoft's SDS v2.1 sample goes up the upload loop; the run validates it, stores it, snapshots a real directory
(scim2-server from PyPI) and matches its people, then plans and applies the flow set that provisions that
directory: one outboundFlowActivity per provisioning flow, with its counts. The provisioning flows'
readinessStatus follows their set's target and their latest provisioning; ``reset`` re-plans from scratch.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
from apitools import BASE, Api, Client, make_file_connector, make_source, make_year
from test_api_uploads_runs import SAMPLE, session, upload

sys.path.insert(0, str(Path(__file__).parents[1] / "targets"))

from scimserver import TOKEN, scim_server  # noqa: E402,F401 - fixture

from homeroom.outbound.service import provision_target  # noqa: E402
from homeroom.store.models import OutboundFlowSet, SourceSystem  # noqa: E402
from homeroom.targets import service as targets  # noqa: E402

SETS = f"{BASE}/outboundProvisioningFlowSets"
#: People are matched to the accounts Homeroom made by the anchor it writes (the SCIM externalId is their sourcedId).
MATCHING = [{"priorityOrder": 0, "sourceIdentifier": {"code": "sourcedId"}, "matchTarget": {"code": "externalId"},
             "roleGroupId": role} for role in ("students", "staff")]
FLOWS = [
    {"@odata.type": "#microsoft.graph.industryData.userProvisioningFlow", "createUnmatchedUsers": True,
     "creationOptions": {"configurations": [
         {"roleGroup@odata.bind": f"{BASE}/roleGroups/students", "licenseSkus": [],
          "defaultPasswordSettings": {"@odata.type": "#microsoft.graph.industryData.simplePasswordSettings", "password": "Stud-Pa55!"}}]}},
    {"@odata.type": "#microsoft.graph.industryData.classGroupProvisioningFlow", "configuration": {
        "additionalOptions": {"createTeam": False, "writeDisplayNameOnCreateOnly": True},
        "enrollmentMappings": {"ownerEnrollmentMappings": [{"code": "teacher"}], "memberEnrollmentMappings": [{"code": "student"}]}}},
    {"@odata.type": "#microsoft.graph.industryData.securityGroupProvisioningFlow", "creationOptions": {"createBasedOnRoleGroup": True}},
]
OUTBOUND = "#microsoft.graph.industryData.outboundFlowActivity"
PROVISIONING = "@homeroom.provisioning"


def _district(api: Api, admin: Client, scim: str) -> tuple[str, str]:
    """A source with a file connector, a year and a flow; the SCIM directory its people are matched against; a flow
    set with three flows. Returns (connector id, flow set id)."""
    source, year = make_source(admin), make_year(admin)
    connector = make_file_connector(admin, source["id"])
    r = admin.post(f"{BASE}/inboundFlows", json={
        "@odata.type": "#microsoft.graph.industryData.inboundFileFlow", "displayName": "Inbound rostering flow",
        "dataDomain": "educationRostering", "effectiveDateTime": "2020-01-01T00:00:00Z",
        "dataConnector@odata.bind": f"{BASE}/dataConnectors/{connector['id']}", "year@odata.bind": f"{BASE}/years/{year['id']}"})
    assert r.status_code == 201, r.text
    with api.app.state.sessions.begin() as db:
        db.get(SourceSystem, source["id"]).user_matching_settings = MATCHING
        targets.add_target(db=db, tenant_id="contoso", name="scim", kind="scim", settings={"base_url": scim},
                           secrets={"bearer_token": TOKEN}, source_systems=[source["id"]])
    flow_set = admin.post(SETS, json={"displayName": "All schools"}).json()
    for flow in FLOWS:
        r = admin.post(f"{SETS}/{flow_set['id']}/provisioningFlows", json=flow)
        assert r.status_code == 201, r.text
    return connector["id"], flow_set["id"]


def _wait(client: Client, location: str, timeout: float = 120) -> dict:
    """Poll an operation until it ends (slowly: the API throttles a client past 100 calls a minute)."""
    deadline = time.time() + timeout
    while True:
        r = client.get("/beta" + location.split("/beta", 1)[1])
        assert r.status_code == 200, r.text
        if r.json()["status"] not in ("notStarted", "running"):
            return r.json()
        assert time.time() < deadline, r.json()
        time.sleep(0.5)


def _run(api: Api, admin: Client, connector_id: str) -> str:
    """Upload the sample, validate it, start a run and wait for it; returns the run id."""
    upload(api, session(admin, connector_id)["containerId"], sorted(SAMPLE.glob("*.csv")))
    r = admin.post(f"{BASE}/dataConnectors/{connector_id}/microsoft.graph.industryData.validate")
    assert r.status_code == 202, r.text
    assert _wait(admin, r.headers["Location"])["errors"] == []
    r = admin.post(f"{BASE}/runs/start")
    assert r.status_code == 202, r.text
    op = _wait(admin, r.headers["Location"])
    assert op["status"] == "succeeded", op
    return op["resourceLocation"].rsplit("/", 1)[1]


def _outbound(admin: Client, run_id: str) -> list[dict]:
    activities = admin.get(f"{BASE}/runs/{run_id}/activities").json()["value"]
    return [a for a in activities if a["@odata.type"] == OUTBOUND]


def _directory(scim: str) -> tuple[int, int]:
    with httpx.Client(base_url=scim, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        return http.get("/Users", params={"count": 1}).json()["totalResults"], http.get("/Groups", params={"count": 1}).json()["totalResults"]


def _readiness(admin: Client, set_id: str) -> list[str]:
    return [f["readinessStatus"] for f in admin.get(f"{SETS}/{set_id}/provisioningFlows").json()["value"]]


def _bind(api: Api, set_id: str, target: str | None) -> None:
    with api.app.state.sessions.begin() as db:
        provision_target(db=db, tenant_id="contoso", flow_set=set_id, target=target)


def _counts(activities: list[dict]) -> list[tuple]:
    """Each outbound activity's (name, status, planned counts, applied counts, errors), by name."""
    return sorted((a["displayName"], a["status"], a[PROVISIONING]["planned"], a[PROVISIONING]["applied"], a[PROVISIONING]["errors"])
                  for a in activities)


def test_a_run_provisions_its_directory_after_its_inbound_part_and_a_second_run_writes_nothing(api, admin, scim_server):
    connector_id, set_id = _district(api, admin, scim_server)
    assert _readiness(admin, set_id) == ["notReady"] * 3, "a new set provisions no target yet"
    _bind(api, set_id, "scim")
    assert _readiness(admin, set_id) == ["ready"] * 3

    first = _run(api, admin, connector_id)
    run = admin.get(f"{BASE}/runs/{first}").json()
    assert (run["status"], run["blockingError"]) == ("completed", None)
    activities = admin.get(f"{BASE}/runs/{first}/activities").json()["value"]
    assert sorted(a["@odata.type"] for a in activities) == ["#microsoft.graph.industryData.inboundFlowActivity"] + [OUTBOUND] * 3
    outbound = [a for a in activities if a["@odata.type"] == OUTBOUND]
    # The sample's 8 people: 6 students and staff get accounts (the 2 guardians are not provisioned); its 2 classes
    # their groups (the teacher an owner, as a member: SCIM has no owners); 2 security groups (students, staff).
    assert _counts(outbound) == [
        ("All schools: class groups", "completed", {"create_group": 2, "add_member": 5}, {"done": 7}, 0),
        ("All schools: security groups", "completed", {"create_group": 2, "add_member": 6}, {"done": 8}, 0),
        ("All schools: users", "completed", {"create_user": 6}, {"done": 6}, 0)]
    users = next(a for a in outbound if a["displayName"] == "All schools: users")
    flows = {f["@odata.type"].rsplit(".", 1)[1]: f["id"] for f in admin.get(f"{SETS}/{set_id}/provisioningFlows").json()["value"]}
    assert set(users) == {"@odata.type", "id", "displayName", "status", "blockingError", PROVISIONING}
    assert {k: v for k, v in users[PROVISIONING].items() if k != "plannedDateTime"} == {
        "provisioningFlowId": flows["userProvisioningFlow"], "flowSetId": set_id, "target": "scim", "targetKind": "scim",
        "planned": {"create_user": 6}, "plannedTotal": 6, "applied": {"done": 6}, "errors": 0, "failedOperations": [],
        "collisions": 0, "counts": {"unmatchedNotCreated": 0, "ambiguousNotCreated": 0, "renames": 0, "existing": 0, "enabled": 0,
                                    "creates": 6, "disables": 0, "memberRemovals": 0, "memberships": 0}}
    assert _directory(scim_server) == (6, 4)
    one = admin.get(f"{BASE}/runs/{first}/activities/{users['id']}").json()
    assert one[PROVISIONING] == users[PROVISIONING]
    stats = admin.get(f"{BASE}/runs/{first}/getStatistics").json()
    statistic = next(a for a in stats["activityStatistics"] if a["activityId"] == users["id"])
    assert statistic == {"@odata.type": "#microsoft.graph.industryData.industryDataActivityStatistics", "activityId": users["id"],
                         "displayName": "All schools: users", "status": "completed", PROVISIONING: users[PROVISIONING]}
    assert stats["inboundTotals"]["people"] == 8, "outbound activities add nothing to the inbound totals"
    assert admin.get(f"{BASE}/runs/{first}/activities/$count").text == "4"

    second = _run(api, admin, connector_id)  # the same package: everyone matches the account made for them
    assert _counts(_outbound(admin, second)) == [
        ("All schools: class groups", "completed", {}, {}, 0), ("All schools: security groups", "completed", {}, {}, 0),
        ("All schools: users", "completed", {}, {}, 0)]
    assert _directory(scim_server) == (6, 4)
    assert admin.get(f"{BASE}/runs/{second}").json()["status"] == "completed"
    assert _readiness(admin, set_id) == ["ready"] * 3


def test_a_set_whose_directory_was_not_read_is_skipped_and_a_set_without_target_is_not_run(api, admin, scim_server):
    connector_id, set_id = _district(api, admin, "http://127.0.0.1:9/v2")  # nothing listens there
    idle = admin.post(SETS, json={"displayName": "Not bound"}).json()
    assert admin.post(f"{SETS}/{idle['id']}/provisioningFlows", json=FLOWS[2]).status_code == 201
    _bind(api, set_id, "scim")
    run_id = _run(api, admin, connector_id)
    outbound = _outbound(admin, run_id)
    assert sorted((a["displayName"], a["status"], a["blockingError"]["code"]) for a in outbound) == [
        ("All schools: class groups", "skipped", "DirectoryNotMatched"), ("All schools: security groups", "skipped", "DirectoryNotMatched"),
        ("All schools: users", "skipped", "DirectoryNotMatched")]
    assert outbound[0]["blockingError"]["message"].startswith(
        "Nothing was provisioned into 'scim': this run could not snapshot and match it (SCIM target 'scim'")
    assert admin.get(f"{BASE}/runs/{run_id}").json()["status"] == "completed", "the roster was written"
    assert _readiness(admin, idle["id"]) == ["notReady"]


def test_a_failed_provisioning_makes_its_flows_failed_until_reset_and_a_reset_plans_from_scratch(api, admin, scim_server):
    connector_id, set_id = _district(api, admin, scim_server)
    _bind(api, set_id, "scim")
    first = _run(api, admin, connector_id)
    assert [a["status"] for a in _outbound(admin, first)] == ["completed"] * 3
    flows = {f["@odata.type"].rsplit(".", 1)[1]: f["id"] for f in admin.get(f"{SETS}/{set_id}/provisioningFlows").json()["value"]}
    # Someone renames a class group in the directory; the class flow writes display names on create only.
    with httpx.Client(base_url=scim_server, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        group = http.get("/Groups", params={"filter": 'externalId eq "112002"'}).json()["Resources"][0]
        assert group["displayName"] == "Biology 10"
        r = http.patch(f"/Groups/{group['id']}", json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                                        "Operations": [{"op": "replace", "value": {"displayName": "Renamed by hand"}}]})
        assert r.status_code in (200, 204), r.text
    with api.app.state.sessions.begin() as db:
        db.get(OutboundFlowSet, set_id).options = {"renames": "sometimes"}

    second = _run(api, admin, connector_id)
    outbound = _outbound(admin, second)
    assert sorted((a["displayName"], a["status"], a["blockingError"]["code"]) for a in outbound) == [
        ("All schools: class groups", "failed", "PlanFailed"), ("All schools: security groups", "failed", "PlanFailed"),
        ("All schools: users", "failed", "PlanFailed")]
    assert outbound[0]["blockingError"]["message"] == ("The plan could not be made: the options of flow set 'All schools' are not "
                                                       "valid: renames: Input should be 'automatic', 'approval' or 'never'")
    assert admin.get(f"{BASE}/runs/{second}").json()["status"] == "completedWithErrors"
    assert _readiness(admin, set_id) == ["failed"] * 3

    path = f"{SETS}/{set_id}/provisioningFlows/{flows['classGroupProvisioningFlow']}/reset"
    assert (admin.post(path).status_code, admin.post(path).content) == (202, b"")
    assert _readiness(admin, set_id) == ["failed", "ready", "failed"], "the reset flow's errors are cleared"
    with api.app.state.sessions.begin() as db:
        db.get(OutboundFlowSet, set_id).options = {}

    third = _run(api, admin, connector_id)
    by_name = {a["displayName"]: a for a in _outbound(admin, third)}
    classes = by_name["All schools: class groups"][PROVISIONING]
    assert (classes["planned"], classes["applied"]) == ({"update_group": 1}, {"done": 1}), "reset: planned as if for the first time"
    assert "reset" in classes and "reset" not in by_name["All schools: users"][PROVISIONING]
    assert [by_name[n][PROVISIONING]["plannedTotal"] for n in ("All schools: users", "All schools: security groups")] == [0, 0]
    with httpx.Client(base_url=scim_server, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        assert http.get(f"/Groups/{group['id']}").json()["displayName"] == "Biology 10"
    assert _readiness(admin, set_id) == ["ready"] * 3
    fourth = _run(api, admin, connector_id)  # the reset is used up: display names are again written on create only
    assert [a[PROVISIONING]["plannedTotal"] for a in _outbound(admin, fourth)] == [0, 0, 0]


def test_a_plan_held_in_a_run_is_applied_as_shown_when_the_run_is_approved_over_the_api(api, admin, scim_server):
    connector_id, set_id = _district(api, admin, scim_server)
    _bind(api, set_id, "scim")
    with api.app.state.sessions.begin() as db:
        db.get(OutboundFlowSet, set_id).options = {"thresholds": {"creates": {"share": None, "absolute": 2}}}
    run_id = _run(api, admin, connector_id)
    run = admin.get(f"{BASE}/runs/{run_id}").json()
    assert run["status"] == "unknownFutureValue" and run["blockingError"]["code"] == "RunHeld"
    assert "6 accounts" in run["blockingError"]["message"], run["blockingError"]
    assert sorted(a["status"] for a in _outbound(admin, run_id)) == ["unknownFutureValue"] * 3
    assert _directory(scim_server) == (0, 0), "a held plan writes nothing"

    r = admin.post(f"{BASE}/runs/{run_id}/approve")
    assert r.status_code == 202, r.text
    assert _wait(admin, r.headers["Location"])["status"] == "succeeded"
    assert admin.get(f"{BASE}/runs/{run_id}").json()["status"] == "completed"
    assert _counts(_outbound(admin, run_id)) == [
        ("All schools: class groups", "completed", {"create_group": 2, "add_member": 5}, {"done": 7}, 0),
        ("All schools: security groups", "completed", {"create_group": 2, "add_member": 6}, {"done": 8}, 0),
        ("All schools: users", "completed", {"create_user": 6}, {"done": 6}, 0)]
    assert _directory(scim_server) == (6, 4)
