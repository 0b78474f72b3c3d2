"""OneRoster delta packages: status and dateLastModified, references to earlier records, and a run after the bulk.

The delta fixture (tests/fixtures/oneroster/delta-1.1) changes the bulk-1.1 fixture: s-2 moves to
school-2 and loses its contact, s-4 arrives, s-3 and p-3 leave, enrollment e-9 arrives and e-8 leaves.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from homeroom.runs import Runner
from homeroom.settings import Settings
from homeroom.validate import validate_package
from tests.conftest import finding_tuples
from tests.inbound.oneroster_packages import ONEROSTER, OneRosterPackage, counts, table

UTC = dt.timezone.utc


@pytest.fixture
def delta(tmp_path) -> OneRosterPackage:
    return OneRosterPackage(tmp_path / "delta-1.1", "delta-1.1")


def test_delta_package_keeps_status_and_accepts_references_to_earlier_records():
    result = validate_package(ONEROSTER / "delta-1.1")
    # orgs.csv and classes.csv are absent: references to them point at records sent earlier.
    assert finding_tuples(result.findings) == [
        ("InactiveStatus", "warning", "users.csv", 5, "p-3", "status", "inactive"),
        ("RequiredValueMissing", "error", "enrollments.csv", 4, "class-math-5a/s-2/student", "dateLastModified", None),
    ]
    assert counts(result) == {"users": 4, "roles": 3, "enrollments": 2, "relationships": 1}
    users = table(result, "users")
    assert users.select("sourcedId", "status").rows() == [
        ("s-2", "active"), ("s-4", "active"), ("s-3", "tobedeleted"), ("p-3", "tobedeleted"),
    ]
    assert users["dateLastModified"].to_list()[:2] == [dt.datetime(2025, 1, 10, 8, tzinfo=UTC)] * 2
    assert table(result, "roles").select("userSourcedId", "orgSourcedId", "status").rows() == [
        ("s-2", "school-2", "active"), ("s-4", "school-1", "active"), ("s-3", "school-2", "tobedeleted"),
    ]
    # p-1 is not restated in this delta, so its role is unknown here: the relationship role is "other".
    assert table(result, "relationships").select("userSourcedId", "relationshipUserSourcedId", "relationshipRole").rows() == [
        ("s-4", "p-1", "other"),
    ]
    assert table(result, "enrollments").select("oneRosterSourcedId", "status").rows() == [("e-9", "active"), ("e-8", "tobedeleted")]


def test_delta_rows_without_a_valid_status_or_date_are_dropped(delta):
    delta.replace("users.csv", "s-2,active,", "s-2,deleted,")
    delta.replace("users.csv", "s-4,active,2025-01-10T08:00:00Z,", "s-4,active,yesterday,")
    delta.replace("users.csv", "s-3,tobedeleted,", "s-3,,")
    result = validate_package(delta.root)
    assert finding_tuples(result.findings) == [
        ("InactiveStatus", "warning", "users.csv", 5, "p-3", "status", "inactive"),
        ("InvalidDateTime", "error", "users.csv", 3, "s-4", "dateLastModified", "yesterday"),
        ("InvalidStatus", "error", "users.csv", 2, "s-2", "status", "deleted"),
        # The enrollment of s-4 refers to a record that was read and dropped: that is still reported.
        ("ReferenceDropped", "error", "enrollments.csv", 2, "class-math-5a/s-4/student", "userSourcedId", "s-4"),
        ("ReferenceDropped", "error", "enrollments.csv", 3, "class-sci-7/s-3/student", "userSourcedId", "s-3"),
        ("RequiredValueMissing", "error", "enrollments.csv", 4, "class-math-5a/s-2/student", "dateLastModified", None),
        ("RequiredValueMissing", "error", "users.csv", 4, "s-3", "status", None),
    ]
    assert counts(result) == {"users": 1, "roles": 0, "enrollments": 0, "relationships": 0}
    assert {name: (s.records, s.valid) for name, s in result.files.items()} == {
        "manifest.csv": (15, 15), "users.csv": (4, 1), "enrollments.csv": (3, 0),
    }


def test_delta_checks_the_references_it_can(delta):
    delta.write("users.csv", delta.text("users.csv") + "s-5,active,2025-01-12T10:00:00Z,true,school-1,student,noa,,Noa,Roth,,,,,,,05,\n")
    delta.write("enrollments.csv", delta.text("enrollments.csv") + "e-10,active,2025-01-12T10:00:00Z,class-new,school-1,s-5,student,,,\n")
    result = validate_package(delta.root)
    assert finding_tuples(result.findings) == [
        ("InactiveStatus", "warning", "users.csv", 5, "p-3", "status", "inactive"),
        ("InvalidUsername", "error", "users.csv", 6, "s-5", "username", "noa"),
        # class-new is not in the package: it may have been sent earlier. s-5 was read and dropped.
        ("ReferenceDropped", "error", "enrollments.csv", 5, "class-new/s-5/student", "userSourcedId", "s-5"),
        ("RequiredValueMissing", "error", "enrollments.csv", 4, "class-math-5a/s-2/student", "dateLastModified", None),
    ]
    # s-5's role goes with it, without a second finding on its line.
    assert table(result, "roles")["userSourcedId"].to_list() == ["s-2", "s-4", "s-3"]


def test_a_delta_file_without_a_status_column_stops_the_run(delta):
    lines = delta.text("enrollments.csv").splitlines()
    delta.write("enrollments.csv", "".join(",".join(line.split(",")[:1] + line.split(",")[2:]) + "\n" for line in lines))
    result = validate_package(delta.root)
    assert finding_tuples(result.findings) == [("HeaderNotPresent", "catastrophic", "enrollments.csv", 1, None, None, None)]
    assert result.findings["message"][0] == (
        "Unable to find status in enrollments.csv. It is required in a delta file, and manifest.csv lists enrollments.csv as delta."
    )
    assert result.stopped


def test_delta_merged_into_the_bulk_it_follows(tmp_path):
    """Run bulk-1.1 then delta-1.1: the lake's active rows are the bulk with the delta merged in."""
    runner = Runner("t", settings=Settings(data_dir=tmp_path / "data"))
    runner.run(ONEROSTER / "bulk-1.1", flow_name="or", year="2026")
    orgs = runner.lake.read("orgs")
    runner.run(ONEROSTER / "delta-1.1", flow_name="or", year="2026")
    active = {name: runner.lake.read(name).filter(pl.col("isActive")) for name in runner.lake.tables() if name != "_changes"}
    assert {name: frame.height for name, frame in active.items()} == {
        "orgs": 3, "academicSessions": 3, "courses": 2, "users": 8, "roles": 7, "classes": 3, "enrollments": 8,
        "demographics": 3, "relationships": 3,
    }
    assert sorted(active["users"]["sourcedId"]) == ["a-1", "p-1", "p-2", "s-1", "s-2", "s-4", "t-1", "t-2"]
    # s-2's row restates its orgs: its role at school-1 gives way to school-2; s-3's role goes with it.
    assert sorted(active["roles"].select("userSourcedId", "orgSourcedId").rows()) == [
        ("a-1", "district-1"), ("s-1", "school-1"), ("s-2", "school-2"), ("s-4", "school-1"),
        ("t-1", "school-1"), ("t-2", "school-1"), ("t-2", "school-2"),
    ]
    # s-2's row lists no agents any more: its relationship with p-3 goes; s-4 brings one.
    assert sorted(active["relationships"].select("userSourcedId", "relationshipUserSourcedId").rows()) == [
        ("s-1", "p-1"), ("s-1", "p-2"), ("s-4", "p-1"),
    ]
    assert sorted(active["enrollments"]["oneRosterSourcedId"]) == ["e-1", "e-2", "e-3", "e-4", "e-5", "e-6", "e-7", "e-9"]
    assert runner.lake.read("orgs").equals(orgs), "an entity the delta does not have is not rewritten"
