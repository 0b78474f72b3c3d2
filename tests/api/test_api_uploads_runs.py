"""Upload sessions, validate, operations, runs/start, the scheduler and the findings download (spec §1.10-1.17).

Files are put into a session's container through the blob store here; the Azure Blob protocol itself is tested
in tests/uploads, and the whole loop with Microsoft's own clients in test_api_sdk_upload_loop.py.
"""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from apitools import BASE, Api, Client, make_api_connector, make_file_connector, make_source, make_year
from pgtools import database_settings

from homeroom.api.statistics import run_statistics
from homeroom.runs import Runner
from homeroom.runs.operations import recover_operations
from homeroom.settings import Settings
from homeroom.store.models import Run, Tenant, UploadSession

SAMPLE = Path(__file__).parents[1] / "fixtures" / "microsoft" / "sds-v2.1"


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path):
    """The upload loop on both control-plane databases."""
    yield from database_settings(request.param, tmp_path)

SAMPLE_FILES = sorted(p.name for p in SAMPLE.glob("*.csv"))


def make_flow(client: Client) -> tuple[str, str]:
    """A source system, a v2.1 file connector, a year and a file flow; returns (connector id, flow id)."""
    source, year = make_source(client), make_year(client)
    connector = make_file_connector(client, source["id"])
    r = client.post(f"{BASE}/inboundFlows", json={
        "@odata.type": "#microsoft.graph.industryData.inboundFileFlow", "displayName": "Inbound rostering flow",
        "dataDomain": "educationRostering", "effectiveDateTime": "2020-01-01T00:00:00Z",
        "dataConnector@odata.bind": f"{BASE}/dataConnectors/{connector['id']}", "year@odata.bind": f"{BASE}/years/{year['id']}"})
    assert r.status_code == 201, r.text
    return connector["id"], r.json()["id"]


def session(client: Client, connector_id: str, suffix: str = "") -> dict:
    r = client.get(f"{BASE}/dataConnectors/{connector_id}/microsoft.graph.industryData.azureDataLakeConnector/getUploadSession{suffix}")
    assert r.status_code == 200, r.text
    return r.json()


def upload(api: Api, container: str, files: list[Path]) -> None:
    for path in files:
        api.app.state.blob_store.put_blob(container, path.name, [path.read_bytes()])


def wait(client: Client, location: str, timeout: float = 60) -> dict:
    """Poll an operation until it is no longer notStarted or running."""
    deadline = time.time() + timeout
    while True:
        r = client.get("/beta" + location.split("/beta", 1)[1])
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] not in ("notStarted", "running"):
            return body
        assert time.time() < deadline, body
        time.sleep(0.05)


def validate(client: Client, connector_id: str) -> dict:
    r = client.post(f"{BASE}/dataConnectors/{connector_id}/microsoft.graph.industryData.validate")
    assert r.status_code == 202, r.text
    assert r.content == b""
    assert r.headers["Location"].startswith("http://testserver/beta/external/industryData/operations/")
    return wait(client, r.headers["Location"])


def test_an_upload_session_is_kept_until_reset_and_is_a_signed_container_url(api, admin):
    connector_id, _ = make_flow(admin)
    first = session(admin, connector_id)
    assert set(first) == {"@odata.context", "containerExpirationDateTime", "containerId", "sessionExpirationDateTime", "sessionUrl"}
    assert first["sessionUrl"].startswith(f"http://testserver/homeroomuploads/{first['containerId']}?")
    assert "sig=" in first["sessionUrl"] and "se=" in first["sessionUrl"]
    expires = datetime.fromisoformat(first["sessionExpirationDateTime"].replace("Z", "+00:00"))
    container = datetime.fromisoformat(first["containerExpirationDateTime"].replace("Z", "+00:00"))
    assert container - expires == timedelta(hours=34)
    assert timedelta(hours=13, minutes=59) < expires - datetime.now(timezone.utc) <= timedelta(hours=14)
    assert session(admin, connector_id) == first, "the active session is returned again"
    store = api.app.state.blob_store
    assert store.container_exists(first["containerId"])

    reset = session(admin, connector_id, "?resetSession=true")
    assert reset["containerId"] != first["containerId"]
    assert not store.container_exists(first["containerId"]), "a reset discards the old container"
    again = session(admin, connector_id, "(resetSession=true)")
    assert again["containerId"] != reset["containerId"]
    plain = admin.get(f"{BASE}/dataConnectors('{connector_id}')/GetUploadSession")
    assert plain.status_code == 200 and plain.json()["containerId"] == again["containerId"]
    bad = admin.get(f"{BASE}/dataConnectors/{connector_id}/getUploadSession?resetSession=maybe")
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == "Invalid value for parameter 'resetSession': expected true or false, not 'maybe'."


def test_upload_session_permissions_tenants_and_connector_types(api, admin):
    connector_id, _ = make_flow(admin)
    uploader = api.client("contoso", ["IndustryData-DataConnector.Upload"])
    assert uploader.get(f"{BASE}/dataConnectors/{connector_id}/getUploadSession").status_code == 200
    reader = api.client("contoso", ["IndustryData-DataConnector.Read.All"])
    denied = reader.get(f"{BASE}/dataConnectors/{connector_id}/getUploadSession")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"
    assert reader.post(f"{BASE}/dataConnectors/{connector_id}/validate").status_code == 403
    other = api.client("fabrikam")
    assert other.get(f"{BASE}/dataConnectors/{connector_id}/getUploadSession").status_code == 404
    assert other.post(f"{BASE}/dataConnectors/{connector_id}/validate").status_code == 404

    api_connector = make_api_connector(admin, make_source(admin, "OneRoster SIS")["id"])["id"]
    refused = admin.get(f"{BASE}/dataConnectors/{api_connector}/getUploadSession")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        f"dataConnector '{api_connector}' is a oneRosterApiDataConnector; only an azureDataLakeConnector takes uploads.")


def test_validate_accepts_microsofts_sample_and_makes_it_the_connectors_package(api, admin):
    connector_id, _ = make_flow(admin)
    s = session(admin, connector_id)
    upload(api, s["containerId"], sorted(SAMPLE.glob("*.csv")))
    op = validate(admin, connector_id)
    assert op["@odata.type"] == "#microsoft.graph.industryData.fileValidateOperation"
    assert op["status"] == "succeeded"
    assert op["errors"] == [] and op["warnings"] == []
    assert op["validatedFiles"] == SAMPLE_FILES
    assert op["resourceLocation"] == f"http://testserver/beta/external/industryData/dataConnectors/{connector_id}"
    assert not api.app.state.blob_store.container_exists(s["containerId"]), "validation consumes the container"
    assert session(admin, connector_id)["containerId"] != s["containerId"], "the next session is a new container"
    listed = admin.get(f"{BASE}/operations").json()["value"]
    assert [o["id"] for o in listed] == [op["id"]]


def test_pruning_keeps_the_accepted_packages_not_the_newest_folders(api, admin):
    """After a validation a killed server never finished, its files are not a package: the next successful
    validation keeps the current and the previous accepted packages and removes the orphan, newer as it is."""
    import os

    from homeroom.store.models import DataConnector

    connector_id, _ = make_flow(admin)
    folder = api.settings.data_dir / "packages" / "contoso" / connector_id
    accepted = []
    for _ in range(2):
        upload(api, session(admin, connector_id)["containerId"], sorted(SAMPLE.glob("*.csv")))
        assert validate(admin, connector_id)["errors"] == []
        with api.app.state.sessions() as db:
            accepted.append(db.get(DataConnector, connector_id).current_package)
    orphan = folder / "interrupted-validation"
    orphan.mkdir()
    (orphan / "users.csv").write_text("half an upload")
    later = max(p.stat().st_mtime for p in folder.iterdir()) + 60
    os.utime(orphan, (later, later))  # the newest folder of all, as the interrupted one was
    upload(api, session(admin, connector_id)["containerId"], sorted(SAMPLE.glob("*.csv")))
    assert validate(admin, connector_id)["errors"] == []
    with api.app.state.sessions() as db:
        current = db.get(DataConnector, connector_id).current_package
    assert sorted(str(p) for p in folder.iterdir()) == sorted([accepted[1], current])


def test_missing_files_give_the_documented_errors_and_warnings(api, admin):
    connector_id, _ = make_flow(admin)
    s = session(admin, connector_id)
    upload(api, s["containerId"], [SAMPLE / "users.csv"])
    op = validate(admin, connector_id)
    assert op["status"] == "succeeded", "the data verdict is in errors, not in status"
    assert [(e["code"], e["target"], e["message"]) for e in op["errors"]] == [
        ("RequiredFileNotFound", "orgs.csv", "When trying to validate required file orgs.csv encountered RequiredFileNotFound error."),
        ("RequiredFileNotFound", "roles.csv", "When trying to validate required file roles.csv encountered RequiredFileNotFound error."),
    ]
    assert ("OptionalFileNotFound", "classes.csv", "When trying to validate file classes.csv encountered OptionalFileNotFound error.") in [
        (w["code"], w["target"], w["message"]) for w in op["warnings"]]
    assert op["validatedFiles"] == []
    with api.app.state.sessions() as db:
        from homeroom.store.models import DataConnector
        assert db.get(DataConnector, connector_id).current_package is None, "a refused upload is not kept"


def test_a_bad_header_is_a_blocking_error_naming_file_line_and_column(api, admin, tmp_path):
    connector_id, _ = make_flow(admin)
    s = session(admin, connector_id)
    files = []
    for path in sorted(SAMPLE.glob("*.csv")):
        target = tmp_path / path.name
        data = path.read_bytes()
        target.write_bytes(data.replace(b"sourcedId,name,type", b"sourcedId,Name,type", 1) if path.name == "orgs.csv" else data)
        files.append(target)
    upload(api, s["containerId"], files)
    op = validate(admin, connector_id)
    assert [(e["code"], e["target"]) for e in op["errors"]] == [("HeaderNotPresent", "orgs.csv")]
    assert op["errors"][0]["details"][0]["target"] == "line 1"
    assert "'name'" in op["errors"][0]["message"]
    assert "header names are case-sensitive" in op["errors"][0]["message"]


def test_validate_without_a_session_and_after_expiry(api, admin):
    connector_id, _ = make_flow(admin)
    op = validate(admin, connector_id)
    assert [e["code"] for e in op["errors"]] == ["UploadSessionNotFound"]

    s = session(admin, connector_id)
    upload(api, s["containerId"], sorted(SAMPLE.glob("*.csv")))
    with api.app.state.sessions.begin() as db:
        db.get(UploadSession, s["containerId"]).session_expires = datetime(2020, 1, 1, tzinfo=timezone.utc)
    op = validate(admin, connector_id)
    assert [e["code"] for e in op["errors"]] == ["UploadSessionExpired"]
    assert op["errors"][0]["message"] == ("The upload session expired at 2020-01-01T00:00:00Z and its files were discarded; "
                                          "get a new upload session and upload the files again.")
    assert not api.app.state.blob_store.container_exists(s["containerId"])


def test_a_second_validate_of_one_session_finds_nothing_to_validate(api, admin):
    connector_id, _ = make_flow(admin)
    s = session(admin, connector_id)
    upload(api, s["containerId"], sorted(SAMPLE.glob("*.csv")))
    first = admin.post(f"{BASE}/dataConnectors/{connector_id}/validate")
    second = admin.post(f"{BASE}/dataConnectors/{connector_id}/validate")
    results = [wait(admin, first.headers["Location"]), wait(admin, second.headers["Location"])]
    assert [r["validatedFiles"] for r in results] == [SAMPLE_FILES, []]
    assert [e["code"] for e in results[1]["errors"]] == ["UploadSessionNotFound"]


def _validated(api: Api, admin: Client) -> str:
    connector_id, _ = make_flow(admin)
    s = session(admin, connector_id)
    upload(api, s["containerId"], sorted(SAMPLE.glob("*.csv")))
    assert validate(admin, connector_id)["errors"] == []
    return connector_id


def test_runs_start_runs_the_validated_package_with_the_statistics_of_homeroom_run(api, admin, tmp_path):
    _validated(api, admin)
    r = admin.post(f"{BASE}/runs/microsoft.graph.industryData.start")
    assert r.status_code == 202 and r.content == b""
    op = wait(admin, r.headers["Location"])
    assert op["@odata.type"] == "#microsoft.graph.longRunningOperation"
    assert op["status"] == "succeeded", op
    run_id = op["resourceLocation"].rsplit("/", 1)[1]
    run = admin.get(f"{BASE}/runs/{run_id}").json()
    assert run["status"] == "completed" and run["endDateTime"] is not None
    activities = admin.get(f"{BASE}/runs/{run_id}/activities").json()["value"]
    assert [(a["displayName"], a["status"]) for a in activities] == [("Inbound rostering flow", "completed")]
    api_stats = admin.get(f"{BASE}/runs/{run_id}/microsoft.graph.industryData.getStatistics()").json()

    cli = Runner("contoso", Settings(data_dir=tmp_path / "cli"))
    outcome = cli.run(SAMPLE, flow_name="Inbound rostering flow", year="2026")
    expected = run_statistics(outcome.run)
    assert api_stats["inboundTotals"] == expected["inboundTotals"]
    assert api_stats["inboundTotals"]["people"] == 8
    assert [{k: v for k, v in a.items() if k != "activityId"} for a in api_stats["activityStatistics"]] == [
        {k: v for k, v in a.items() if k != "activityId"} for a in expected["activityStatistics"]]

    log = admin.get(f"{BASE}/runs/{run_id}/findings")
    assert log.status_code == 200 and log.headers["content-type"] == "text/csv; charset=utf-8"
    assert log.content == cli.findings_file(outcome.run.id).read_bytes()
    jsonl = admin.get(f"{BASE}/runs/{run_id}/findings?format=jsonl")
    assert jsonl.content == cli.findings_file(outcome.run.id, "jsonl").read_bytes()
    assert admin.get(f"{BASE}/runs/{run_id}/findings?format=xlsx").status_code == 400
    assert api.client("fabrikam").get(f"{BASE}/runs/{run_id}/findings").status_code == 404


def test_a_kept_package_and_a_run_over_the_api_hold_no_password(api, admin):
    """The validated upload is kept with its password column blanked (every other byte as uploaded), and the
    run of it, its findings and the lake hold no password anywhere under the data folder (issue 18 item 10)."""
    connector_id = _validated(api, admin)
    with api.app.state.sessions() as db:
        from homeroom.store.models import DataConnector

        kept = Path(db.get(DataConnector, connector_id).current_package)
    uploaded = (SAMPLE / "users.csv").read_bytes()
    assert uploaded.count(b"P@ssword123") == 8
    assert (kept / "users.csv").read_bytes() == uploaded.replace(b"P@ssword123", b"")
    for other in SAMPLE_FILES:
        if other != "users.csv":
            assert (kept / other).read_bytes() == (SAMPLE / other).read_bytes(), other
    op = wait(admin, admin.post(f"{BASE}/runs/microsoft.graph.industryData.start").headers["Location"])
    assert op["status"] == "succeeded", op
    holding = [str(p) for p in api.settings.data_dir.rglob("*") if p.is_file() and b"P@ssword123" in p.read_bytes()]
    assert holding == []


def test_runs_start_refusals(api, admin):
    nothing = admin.post(f"{BASE}/runs/start")
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "NothingToRun"
    assert api.client("contoso", ["IndustryData-Run.Read.All"]).post(f"{BASE}/runs/start").status_code == 403

    _validated(api, admin)
    api.app.state.settings.run_start_limit = 1
    try:
        assert wait(admin, admin.post(f"{BASE}/runs/start").headers["Location"])["status"] == "succeeded"
        refused = admin.post(f"{BASE}/runs/start")
    finally:
        api.app.state.settings.run_start_limit = 5
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "RunStartLimitReached"
    assert refused.json()["error"]["message"].startswith(
        "At most 1 successful on-demand runs are allowed per 12 hours; the next runs/start is allowed at ")


def _flow(client: Client, name: str, connector_id: str, year_id: str, kind: str = "inboundFileFlow", **times: str) -> dict:
    r = client.post(f"{BASE}/inboundFlows", json={
        "@odata.type": f"#microsoft.graph.industryData.{kind}", "displayName": name, "dataDomain": "educationRostering",
        "effectiveDateTime": "2020-01-01T00:00:00Z", **times,
        "dataConnector@odata.bind": f"{BASE}/dataConnectors/{connector_id}", "year@odata.bind": f"{BASE}/years/{year_id}"})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_connector_created_as_microsoft_documents_it_takes_the_detected_format_and_runs(api, admin):
    source, year = make_source(admin), make_year(admin)
    # Microsoft's create page: displayName is the only settable, required property (and the source system binds).
    r = admin.post(f"{BASE}/dataConnectors", json={
        "@odata.type": "#microsoft.graph.industryData.azureDataLakeConnector", "displayName": "CSV connector",
        "sourceSystem@odata.bind": f"https://graph.microsoft.com/beta/external/industryData/sourceSystems('{source['id']}')"})
    assert r.status_code == 201, r.text
    connector = r.json()
    assert connector["fileFormat"] is None
    flow = _flow(admin, "Inbound rostering flow", connector["id"], year["id"])
    assert flow["readinessStatus"] == "ready", "a connector without a format is ready to receive uploads"

    s = session(admin, connector["id"])
    upload(api, s["containerId"], sorted(SAMPLE.glob("*.csv")))
    op = validate(admin, connector["id"])
    assert (op["status"], op["errors"], op["warnings"], op["validatedFiles"]) == ("succeeded", [], [], SAMPLE_FILES)
    assert op["statusDetail"] == ("The connector had no fileFormat: the files were detected as schoolDataSyncV2Rev1, "
                                  "which is now the connector's fileFormat.")
    assert admin.get(f"{BASE}/dataConnectors/{connector['id']}").json()["fileFormat"] == {
        "@odata.type": "#microsoft.graph.industryData.fileFormatReferenceValue", "code": "schoolDataSyncV2Rev1"}

    started = admin.post(f"{BASE}/runs/start")
    assert started.status_code == 202, started.text
    op = wait(admin, started.headers["Location"])
    assert op["status"] == "succeeded", op
    run_id = op["resourceLocation"].rsplit("/", 1)[1]
    assert admin.get(f"{BASE}/runs/{run_id}").json()["status"] == "completed"
    activities = admin.get(f"{BASE}/runs/{run_id}/activities").json()["value"]
    assert [(a["displayName"], a["status"]) for a in activities] == [("Inbound rostering flow", "completed")]

    # Once adopted, the format is the connector's: a package of another format is checked as one and refused.
    s = session(admin, connector["id"])
    upload(api, s["containerId"], sorted((Path(__file__).parents[1] / "fixtures" / "microsoft" / "sds-v1-25-users").glob("*.csv")))
    op = validate(admin, connector["id"])
    assert {e["code"] for e in op["errors"]} == {"RequiredFileNotFound"} and op["statusDetail"] is None
    assert admin.get(f"{BASE}/dataConnectors/{connector['id']}").json()["fileFormat"]["code"] == "schoolDataSyncV2Rev1"


def test_runs_start_refusals_name_each_flow_and_the_reason(api, admin):
    nothing = admin.post(f"{BASE}/runs/start")
    assert nothing.status_code == 409
    assert nothing.json()["error"] == {**nothing.json()["error"], "code": "NothingToRun", "message":
                                       "No inbound flow has data to run: the tenant has no inbound flows; create one first."}

    source, year = make_source(admin), make_year(admin)
    connector = make_file_connector(admin, source["id"])
    _flow(admin, "A waiting", connector["id"], year["id"])
    _flow(admin, "B expired", connector["id"], year["id"], expirationDateTime="2021-06-30T00:00:00Z")
    _flow(admin, "C later", connector["id"], year["id"], effectiveDateTime="2099-01-01T00:00:00Z")
    api_connector = make_api_connector(admin, make_source(admin, "OneRoster SIS")["id"])["id"]
    _flow(admin, "E no secret", api_connector, year["id"], kind="inboundApiFlow")
    from homeroom.store.models import DataConnector, InboundFlow
    with api.app.state.sessions.begin() as db:  # a connector whose secret is gone (as an old database may hold)
        twin = db.get(DataConnector, api_connector)
        copy = DataConnector(tenant_id=twin.tenant_id, kind=twin.kind, display_name="API without secret",
                             source_system_id=twin.source_system_id, settings=twin.settings, secrets={})
        db.add(copy)
        db.flush()
        db.query(InboundFlow).filter(InboundFlow.display_name == "E no secret").one().connector_id = copy.id
        copy_id = copy.id

    refused = admin.post(f"{BASE}/runs/start")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "NothingToRun"
    assert refused.json()["error"]["message"] == (
        f"No inbound flow has data to run: inbound flow 'A waiting' has no validated data: upload files to the upload "
        f"session of dataConnector '{connector['id']}' and validate them; inbound flow 'B expired' expired at "
        "2021-06-30T00:00:00Z; inbound flow 'C later' is not effective until 2099-01-01T00:00:00Z; "
        "inbound flow 'E no secret' is notReady: its dataConnector "
        f"'{copy_id}' has no credential.clientSecret.")


def test_a_flow_without_validated_data_is_skipped_in_a_run_of_others(api, admin, monkeypatch):
    _validated(api, admin)
    source, year = make_source(admin, "Second SIS"), make_year(admin, "2027")
    connector = make_file_connector(admin, source["id"], "Second connector")
    r = admin.post(f"{BASE}/inboundFlows", json={
        "@odata.type": "#microsoft.graph.industryData.inboundFileFlow", "displayName": "Second flow",
        "dataDomain": "educationRostering", "effectiveDateTime": "2020-01-01T00:00:00Z",
        "dataConnector@odata.bind": f"{BASE}/dataConnectors/{connector['id']}", "year@odata.bind": f"{BASE}/years/{year['id']}"})
    assert r.status_code == 201
    op = wait(admin, admin.post(f"{BASE}/runs/start").headers["Location"])
    run_id = op["resourceLocation"].rsplit("/", 1)[1]
    activities = admin.get(f"{BASE}/runs/{run_id}/activities?$orderby=displayName").json()["value"]
    assert [(a["displayName"], a["status"]) for a in activities] == [
        ("Inbound rostering flow", "completed"), ("Second flow", "skipped")]
    assert activities[1]["blockingError"]["code"] == "NoValidatedData"
    assert admin.get(f"{BASE}/runs/{run_id}").json()["status"] == "completed"

    from typer.testing import CliRunner

    from homeroom.cli import app
    from homeroom.settings import get_settings

    monkeypatch.setenv("HOMEROOM_DATA_DIR", str(api.settings.data_dir))
    if api.settings.database_url:
        monkeypatch.setenv("HOMEROOM_DATABASE_URL", api.settings.database_url)
    get_settings.cache_clear()
    try:
        shown = CliRunner().invoke(app, ["runs", "show", run_id, "--tenant", "contoso"], env={"COLUMNS": "200"})
    finally:
        get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    assert f"({admin.get(f'{BASE}/runs/{run_id}').json()['displayName']}, onDemand): completed" in shown.output
    assert "flow Inbound rostering flow: completed" in shown.output
    assert "flow Second flow: skipped (NoValidatedData)" in shown.output
    assert shown.output.count("findings of Inbound rostering flow: ") == 1 and "findings of Second flow" not in shown.output


def test_operations_are_tenant_scoped_and_need_read_basic(api, admin):
    connector_id, _ = make_flow(admin)
    op = validate(admin, connector_id)
    assert api.client("fabrikam").get(f"{BASE}/operations/{op['id']}").status_code == 404
    assert api.client("fabrikam").get(f"{BASE}/operations").json()["value"] == []
    reader = api.client("contoso", ["IndustryData.ReadBasic.All"])
    assert reader.get(f"{BASE}/operations/{op['id']}").json()["id"] == op["id"]
    assert api.client("contoso", ["IndustryData-Run.Read.All"]).get(f"{BASE}/operations").status_code == 403


def test_the_scheduler_runs_due_flows_once_and_skips_after_an_on_demand_run(api, admin):
    _validated(api, admin)
    scheduler = api.app.state.scheduler
    with api.app.state.sessions() as db:
        created = db.get(Tenant, "contoso").created.replace(tzinfo=timezone.utc)
    assert scheduler.tick(api.app.state.blob_store, now=created + timedelta(hours=11)) == []
    due = created + timedelta(hours=12, seconds=1)
    [run_id] = scheduler.tick(api.app.state.blob_store, now=due)
    assert scheduler.tick(api.app.state.blob_store, now=due + timedelta(minutes=1)) == [], "one run per slot"
    with api.app.state.sessions() as db:
        run = db.get(Run, run_id)
        assert (run.trigger, run.status) == ("scheduled", "completed")
        run.started = due  # pin the slot to the tick's clock
        db.commit()
    on_demand = wait(admin, admin.post(f"{BASE}/runs/start").headers["Location"])
    with api.app.state.sessions.begin() as db:
        db.get(Run, on_demand["resourceLocation"].rsplit("/", 1)[1]).started = due + timedelta(hours=3)
    assert scheduler.tick(api.app.state.blob_store, now=due + timedelta(hours=12, seconds=1)) == [], "skipped: 9 h after on-demand"
    assert len(scheduler.tick(api.app.state.blob_store, now=due + timedelta(hours=24, seconds=1))) == 1


def test_provisioning_flow_reset(api, admin):
    flow_set = admin.post(f"{BASE}/outboundProvisioningFlowSets", json={"displayName": "Set"}).json()
    r = admin.post(f"{BASE}/outboundProvisioningFlowSets/{flow_set['id']}/provisioningFlows", json={
        "@odata.type": "#microsoft.graph.industryData.securityGroupProvisioningFlow",
        "creationOptions": {"createBasedOnRoleGroup": True}})
    assert r.status_code == 201, r.text
    flow = r.json()
    path = f"{BASE}/outboundProvisioningFlowSets/{flow_set['id']}/provisioningFlows/{flow['id']}/microsoft.graph.industryData.reset"
    reset = admin.post(path)
    assert (reset.status_code, reset.content) == (202, b"")
    after = admin.get(f"{BASE}/outboundProvisioningFlowSets/{flow_set['id']}/provisioningFlows/{flow['id']}").json()
    assert after["lastModifiedDateTime"] >= flow["lastModifiedDateTime"]
    assert set(after) == set(flow), "the reset is recorded, not shown as a property"
    with api.app.state.sessions() as db:
        from homeroom.store.models import ProvisioningFlow
        assert db.get(ProvisioningFlow, flow["id"]).reset_requested is not None
    assert api.client("contoso", ["IndustryData-OutboundFlow.Read.All"]).post(path).status_code == 403
    assert api.client("fabrikam").post(path).status_code == 404


@pytest.fixture
def admin(api) -> Client:
    return api.client("contoso")


def test_housekeeping_destroys_unvalidated_containers_at_their_expiry_even_with_the_schedule_off(api, admin):
    connector_id, _ = make_flow(admin)
    s = session(admin, connector_id)
    upload(api, s["containerId"], [SAMPLE / "users.csv"])
    store, scheduler = api.app.state.blob_store, api.app.state.scheduler
    api.app.state.settings.schedule_interval_hours = 0
    try:
        expires = datetime.fromisoformat(s["sessionExpirationDateTime"].replace("Z", "+00:00"))
        destroyed_at = datetime.fromisoformat(s["containerExpirationDateTime"].replace("Z", "+00:00"))
        assert scheduler.tick(store, now=expires + timedelta(seconds=1)) == []
        with api.app.state.sessions() as db:
            assert db.get(UploadSession, s["containerId"]).state == "expired"
        assert store.container_exists(s["containerId"]), "kept until the container's own expiry"
        assert session(admin, connector_id)["containerId"] != s["containerId"], "an expired session is not handed out again"
        scheduler.tick(store, now=destroyed_at + timedelta(seconds=1))
        with api.app.state.sessions() as db:
            assert db.get(UploadSession, s["containerId"]).state == "destroyed"
        assert not store.container_exists(s["containerId"])
    finally:
        api.app.state.settings.schedule_interval_hours = 12


def test_a_validation_moves_from_not_started_to_succeeded_and_a_broken_one_ends_failed(api, admin, monkeypatch):
    from homeroom.store.models import DataConnector, Operation
    from homeroom.runs.jobs import begin_validation, run_validation

    connector_id, _ = make_flow(admin)
    s = session(admin, connector_id)
    upload(api, s["containerId"], sorted(SAMPLE.glob("*.csv")))
    state = api.app.state
    with state.sessions.begin() as db:
        op, session_id = begin_validation(db, connector=db.get(DataConnector, connector_id), location="x", owner="test")
        op_id = op.id
    assert admin.get(f"{BASE}/operations/{op_id}").json()["status"] == "notStarted"
    run_validation(state.sessions, state.blob_store, state.settings, operation_id=op_id, connector_id=connector_id,
                   session_id=session_id)
    done = admin.get(f"{BASE}/operations/{op_id}").json()
    assert (done["status"], done["validatedFiles"]) == ("succeeded", SAMPLE_FILES)

    s = session(admin, connector_id)
    upload(api, s["containerId"], sorted(SAMPLE.glob("*.csv")))

    def broken(container, dest):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(state.blob_store, "copy_out", broken)
    failed = validate(admin, connector_id)
    assert failed["status"] == "failed"
    assert failed["statusDetail"] == "The validation could not be carried out: OSError: [Errno 28] No space left on device"
    with state.sessions() as db:
        assert db.get(DataConnector, connector_id).current_package.endswith(op_id), "the last good package stays current"
        gone = f"{socket.gethostname()}:{2**22 + 1}"  # above Linux's largest pid: a process that cannot exist
        db.add(Operation(tenant_id="contoso", kind="fileValidateOperation", status="running", owner=gone))
        db.commit()
    recover_operations(state.sessions)
    stale = [o for o in admin.get(f"{BASE}/operations").json()["value"] if o["status"] == "failed" and o["id"] != failed["id"]]
    assert [o["statusDetail"] for o in stale] == ["The server stopped before the operation finished; start it again."]


def test_a_validation_interrupted_by_a_stopped_server_leaves_the_session_and_its_files(api, admin, settings):
    """SIGKILL during validate used to leave a new, empty container for the next getUploadSession: the files were
    moved out before the verdict. Now a restarted server hands back the same session, files and all."""
    from fastapi.testclient import TestClient

    from homeroom.api import create_app
    from homeroom.runs.jobs import begin_validation
    from homeroom.store.models import DataConnector, Operation

    connector_id, _ = make_flow(admin)
    s = session(admin, connector_id)
    upload(api, s["containerId"], sorted(SAMPLE.glob("*.csv")))
    state = api.app.state
    with state.sessions.begin() as db:  # what validate had done when the server was killed, half-way
        gone = f"{socket.gethostname()}:{2**22 + 1}"
        op, session_id = begin_validation(db, connector=db.get(DataConnector, connector_id), location="x", owner=gone)
        op_id = op.id
    state.blob_store.copy_out(session_id, settings.data_dir / "packages" / "contoso" / connector_id / op_id)
    restarted = create_app(settings)
    with TestClient(restarted):  # `homeroom serve` starting again
        with restarted.state.sessions() as db:
            assert db.get(Operation, op_id).status == "failed"
    assert session(admin, connector_id)["containerId"] == s["containerId"], "the same session, not a new empty one"
    again = validate(admin, connector_id)
    assert (again["status"], again["errors"], again["validatedFiles"]) == ("succeeded", [], SAMPLE_FILES)
    assert not state.blob_store.container_exists(s["containerId"]), "validated: the container is destroyed"


def test_housekeeping_forgets_old_operations_and_cleans_up_after_a_deleted_connector(api, admin):
    source = make_source(admin, "Short-lived SIS")
    connector = make_file_connector(admin, source["id"], "Short-lived connector")
    s = session(admin, connector["id"])
    upload(api, s["containerId"], sorted(SAMPLE.glob("*.csv")))
    op = validate(admin, connector["id"])
    package = api.settings.data_dir / "packages" / "contoso" / connector["id"]
    assert op["errors"] == [] and package.is_dir()
    leftover = session(admin, connector["id"])  # a session nobody validates
    assert admin.delete(f"{BASE}/dataConnectors/{connector['id']}").status_code == 204
    store, scheduler = api.app.state.blob_store, api.app.state.scheduler
    now = datetime.now(timezone.utc)
    scheduler.tick(store, now=now)
    assert store.container_exists(leftover["containerId"]), "an hour's grace for containers being created"
    assert not package.exists(), "the deleted connector's validated files are removed"
    assert admin.get(f"{BASE}/operations/{op['id']}").status_code == 200
    scheduler.tick(store, now=now + timedelta(days=30, hours=1))
    assert not store.container_exists(leftover["containerId"])
    assert admin.get(f"{BASE}/operations/{op['id']}").status_code == 404, "finished operations are forgotten after 30 days"


def _held_run(api, admin) -> tuple[str, str]:
    """A validated sample run, then a second upload without userFlags.csv: held (FileMissing). Returns (connector, run)."""
    connector_id = _validated(api, admin)
    assert wait(admin, admin.post(f"{BASE}/runs/start").headers["Location"])["status"] == "succeeded"
    s = session(admin, connector_id)
    upload(api, s["containerId"], [p for p in sorted(SAMPLE.glob("*.csv")) if p.name != "userFlags.csv"])
    assert validate(admin, connector_id)["errors"] == []
    op = wait(admin, admin.post(f"{BASE}/runs/start").headers["Location"])
    assert op["status"] == "succeeded" and op["statusDetail"] == "The run ended with status held."
    return connector_id, op["resourceLocation"].rsplit("/", 1)[1]


def test_a_held_run_shows_run_held_and_is_approved_over_the_api(api, admin):
    _, run_id = _held_run(api, admin)
    run = admin.get(f"{BASE}/runs/{run_id}").json()
    assert run["status"] == "unknownFutureValue" and run["blockingError"]["code"] == "RunHeld"
    assert "userFlags.csv was in the flow's last completed run but is not in this package" in run["blockingError"]["message"]
    blocked = admin.post(f"{BASE}/runs/start")
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "RunInProgress"
    assert api.client("contoso", ["IndustryData-Run.Read.All"]).post(f"{BASE}/runs/{run_id}/approve").status_code == 403
    assert api.client("fabrikam").post(f"{BASE}/runs/{run_id}/approve").status_code == 404

    r = admin.post(f"{BASE}/runs/{run_id}/approve")
    assert r.status_code == 202 and r.content == b""
    op = wait(admin, r.headers["Location"])
    assert (op["status"], op["statusDetail"]) == (
        "succeeded", "The run was approved and ended with status completedWithWarnings.")  # userFlags.csv is optional: a warning
    assert admin.get(f"{BASE}/runs/{run_id}").json()["status"] == "completedWithWarnings"
    again = admin.post(f"{BASE}/runs/{run_id}/approve")
    assert again.status_code == 409 and again.json()["error"] == {**again.json()["error"], "code": "RunNotHeld",
        "message": f"Run '{run_id}' is completedWithWarnings, not held; only a held run can be approved or discarded."}


def test_a_held_run_has_one_graph_status_in_the_run_its_statistics_and_its_activities(api, admin):
    """Graph's enumerations have no "held": every rendering of a held run says unknownFutureValue."""
    _, run_id = _held_run(api, admin)
    run = admin.get(f"{BASE}/runs/{run_id}").json()
    statistics = admin.get(f"{BASE}/runs/{run_id}/getStatistics").json()
    latest = admin.get(f"{BASE}/runs/getStatistics").json()
    activities = admin.get(f"{BASE}/runs/{run_id}/activities").json()["value"]
    assert (run["status"], statistics["status"], latest["status"]) == ("unknownFutureValue",) * 3
    assert [a["status"] for a in statistics["activityStatistics"]] == ["unknownFutureValue"]
    assert [a["status"] for a in activities] == ["unknownFutureValue"]


def test_a_held_run_shows_held_to_clients_that_prefer_unknown_enum_members(api, admin):
    """Graph's evolvable enums: members after unknownFutureValue only for Prefer: include-unknown-enum-members."""
    _, run_id = _held_run(api, admin)
    prefer = {"Prefer": "odata.maxpagesize=5, Include-Unknown-Enum-Members"}
    paths = (f"{BASE}/runs/{run_id}", f"{BASE}/runs/{run_id}/getStatistics", f"{BASE}/runs/getStatistics",
             f"{BASE}/runs/{run_id}/activities", f"{BASE}/runs")
    for _ in range(2):  # the second round is answered from the read cache: one client's answer is not another's
        plain = [admin.get(p) for p in paths]
        asked = [admin.get(p, headers=prefer) for p in paths]
        assert [r.headers.get("preference-applied") for r in plain] == [None] * 5
        assert [r.headers.get("preference-applied") for r in asked] == ["include-unknown-enum-members"] * 5
        run, statistics, latest, activities, runs = (r.json() for r in asked)
        assert (run["status"], statistics["status"], latest["status"], runs["value"][0]["status"]) == ("held",) * 4
        assert [a["status"] for a in statistics["activityStatistics"]] == ["held"]
        assert [a["status"] for a in activities["value"]] == ["held"]
        assert run["blockingError"]["code"] == "RunHeld"
        assert [r.json()["status"] for r in plain[:3]] == ["unknownFutureValue"] * 3
        assert plain[3].json()["value"][0]["status"] == "unknownFutureValue"
    assert admin.get(f"{BASE}/runs/nope", headers=prefer).headers.get("preference-applied") is None


def test_a_connector_of_a_cli_flow_shows_its_file_format_code_and_refuses_other_formats(api, admin, settings):
    """``homeroom run --format sds-v2.1`` stores the fileFormat code, so the API shows it and uploads are checked."""
    Runner("contoso", settings=settings, sessions=api.app.state.sessions).run(SAMPLE, flow_name="cli", year="2026",
                                                                            format_name="sds-v2.1")
    [connector] = [c for c in admin.get(f"{BASE}/dataConnectors").json()["value"] if c["displayName"] == "cli files"]
    assert connector["fileFormat"]["code"] == "schoolDataSyncV2Rev1"
    classic = Path(__file__).parents[1] / "fixtures" / "microsoft" / "sds-v1-25-users"
    upload(api, session(admin, connector["id"])["containerId"], sorted(classic.glob("*.csv")))
    refused = validate(admin, connector["id"])  # read as the connector's format, SDS v2.1: its files are not there
    assert [(e["code"], e["target"]) for e in refused["errors"]] == [
        ("RequiredFileNotFound", "orgs.csv"), ("RequiredFileNotFound", "users.csv"), ("RequiredFileNotFound", "roles.csv")]
    assert refused["validatedFiles"] == []


def test_a_held_run_is_discarded_over_the_api(api, admin):
    _, run_id = _held_run(api, admin)
    assert admin.post(f"{BASE}/runs/{run_id}/discard").status_code == 204
    run = admin.get(f"{BASE}/runs/{run_id}").json()
    assert run["status"] == "failed" and run["blockingError"]["code"] == "RunDiscarded"
    assert admin.post(f"{BASE}/runs/{run_id}/discard").json()["error"]["code"] == "RunNotHeld"


def test_a_classic_v1_connector_takes_v1_files_and_refuses_v21_files(api, admin, monkeypatch):
    source, year = make_source(admin, "Classic SIS"), make_year(admin)
    r = admin.post(f"{BASE}/dataConnectors", json={
        "@odata.type": "#microsoft.graph.industryData.azureDataLakeConnector", "displayName": "Classic CSV",
        "sourceSystem@odata.bind": f"{BASE}/sourceSystems/{source['id']}",
        "fileFormat": {"@odata.type": "#microsoft.graph.industryData.fileFormatReferenceValue", "code": "schoolDataSyncV1"}})
    assert r.status_code == 201, r.text
    connector_id = r.json()["id"]
    assert admin.post(f"{BASE}/inboundFlows", json={
        "@odata.type": "#microsoft.graph.industryData.inboundFileFlow", "displayName": "Classic flow",
        "dataDomain": "educationRostering", "effectiveDateTime": "2020-01-01T00:00:00Z",
        "dataConnector@odata.bind": f"{BASE}/dataConnectors/{connector_id}", "year@odata.bind": f"{BASE}/years/{year['id']}"}
    ).status_code == 201

    upload(api, session(admin, connector_id)["containerId"], sorted(SAMPLE.glob("*.csv")))
    refused = validate(admin, connector_id)
    assert [e["code"] for e in refused["errors"]] == ["FileFormatMismatch"]
    assert refused["errors"][0]["message"] == ("The files are a sds-v2.1 package, but the connector's fileFormat is "
                                               "schoolDataSyncV1; upload schoolDataSyncV1 files or change the connector.")

    classic = Path(__file__).parents[1] / "fixtures" / "microsoft" / "sds-v1-25-users"
    # Classic usernames lack a domain; the server's settings complete them (HOMEROOM_V1_*_DOMAIN).
    monkeypatch.setattr(api.app.state.settings, "v1_student_domain", "students.contoso.edu")
    monkeypatch.setattr(api.app.state.settings, "v1_teacher_domain", "contoso.edu")
    upload(api, session(admin, connector_id)["containerId"], sorted(classic.glob("*.csv")))
    accepted = validate(admin, connector_id)
    assert accepted["errors"] == [] and accepted["validatedFiles"] == sorted(p.name for p in classic.glob("*.csv"))
    op = wait(admin, admin.post(f"{BASE}/runs/start").headers["Location"])
    run_id = op["resourceLocation"].rsplit("/", 1)[1]
    stats = admin.get(f"{BASE}/runs/{run_id}/getStatistics").json()
    totals = stats["inboundTotals"]  # as `homeroom run` of the same files with the same domains gives
    assert (totals["errors"], totals["warnings"], totals["people"], totals["organizations"], totals["groups"],
            totals["memberships"]) == (0, 30, 24, 2, 2, 46)
