"""Runs of a OneRoster API flow: the pull in the run, what an incomplete pull leaves (nothing), deltas after the first
full pull, and the safety of the lake's holds on a complete but much smaller pull."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from conftest import FLOW, make_flow, oauth1, oauth2
from source_server import LOADED_AT, Fault

from homeroom.errors import RunError
from homeroom.runs import Runner
from homeroom.runs.pulls import state_of
from homeroom.store import service

ENTITIES = ("orgs", "academicSessions", "courses", "users", "roles", "classes", "enrollments", "demographics", "relationships")
KEPT = "Nothing was written: the lake keeps the data of the last successful run."


def lake(runner: Runner) -> dict[str, pl.DataFrame]:
    return {name: runner.lake.read(name).sort(pl.all()) for name in ENTITIES}


def connector_state(runner: Runner):
    with runner.sessions() as db:
        return state_of(service.get_flow(db=db, tenant_id=runner.tenant, display_name=FLOW).connector)


def test_a_run_of_an_api_flow_pulls_and_writes_the_lake(runner, version, address):
    outcome = runner.pull(FLOW)
    assert (outcome.run.status, outcome.activity.status) == ("completed", "completed")
    assert outcome.activity.package == address and outcome.activity.package_format == f"oneroster-{version}"
    stats = outcome.activity.statistics
    assert (stats["people"], stats["organizations"], stats["groups"], stats["memberships"]) == (
        {"total": 132, "active": 132, "inactive": 0}, {"total": 2, "active": 2, "inactive": 0},
        {"total": 108, "active": 108, "inactive": 0}, {"total": 532, "active": 532, "inactive": 0})
    files = ["academicSessions.csv", "classes.csv", "courses.csv", "demographics.csv", "enrollments.csv", "orgs.csv", "users.csv"]
    assert outcome.activity.files == sorted(files + (["roles.csv"] if version == "1.2" else []))
    state = connector_state(runner)
    assert (state.base_url, state.version, state.high_water_mark) == (address, version, LOADED_AT)


FAULTS = {
    "short page": (Fault("short", "users", 100), "GET /users at offset 100 returned 31 records; expected 32 (X-Total-Count 132, pages of 100)."),
    "empty page": (Fault("empty", "enrollments", 300),
                   "GET /enrollments at offset 300 returned no records; expected 100 (X-Total-Count 532, pages of 100)."),
    "empty first page": (Fault("empty", "classes", 0), "GET /classes at offset 0 returned no records, but X-Total-Count is 108."),
    "changed total": (Fault("wrong_total", "enrollments", 200, value=-1),
                      "GET /enrollments at offset 200 gave X-Total-Count 531, but the first page gave 532: the collection "
                      "changed while it was read."),
    "total too high": (Fault("wrong_total", "users", None, times=None, value=5),
                       "GET /users at offset 100 returned 32 records; expected 37 (X-Total-Count 137, pages of 100)."),
    "500": (Fault("status", "users", 100, times=None, value=500),
            "GET /users at offset 100 failed: HTTP 500 from the OneRoster API {root}/users?limit=100&offset=100&filter=status%3D%27active%27: "
            "Injected failure. (internal_server_error) (after 2 retries)."),
    "429": (Fault("status", "enrollments", 0, times=None, value=429, retry_after="0"),
            "GET /enrollments at offset 0 failed: HTTP 429 from the OneRoster API {root}/enrollments?limit=100&offset=0&filter=status%3D%27active%27: "
            "Injected failure. (server_busy) (after 2 retries)."),
    "slow": (Fault("slow", "courses", 0, times=None, value=3),
             "GET /courses at offset 0 failed: the OneRoster API {root}/courses?limit=100&offset=0&filter=status%3D%27active%27 did "
             "not answer within 2 seconds (after 2 retries)."),
    "shifted page": (Fault("shifted", "enrollments", 200, value=1),
                     "GET /enrollments: 1 record arrived twice (e.g. '{twice}'): the collection changed while it was read."),
    "not json": (Fault("not_json", "orgs", 0), "GET /orgs at offset 0: the answer is not JSON (unexpected character, expected a JSON value: line 1 column 1 (char 0))."),
}


@pytest.mark.parametrize("version", ["1.1", "1.2"], indirect=True)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_an_incomplete_pull_fails_the_run_and_leaves_the_lake_and_the_high_water_mark(runner, source, address, version, fault):
    first = runner.pull(FLOW)
    assert first.run.status == "completed"
    before, state = lake(runner), connector_state(runner)
    source.put("users", {**source.records("users")[0], "givenName": "Changed"})  # a change the failed run must not bring
    source.faults.append(dataclasses.replace(FAULTS[fault][0]))  # a fresh one: faults count their hits
    with runner.sessions.begin() as db:  # a full pull again, as after a week (deltas are tested below)
        flow = service.get_flow(db=db, tenant_id=runner.tenant, display_name=FLOW)
        flow.connector.settings = {k: v for k, v in flow.connector.settings.items() if k != "pull"}
    outcome = runner.pull(FLOW)
    root = f"{address}/ims/oneroster/{'v1p1' if version == '1.1' else 'rostering/v1p2'}"
    twice = sorted(e["sourcedId"] for e in source.records("enrollments"))[199]  # the last of the page before, again
    reason = FAULTS[fault][1].format(root=root, twice=twice)
    assert (outcome.run.status, outcome.activity.status) == ("failed", "failed")
    assert outcome.activity.blocking_error == {"code": "IncompletePull", "message": f"{reason} {KEPT}"}
    assert outcome.run.blocking_error == outcome.activity.blocking_error
    assert outcome.activity.changes == {}
    after = lake(runner)
    for name in ENTITIES:
        assert after[name].equals(before[name]), name
    assert connector_state(runner) is None, "the state cleared above stays cleared: the failed pull counted for nothing"
    assert state.high_water_mark == LOADED_AT


def test_a_pull_that_fails_mid_way_and_then_recovers_completes(runner, source):
    source.faults += [Fault("status", "users", 100, times=2, value=503), Fault("short", "enrollments", 400, times=0)]
    outcome = runner.pull(FLOW)
    assert outcome.run.status == "completed" and outcome.activity.statistics["people"]["total"] == 132


def test_after_the_first_full_pull_runs_pull_deltas_since_the_high_water_mark(runner, source, version):
    runner.pull(FLOW)
    users = {u["sourcedId"]: u for u in source.records("users")}
    student, leaver = users["stu-1"], users["stu-2"]
    source.put("users", {**student, "givenName": "Renamed", "dateLastModified": "2026-02-01T09:00:00.000Z"})
    source.delete("users", leaver["sourcedId"], when="2026-02-01T09:30:00.000Z")
    leaver_enrollments = [e for e in source.records("enrollments") if e["user"]["sourcedId"] == "stu-2"]
    for e in leaver_enrollments:
        source.delete("enrollments", e["sourcedId"], when="2026-02-01T09:30:00.000Z")
    source.requests.clear()

    outcome = runner.pull(FLOW)
    assert outcome.run.status == "completed"
    pages = [r for r in source.requests if r.method == "GET"]
    assert {r.params["filter"] for r in pages} == {f"dateLastModified>'{LOADED_AT}'"}, "no status filter: tombstones come"
    assert outcome.activity.changes["users"] == {"added": 0, "updated": 1, "deactivated": 1, "reactivated": 0,
                                                 "activeBefore": 132, "active": 131, "inactive": 1, "total": 132}
    assert outcome.activity.changes["enrollments"]["deactivated"] == len(leaver_enrollments) > 0
    assert set(outcome.activity.changes) >= {"users", "enrollments"}
    rows = runner.lake.read("users").sort("sourcedId")
    assert rows.filter(pl.col("sourcedId") == "stu-1")["givenName"].item() == "Renamed"
    assert rows.filter(~pl.col("isActive"))["sourcedId"].to_list() == ["stu-2"]
    # everyone the delta did not mention is still there, active
    assert rows.filter(pl.col("isActive")).height == 131
    assert connector_state(runner).high_water_mark == "2026-02-01T09:30:00.000Z"

    # a delta with nothing new changes nothing and keeps the mark
    source.requests.clear()
    again = runner.pull(FLOW)
    assert again.run.status == "completed"
    assert all(c["added"] + c["updated"] + c["deactivated"] == 0 for c in again.activity.changes.values())
    assert {r.params["filter"] for r in source.requests if r.method == "GET"} == {"dateLastModified>'2026-02-01T09:30:00.000Z'"}
    assert connector_state(runner).high_water_mark == "2026-02-01T09:30:00.000Z"


def test_a_failed_delta_keeps_the_mark_so_the_next_pull_asks_again(runner, source):
    runner.pull(FLOW)
    source.put("users", {**source.records("users")[0], "givenName": "Later", "dateLastModified": "2026-03-01T00:00:00.000Z"})
    source.faults.append(Fault("status", "users", 0, times=None, value=500))
    assert runner.pull(FLOW).run.status == "failed"
    assert connector_state(runner).high_water_mark == LOADED_AT
    source.faults.clear()
    outcome = runner.pull(FLOW)
    assert outcome.activity.changes["users"]["updated"] == 1
    assert connector_state(runner).high_water_mark == "2026-03-01T00:00:00.000Z"


def test_a_new_base_url_or_version_pulls_in_full_again(runner, source, address, version):
    runner.pull(FLOW)
    credential = oauth1() if version == "1.1" else oauth2(address)
    make_flow(runner, address + "/", version, credential=credential)  # another base URL (the same server)
    source.requests.clear()
    runner.pull(FLOW)
    assert {r.params["filter"] for r in source.requests if r.method == "GET"} == {"status='active'"}


@pytest.mark.parametrize("version", ["1.1"], indirect=True)
def test_a_complete_but_much_smaller_full_pull_is_held_not_applied(runner, source):
    runner.pull(FLOW)
    kept = [u for u in source.records("users") if not u["sourcedId"].startswith("stu-")]
    source.tables["users"] = source.tables["users"].filter(~pl.col("sourcedId").str.starts_with("stu-"))
    source.load({})
    assert len(kept) == 82
    with runner.sessions.begin() as db:
        flow = service.get_flow(db=db, tenant_id=runner.tenant, display_name=FLOW)
        flow.connector.settings = {k: v for k, v in flow.connector.settings.items() if k != "pull"}
    outcome = runner.pull(FLOW)
    assert outcome.run.status == "held"
    assert [(r["code"], r["entity"], r["deactivated"]) for r in outcome.run.held_reason if r["entity"] == "users"] == [
        ("DeactivationThreshold", "users", 50)]
    assert runner.lake.read("users").filter(pl.col("isActive")).height == 132
    assert connector_state(runner) is None, "held: the mark waits for the approval"
    runner.approve(outcome.run.id)
    assert runner.lake.read("users").filter(pl.col("isActive")).height == 82
    assert connector_state(runner).high_water_mark == LOADED_AT


def test_a_flow_that_is_not_an_api_flow_or_not_ready_is_refused(settings, address):
    runner = Runner("district-b", settings=settings)
    with pytest.raises(RunError, match=r"^tenant 'district-b' has no OneRoster API flow 'SIS API'$"):
        runner.pull(FLOW)
    make_flow(runner, "", "1.1")
    with pytest.raises(RunError, match=r"^flow 'SIS API' cannot run: its dataConnector '.*' has no baseUrl$"):
        runner.pull(FLOW)


def test_runs_start_and_the_scheduler_include_api_flows(runner, address):
    from homeroom.runs.scheduler import start_run

    with runner.sessions.begin() as db:
        run = start_run(db, runner, trigger="onDemand")
        assert [(a.package, a.status) for a in run.activities] == [(address, "running")]
    (outcome,) = runner.execute(run.id)
    assert outcome.run.status == "completed" and outcome.activity.statistics["people"]["active"] == 132
