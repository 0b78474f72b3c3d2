"""Runs end to end on SQLite and PostgreSQL: first run, reruns, changes, reappearance, rollover, holds."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from homeroom.runs import RunError, Runner
from homeroom.runs.reports import run_statistics
from tests.conftest import MS_V21

SAMPLE_STATS = {
    "errors": 0, "warnings": 0,
    "people": {"total": 8, "active": 8, "inactive": 0},
    "organizations": {"total": 4, "active": 4, "inactive": 0},
    "groups": {"total": 2, "active": 2, "inactive": 0},
    "memberships": {"total": 6, "active": 6, "inactive": 0},
    # No directory target is configured: nobody was matched or found unmatched, and the statistics say why.
    "matchedPeopleByRole": [], "unmatchedPeopleByRole": [],
    "@homeroom.matching": {"status": "noDirectory", "message": "No directory target is configured for this flow's source "
                           "system; people were not matched (homeroom targets add ... --source)."},
}


def package(tmp_path: Path, name: str = "pkg") -> Path:
    target = tmp_path / name
    shutil.copytree(MS_V21, target)
    return target


def edit(pkg: Path, file: str, old: str, new: str) -> None:
    text = (pkg / file).read_bytes().decode()
    assert old in text
    (pkg / file).write_bytes(text.replace(old, new, 1).encode())


def users(runner: Runner, year: str = "2026") -> pl.DataFrame:
    return runner.lake.read("users", {"year": year}).sort("sourcedId")


def changed_package(tmp_path: Path) -> Path:
    """The sample with a guardian gone (and their relationship), a renamed user and a new school."""
    pkg = package(tmp_path, "changed")
    edit(pkg, "users.csv", "114005,bobsmithee@outlook.com,Bob,Smithee,P@ssword123,,bobsmithee@outlook.com,+10273841983,+10273841983\r\n", "")
    edit(pkg, "relationships.csv", "114004,114005,guardian\r\n", "")
    edit(pkg, "users.csv", "114001,jcraig@classrmtest31.org,Jack,", "114001,jcraig@classrmtest31.org,Jackson,")
    (pkg / "orgs.csv").write_bytes((pkg / "orgs.csv").read_bytes() + b"110005,Annex,school,110004\r\n")
    return pkg


def test_first_run_completes_with_graph_statistics_and_first_seen(runner, tmp_path):
    outcome = runner.run(package(tmp_path), flow_name="sis", year="2026")
    assert outcome.run.status == "completed"
    assert outcome.activity.statistics == SAMPLE_STATS
    assert outcome.activity.changes["users"] == {
        "added": 8, "updated": 0, "deactivated": 0, "reactivated": 0, "activeBefore": 0, "active": 8, "inactive": 0, "total": 8,
    }
    rows = users(runner)
    assert rows.height == 8 and rows["isActive"].all()
    assert (rows["firstSeenDateTime"] == rows["lastSeenDateTime"]).all()
    assert rows.filter(pl.col("sourcedId") == "114002")["email"].to_list() == ["jean.craig@outlook.com"]
    stats = run_statistics(outcome.run)
    assert stats["inboundTotals"] == {
        "errors": 0, "warnings": 0, "groups": 2, "memberships": 6, "organizations": 4, "people": 8,
        "matchedPeopleByRole": SAMPLE_STATS["matchedPeopleByRole"], "unmatchedPeopleByRole": SAMPLE_STATS["unmatchedPeopleByRole"],
    }
    assert runner.findings_file(outcome.run.id).read_bytes().startswith(b"\xef\xbb\xbf")


def test_the_same_snapshot_twice_changes_nothing_but_last_seen(runner, tmp_path):
    runner.run(package(tmp_path), flow_name="sis", year="2026")
    before = users(runner)
    second = runner.run(package(tmp_path, "again"), flow_name="sis", year="2026")
    after = users(runner)
    assert all(c["added"] + c["updated"] + c["deactivated"] + c["reactivated"] == 0 for c in second.activity.changes.values())
    assert (after["lastSeenDateTime"] > before["lastSeenDateTime"]).all()
    unchanged = [c for c in after.columns if c not in ("lastSeenDateTime",)]
    assert after.select(unchanged).equals(before.select(unchanged))
    assert runner.lake.read("_changes").filter(pl.col("runId") == second.run.id).height == 0


def test_a_run_that_would_deactivate_too_much_is_held_then_approved(runner, tmp_path):
    runner.run(package(tmp_path), flow_name="sis", year="2026")
    held = runner.run(changed_package(tmp_path), flow_name="sis", year="2026")
    assert held.run.status == "held"
    assert held.run.held_reason == [{
        "code": "DeactivationThreshold", "entity": "users", "deactivated": 1, "activeBefore": 8, "threshold": 0.1,
        "message": "1 of 8 active users (12.5%) would be deactivated, more than the threshold of 10%.",
    }, {
        "code": "DeactivationThreshold", "entity": "relationships", "deactivated": 1, "activeBefore": 3, "threshold": 0.1,
        "message": "1 of 3 active relationships (33.3%) would be deactivated, more than the threshold of 10%.",
    }]
    assert users(runner)["isActive"].all(), "a held run writes nothing"
    with pytest.raises(RunError, match="is held; approve or discard it first"):
        runner.run(package(tmp_path, "third"), flow_name="sis", year="2026")

    approved = runner.approve(held.run.id)
    assert approved.run.status == "completed"
    assert approved.activity.changes["users"] == {
        "added": 0, "updated": 1, "deactivated": 1, "reactivated": 0, "activeBefore": 8, "active": 7, "inactive": 1, "total": 8,
    }
    assert approved.activity.changes["orgs"]["added"] == 1
    rows = users(runner)
    assert rows.filter(pl.col("sourcedId") == "114005")["isActive"].to_list() == [False]
    assert rows.filter(pl.col("sourcedId") == "114001")["givenName"].to_list() == ["Jackson"]
    changes = runner.lake.read("_changes").filter(pl.col("runId") == held.run.id).sort("entity", "recordId")
    assert changes.select("entity", "recordId", "change").rows() == [
        ("orgs", "110005", "added"),
        ("relationships", "114004/114005", "deactivated"),
        ("users", "114001", "updated"),
        ("users", "114005", "deactivated"),
    ]
    assert changes.filter(pl.col("change") == "updated")["changedFields"].to_list() == [["givenName"]]


def test_a_discarded_run_changes_nothing(runner, tmp_path):
    runner.run(package(tmp_path), flow_name="sis", year="2026")
    before = users(runner)
    held = runner.run(changed_package(tmp_path), flow_name="sis", year="2026")
    assert runner.discard(held.run.id).status == "discarded"
    assert users(runner).equals(before)
    with pytest.raises(RunError, match="is discarded, not held"):
        runner.approve(held.run.id)
    assert runner.run(package(tmp_path, "next"), flow_name="sis", year="2026").run.status == "completed"


def test_a_missing_file_holds_the_run_and_approval_deactivates_its_records(runner, tmp_path):
    runner.run(package(tmp_path), flow_name="sis", year="2026")
    short = package(tmp_path, "short")
    (short / "userFlags.csv").unlink()
    held = runner.run(short, flow_name="sis", year="2026")
    assert held.run.status == "held"
    assert [r["code"] for r in held.run.held_reason] == ["FileMissing"]
    assert held.run.held_reason[0]["message"] == (
        "userFlags.csv was in the flow's last completed run but is not in this package; approving deactivates all of its records."
    )
    approved = runner.approve(held.run.id)
    assert approved.activity.changes["userFlags"]["deactivated"] == 3
    assert not runner.lake.read("userFlags")["isActive"].any()


def test_a_missing_file_whose_name_is_not_its_entity_is_deactivated_on_approval(runner, tmp_path):
    """SDS v1's Guardianrelationship.csv fills relationships: the hold and the approval go by the format's files."""
    from homeroom.synthetic import generate_district

    domains = {"student_domain": "students.example.edu", "teacher_domain": "example.edu"}
    generate_district(tmp_path / "v1", 300, seed=4, format_name="sds-v1")
    first = runner.run(tmp_path / "v1", flow_name="v1", year="2026", options=domains)
    active = first.activity.changes["relationships"]["active"]
    assert first.run.status == "completed" and active > 0
    shutil.copytree(tmp_path / "v1", tmp_path / "v1-short")
    for name in ("Guardianrelationship.csv", "User.csv"):  # supplied together or not at all
        (tmp_path / "v1-short" / name).unlink()
    held = runner.run(tmp_path / "v1-short", flow_name="v1", year="2026", options=domains)
    assert held.run.status == "held"
    assert [(r["code"], r.get("file", r.get("entity"))) for r in held.run.held_reason] == [
        ("FileMissing", "Guardianrelationship.csv"), ("FileMissing", "User.csv"), ("DeactivationThreshold", "users")]
    approved = runner.approve(held.run.id)
    assert approved.run.status == "completedWithWarnings"  # the optional files are missing: warnings
    assert approved.activity.changes["relationships"]["deactivated"] == active
    assert not runner.lake.read("relationships")["isActive"].any()


def test_the_connector_of_a_cli_flow_keeps_the_file_format_code_not_the_format_name(runner, tmp_path):
    """``homeroom run --format sds-v2.1`` and ``homeroom flows create`` store one vocabulary: Graph's fileFormat codes."""
    from homeroom.store import service

    runner.run(package(tmp_path), flow_name="named", year="2026", format_name="sds-v2.1")
    runner.run(package(tmp_path, "v1"), flow_name="detected", year="2026")
    with runner.sessions() as db:
        named = service.get_flow(db=db, tenant_id="district-a", display_name="named").connector
        detected = service.get_flow(db=db, tenant_id="district-a", display_name="detected").connector
        assert (named.file_format, named.current_package_format) == ("schoolDataSyncV2Rev1", None)
        assert detected.file_format is None


def test_a_record_that_reappears_is_reactivated_with_its_first_seen_kept(runner, tmp_path):
    runner.run(package(tmp_path), flow_name="sis", year="2026")
    first_seen = users(runner).filter(pl.col("sourcedId") == "114005")["firstSeenDateTime"][0]
    runner.approve(runner.run(changed_package(tmp_path), flow_name="sis", year="2026").run.id)
    back_package = package(tmp_path, "back")
    (back_package / "orgs.csv").write_bytes((back_package / "orgs.csv").read_bytes() + b"110005,Annex,school,110004\r\n")
    back = runner.run(back_package, flow_name="sis", year="2026")
    assert back.run.status == "completed"
    assert back.activity.changes["users"]["reactivated"] == 1
    row = users(runner).filter(pl.col("sourcedId") == "114005")
    assert row["isActive"].to_list() == [True]
    assert row["firstSeenDateTime"][0] == first_seen


def test_school_year_rollover_keeps_each_year_apart(runner, tmp_path):
    runner.run(package(tmp_path), flow_name="sis-2025", year="2025")
    pkg = changed_package(tmp_path)
    outcome = runner.run(pkg, flow_name="sis-2026", year="2026")
    assert outcome.run.status == "completed", "a new year's first run deactivates nothing"
    y2025, y2026 = users(runner, "2025"), users(runner, "2026")
    assert y2025.filter(pl.col("sourcedId") == "114005")["isActive"].to_list() == [True]
    assert y2026.filter(pl.col("sourcedId") == "114005").height == 0
    assert y2026.height == 7 and y2026["isActive"].all()
    with pytest.raises(RunError, match="brings data into school year 2025, not 2026"):
        runner.run(pkg, flow_name="sis-2025", year="2026")


def test_a_delta_package_changes_only_its_rows(runner, tmp_path):
    runner.run(package(tmp_path), flow_name="sis", year="2026")
    delta = changed_package(tmp_path)
    outcome = runner.run(delta, flow_name="sis", year="2026", delta=True)
    assert outcome.run.status == "completed", "a delta package never deactivates by absence, so nothing is held"
    rows = users(runner)
    assert rows["isActive"].all(), "114005 is absent from the delta, not deleted"
    assert rows.filter(pl.col("sourcedId") == "114001")["givenName"].to_list() == ["Jackson"]
    assert outcome.activity.changes["users"]["updated"] == 1 and outcome.activity.changes["users"]["deactivated"] == 0


def test_a_refused_package_fails_the_run_and_writes_nothing(runner, tmp_path):
    pkg = package(tmp_path)
    (pkg / "roles.csv").unlink()
    outcome = runner.run(pkg, flow_name="sis", year="2026")
    assert outcome.run.status == "failed"
    assert outcome.run.blocking_error == {
        "code": "PackageRefused",
        "message": "Unable to find roles.csv in pkg. roles.csv is required in every SDS v2.1 CSV package.",
    }
    assert runner.lake.read("users") is None


def test_errors_give_completed_with_errors_and_their_findings_are_kept(runner, tmp_path):
    pkg = package(tmp_path)
    edit(pkg, "enrollments.csv", "112002,114007,teacher\r\n", "112002,114007,teacher\r\n112002,ghost,student\r\n")
    outcome = runner.run(pkg, flow_name="sis", year="2026")
    assert outcome.run.status == "completedWithErrors"
    assert outcome.activity.statistics["errors"] == 1
    assert [(f.file, f.rule, f.level, f.count) for f in outcome.activity.findings] == [
        ("enrollments.csv", "ReferenceNotFound", "error", 1)
    ]
    assert "'ghost' was not found in users.csv." in runner.findings_file(outcome.run.id, "jsonl").read_text()


def test_tenants_do_not_see_each_others_runs(settings, tmp_path):
    a, b = Runner("tenant-a", settings=settings), Runner("tenant-b", settings=settings)
    run = a.run(package(tmp_path), flow_name="sis", year="2026").run
    with pytest.raises(RunError, match="no run"):
        b.approve(run.id)
    assert b.lake.read("users") is None


def test_a_generated_district_and_its_next_snapshot(runner, tmp_path):
    from homeroom.synthetic import generate_district
    from homeroom.synthetic.churn import churn_package

    generate_district(tmp_path / "d", 500, seed=2)
    churn_package(tmp_path / "d", tmp_path / "d2", 0.02, seed=3)
    first = runner.run(tmp_path / "d", flow_name="sis", year="2026")
    second = runner.run(tmp_path / "d2", flow_name="sis", year="2026")
    assert (first.run.status, second.run.status) == ("completed", "completed")
    users = second.activity.changes["users"]
    assert (users["added"], users["updated"], users["deactivated"], users["reactivated"]) == (10, 10, 10, 0)
    assert second.activity.changes["demographics"]["added"] == 10 and second.activity.changes["demographics"]["deactivated"] == 10
    assert second.activity.statistics["people"]["inactive"] == 10


def test_a_oneroster_bulk_then_delta_package_updates_without_deactivating_by_absence(runner, tmp_path):
    """The manifest says delta: records absent from the delta stay, unless the delta restates their owner;
    tobedeleted (and "inactive") deactivate."""
    fixtures = Path(__file__).parents[1] / "fixtures" / "oneroster"
    first = runner.run(fixtures / "bulk-1.1", flow_name="or", year="2026")
    assert first.run.status == "completed" and first.activity.changes["users"]["added"] == 9
    second = runner.run(fixtures / "delta-1.1", flow_name="or", year="2026")
    assert second.run.status == "completedWithErrors"  # the fixture has an enrollment without a user
    changes = {k: (v["added"], v["updated"], v["deactivated"]) for k, v in second.activity.changes.items()}
    # s-2's users.csv row restates its orgs (now school-2 only) and agents (none), so besides s-3's role
    # (tobedeleted) s-2's role at school-1 is deactivated, and its relationship with p-3 too.
    assert changes == {"users": (1, 1, 2), "roles": (2, 0, 2), "enrollments": (1, 0, 1), "relationships": (1, 0, 1)}
    users = runner.lake.read("users").sort("sourcedId")
    assert users.filter(~pl.col("isActive"))["sourcedId"].to_list() == ["p-3", "s-3"]
    assert users.height == 10, "nothing absent from the delta was deactivated or lost"


def test_a_flow_threshold_lets_an_expected_change_through_and_is_kept(runner, tmp_path):
    runner.run(package(tmp_path), flow_name="sis", year="2026")
    outcome = runner.run(changed_package(tmp_path), flow_name="sis", year="2026", thresholds={"default": 0.5})
    assert outcome.run.status == "completed"
    with pytest.raises(RunError, match="thresholds are a share from 0 to 1"):
        runner.run(package(tmp_path, "x"), flow_name="sis", year="2026", thresholds={"pupils": 0.2})
    from homeroom.store import service

    with runner.sessions() as db:
        assert service.get_flow(db=db, tenant_id="district-a", display_name="sis").thresholds == {"default": 0.5}


def test_runs_validate_with_the_codes_the_tenant_added_or_disabled(settings, tmp_path):
    from homeroom.model.reference import ReferenceDefinition
    from homeroom.store.references import save_definition

    pkg = package(tmp_path)
    (pkg / "userFlags.csv").write_bytes((pkg / "userFlags.csv").read_bytes() + b"114004,migrant\r\n")
    mine, other = Runner("tenant-a", settings=settings), Runner("tenant-b", settings=settings)
    with mine.sessions.begin() as db:
        save_definition(db=db, tenant_id="tenant-a", definition=ReferenceDefinition("RefPersonFlagType", "migrant", 900, "Tenant Defined"))
    assert mine.run(pkg, flow_name="sis", year="2026").activity.statistics["errors"] == 0
    assert [(f.rule, f.count) for f in other.run(pkg, flow_name="sis", year="2026").activity.findings] == [("InvalidEnumValue", 1)]
