"""start, its verification and the synchronization it starts; pause, resume, reset, expiry; the profile's data
equals a ``homeroom run`` of the same files."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from classictools import PROFILES, delegated_client, provisioned, settled, spec_body, started_profile, upload
from sqlalchemy import func, select

from homeroom.api.statistics import run_statistics
from homeroom.classic.profiles import format_options
from homeroom.lake.tables import Lake
from homeroom.runs import Runner
from homeroom.settings import Settings
from homeroom.store.models import EducationSyncProfile, InboundFlow, Run
from tests.inbound.sds_v1_packages import V1Package

TABLES = ("orgs", "users", "roles", "classes", "enrollments", "academicSessions", "courses")


def _runs(api) -> int:
    with api.app.state.sessions() as db:
        return db.scalar(select(func.count()).select_from(Run))


def test_errors_block_the_start_with_exactly_the_classic_messages(api, tmp_path):
    v1 = V1Package(tmp_path / "package")
    v1.append("Section.csv", ",10001,No Id 1", ",10001,No Id 2", "11004,10001,")
    v1.append("Student.csv", "13030,10001,", "13031,10001,OKlein", "13032,10001,OKLEIN", "13033,10001,BMcMillan")
    v1.append("Teacher.csv", "14003,10001,Bad Name")
    v1.append("StudentEnrollment.csv", "11001,99999", "11999,13001")
    admin = delegated_client(api)
    profile_id, answer = started_profile(admin, v1.root)
    assert answer["@odata.context"] == "http://testserver/beta/$metadata#education/Collection(microsoft.graph.verificationMessage)"
    assert answer["value"] == [
        {"type": "Error", "fileName": "section.csv", "description": "2 row(s) have missing data for the field - SIS ID"},
        {"type": "Error", "fileName": "section.csv", "description": "1 row(s) have missing data for the field - Section Name"},
        {"type": "Error", "fileName": "student.csv", "description": "1 row(s) have missing data for the field - Username"},
        {"type": "Error", "fileName": "studentenrollment.csv", "description": "1 row(s) have referenced data not found in source. Field - SIS ID"},
        {"type": "Error", "fileName": "studentenrollment.csv", "description": "1 row(s) have referenced data not found in source. Field - Section SIS ID"},
        {"type": "Error", "fileName": "teacher.csv", "description": "1 row(s) have an invalid format for the field - Username"},
        {"type": "Warning", "fileName": "student.csv", "description": "3 duplicates found in column Username which requires values to be Unique."},
    ]
    assert _runs(api) == 0, "with an Error nothing runs"
    status = admin.get(f"{PROFILES}/{profile_id}/profileStatus").json()
    assert (status["status"], status["statusMessage"], status["errorCount"]) == (
        "validationError", "The files were not synchronized: verification found 6 error message(s).", 0)
    again = admin.post(f"{PROFILES}/{profile_id}/start")
    assert again.status_code == 400, "the upload was consumed by the start"
    assert again.json()["error"]["message"].startswith("No files were uploaded: GET the profile's uploadUrl")


def test_warnings_do_not_block_the_start_and_the_dropped_records_become_errors(api, tmp_path):
    v1 = V1Package(tmp_path / "package")
    v1.append("Student.csv", "13031,10001,OKlein", "13032,10001,OKLEIN", "13002,10001,Someone")
    admin = delegated_client(api)
    profile_id, answer = started_profile(admin, v1.root)
    assert answer["value"] == [
        {"type": "Warning", "fileName": "student.csv", "description": "1 duplicates found in column SIS ID which requires values to be Unique."},
        {"type": "Warning", "fileName": "student.csv", "description": "2 duplicates found in column Username which requires values to be Unique."},
    ]
    status = settled(admin, profile_id)
    assert (status["status"], status["errorCount"]) == ("success", 3)
    assert status["statusMessage"] == "Synchronized. 3 record(s) could not be synchronized; see errors."
    assert status["lastSynchronizationDateTime"] is not None
    assert _runs(api) == 1

    first = admin.get(f"{PROFILES}/{profile_id}/errors?$top=2&$count=true").json()
    assert first["@odata.count"] == 3 and len(first["value"]) == 2 and "@odata.nextLink" in first
    rest = admin.get(first["@odata.nextLink"]).json()
    errors = sorted(first["value"] + rest["value"], key=lambda e: e["reportableIdentifier"])
    assert "@odata.nextLink" not in rest
    lines = v1.lines("Student.csv")
    assert [(e["entryType"], e["errorCode"], e["joiningValue"], e["reportableIdentifier"]) for e in errors] == [
        ("Student", "DuplicateUsername", "13031", f"Student.csv line {lines - 2}"),
        ("Student", "DuplicateUsername", "13032", f"Student.csv line {lines - 1}"),
        ("Student", "DuplicateSourcedId", "13002", f"Student.csv line {lines}")]
    assert all(e["@odata.type"] == "#microsoft.graph.educationSynchronizationError" and e["recordedDateTime"].endswith("Z")
               for e in errors)
    one = admin.get(f"{PROFILES}/{profile_id}/errors/{errors[0]['id']}").json()
    assert one["errorMessage"] == errors[0]["errorMessage"]
    assert admin.get(f"{PROFILES}/{profile_id}/errors/$count").text == "3"
    assert admin.get(f"{PROFILES}/{profile_id}/errors?$filter=errorCode eq 'DuplicateUsername'&$count=true").json()["@odata.count"] == 2
    assert admin.delete(f"{PROFILES}/{profile_id}/errors/{errors[0]['id']}").status_code == 405


def test_the_profiles_data_equals_homeroom_run_of_the_same_files(api, tmp_path, settings):
    package = tmp_path / "sample"
    import shutil

    from tests.conftest import MS_V1
    shutil.copytree(MS_V1, package)
    admin = delegated_client(api)
    profile_id, answer = started_profile(admin, package)
    assert all(m["type"] == "Warning" for m in answer["value"])
    assert settled(admin, profile_id)["status"] == "success"
    with api.app.state.sessions() as db:
        profile = db.get(EducationSyncProfile, profile_id)
        run = db.get(Run, profile.run_id)
        flow = db.get(InboundFlow, profile.flow_id)
        served = run_statistics(run)
        source_id, year, options = flow.connector.source_system_id, flow.year.code, format_options(profile)
    assert options["student_domain"] == "testschool.edu" and options["optional_properties"]["Student.csv"] == [
        "State ID", "Middle Name", "First Name", "Last Name", "Password"]

    cli = Settings(data_dir=tmp_path / "cli")
    expected = Runner("contoso", cli).run(package, flow_name="classic", year=year, options=options)
    assert run_statistics(expected.run)["inboundTotals"] == served["inboundTotals"]
    assert served["status"] == run_statistics(expected.run)["status"]
    served_lake, cli_lake = Lake.from_settings(settings, "contoso"), Lake.from_settings(cli, "contoso")
    with Runner("contoso", cli).sessions() as db:
        cli_source = db.get(InboundFlow, expected.run.activities[0].flow_id).connector.source_system_id
    volatile = ["sourceSystemId", "firstSeenDateTime", "lastSeenDateTime", "lastChangedDateTime", "lastRunId"]
    for table in TABLES:
        mine = served_lake.read(table, {"sourceSystemId": source_id, "year": year})
        theirs = cli_lake.read(table, {"sourceSystemId": cli_source, "year": year})
        assert (mine is None) == (theirs is None), table
        if mine is None:
            continue
        drop = [c for c in volatile if c in mine.columns]
        assert mine.height > 0, table
        a, b = mine.drop(drop), theirs.drop(drop)
        assert a.sort(a.columns).equals(b.sort(b.columns)), table
    users = served_lake.read("users", {"sourceSystemId": source_id, "year": year})
    assert users.filter(pl.col("username").str.ends_with("@testschool.edu")).height == users.height, "bare usernames got the domain"


def test_pause_resume_and_reset(api, tmp_path):
    v1 = V1Package(tmp_path / "package")
    v1.append("Student.csv", "13031,10001,OKlein")
    admin = delegated_client(api)
    profile_id, _ = started_profile(admin, v1.root)
    assert settled(admin, profile_id)["errorCount"] == 1
    assert admin.post(f"{PROFILES}/{profile_id}/pause").status_code == 200
    status = admin.get(f"{PROFILES}/{profile_id}/profileStatus").json()
    assert (status["status"], status["statusMessage"]) == ("paused", "Paused.")
    assert _runs(api) == 1
    assert admin.post(f"{PROFILES}/{profile_id}/resume").status_code == 200
    assert settled(admin, profile_id)["status"] == "success"
    assert _runs(api) == 2, "resume synchronizes the verified files again"
    assert admin.post(f"{PROFILES}/{profile_id}/resume").status_code == 200
    assert _runs(api) == 2, "resuming a profile that is not paused does nothing"

    with api.app.state.sessions() as db:
        db.get(EducationSyncProfile, profile_id).status = "error"  # as if a synchronization had failed
        db.commit()
    reset = admin.post(f"{PROFILES}/{profile_id}/reset")
    assert reset.status_code == 200, reset.text
    status = settled(admin, profile_id)
    assert (status["status"], status["errorCount"]) == ("success", 1), "reset cleared the errors, the new sync found its own"
    assert _runs(api) == 3

    fresh = admin.post(PROFILES, json=spec_body(displayName="Never started")).json()["id"]
    provisioned(admin, fresh)
    assert admin.post(f"{PROFILES}/{fresh}/pause").status_code == 200
    assert admin.post(f"{PROFILES}/{fresh}/resume").status_code == 200
    assert admin.post(f"{PROFILES}/{fresh}/reset").status_code == 200
    assert admin.get(f"{PROFILES}/{fresh}/profileStatus").json()["status"] == "paused"
    assert _runs(api) == 3, "a profile never started has nothing to synchronize"


def test_an_expired_profile_does_not_synchronize(api, tmp_path):
    v1 = V1Package(tmp_path / "package")
    admin = delegated_client(api)
    profile_id = admin.post(PROFILES, json=spec_body(expirationDate=(date.today() + timedelta(days=30)).isoformat())).json()["id"]
    provisioned(admin, profile_id)
    upload(admin, profile_id, v1.root)
    with api.app.state.sessions() as db:
        db.get(EducationSyncProfile, profile_id).expiration_date = date.today() - timedelta(days=1)
        db.commit()
    expired = admin.post(f"{PROFILES}/{profile_id}/start")
    assert expired.status_code == 400
    assert expired.json()["error"]["message"] == (
        f"The profile expired on {(date.today() - timedelta(days=1)).isoformat()}; set a later expirationDate "
        "(PATCH the profile) to synchronize it again.")
    assert admin.get(f"{PROFILES}/{profile_id}/profileStatus").json()["statusMessage"].startswith("The profile expired on")
    assert _runs(api) == 0


def test_a_provisioning_profile_and_providers_homeroom_cannot_read_are_refused_at_start(api):
    admin = delegated_client(api)
    oneroster = admin.post(PROFILES, json=spec_body(dataProvider={
        "@odata.type": "#microsoft.graph.educationOneRosterApiDataProvider", "connectionUrl": "https://sis.example/ims/oneroster",
        "connectionSettings": {"@odata.type": "#microsoft.graph.educationSynchronizationOAuth2ClientCredentialsConnectionSettings",
                               "clientId": "id", "clientSecret": "secret", "tokenUrl": "https://sis.example/token"}})).json()["id"]
    powerschool = admin.post(PROFILES, json=spec_body(dataProvider={
        "@odata.type": "#microsoft.graph.educationPowerSchoolDataProvider", "connectionUrl": "https://ps.example",
        "clientId": "id", "clientSecret": "s", "schoolsIds": ["1"], "schoolYear": "2026"})).json()["id"]
    for profile_id in (oneroster, powerschool):
        provisioned(admin, profile_id)
    r = admin.post(f"{PROFILES}/{oneroster}/start")
    assert (r.status_code, r.json()["error"]["message"]) == (400, (
        "The OneRoster API connector is not configured on this server yet, so a profile with an "
        "educationOneRosterApiDataProvider cannot synchronize; use an educationCsvDataProvider profile (upload the "
        "classic CSV files) meanwhile."))
    r = admin.post(f"{PROFILES}/{powerschool}/start")
    assert (r.status_code, r.json()["error"]["message"]) == (400, (
        "The PowerSchool source at https://ps.example cannot be reached: Homeroom has no PowerSchool reader. Export the "
        "classic CSV files from PowerSchool and use an educationCsvDataProvider profile."))
    r = admin.get(f"{PROFILES}/{powerschool}/uploadUrl")
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("uploadUrl is for profiles with an educationCsvDataProvider")
    assert _runs(api) == 0


def test_deferred_enrollments_and_a_future_start_date_keep_memberships_out(api, tmp_path):
    v1 = V1Package(tmp_path / "package")
    admin = delegated_client(api)
    future = (date.today() + timedelta(days=10)).isoformat() + "T00:00:00Z"
    body = spec_body(dataProvider={"@odata.type": "#microsoft.graph.educationCsvDataProvider", "customizations": {
        "studentEnrollment": {"synchronizationStartDate": future}, "teacherRoster": {"isSyncDeferred": True}}})
    profile_id, answer = started_profile(admin, v1.root, body)
    assert answer["value"] == []
    assert settled(admin, profile_id)["status"] == "success"
    with api.app.state.sessions() as db:
        run = db.get(Run, db.get(EducationSyncProfile, profile_id).run_id)
        totals = run_statistics(run)["inboundTotals"]
    assert (totals["memberships"], totals["people"]) == (0, 24), "no membership synced; every person did"


def test_a_synchronization_held_by_a_safety_threshold_is_quarantined_until_approved(api, tmp_path):
    v1 = V1Package(tmp_path / "package")
    admin = delegated_client(api)
    profile_id, _ = started_profile(admin, v1.root)
    assert settled(admin, profile_id)["status"] == "success"
    lines = v1.path("Student.csv").read_text().splitlines()
    v1.write("Student.csv", "\r\n".join(lines[:3]) + "\r\n")  # 2 of 22 students left: most would be deactivated
    v1.write("StudentEnrollment.csv", "Section SIS ID,SIS ID\r\n")
    upload(admin, profile_id, v1.root)
    assert admin.post(f"{PROFILES}/{profile_id}/start").json()["value"] == []
    status = settled(admin, profile_id)
    with api.app.state.sessions() as db:
        run_id = db.get(EducationSyncProfile, profile_id).run_id
    assert (status["status"], status["statusMessage"]) == ("quarantined", (
        f"The synchronization was held by a safety threshold: approve or discard run {run_id} "
        f"(industryData runs/{run_id}/approve or /discard)."))
    runs = api.client("contoso", ["IndustryData-Run.Start"])
    assert runs.post(f"/beta/external/industryData/runs/{run_id}/approve").status_code == 202

    def released():
        body = admin.get(f"{PROFILES}/{profile_id}/profileStatus").json()
        return body if body["status"] not in ("quarantined", "inProgress") else None
    from classictools import wait_until
    status = wait_until(released, "the held run to be approved")
    assert (status["status"], status["statusMessage"]) == ("success", f"The held synchronization (run {run_id}) was approved or discarded.")
