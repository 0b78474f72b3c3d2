"""SDS v2.0 (legacy) CSV: read into the canonical model, with inline role memberships and one warning."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from homeroom.validate import validate_package
from tests.conftest import MS_V20, SamplePackage, finding_tuples

SUPERSEDED = (
    "SDS v2.0 is superseded by SDS v2.1: the users.csv columns orgSourcedIds, role and grade were read as role "
    "memberships (one per org). Move them into roles.csv (userSourcedId, orgSourcedId, role, grade) and send SDS v2.1 files."
)


class V20Package(SamplePackage):
    """A writable copy of Microsoft's v2.0 sample."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(MS_V20, root)


@pytest.fixture
def v20(tmp_path: Path) -> V20Package:
    return V20Package(tmp_path / "package")


def table(result, entity: str) -> pl.DataFrame:
    return pl.from_arrow(result.tables[entity])


def test_microsoft_sample_is_read_with_one_superseded_format_warning():
    result = validate_package(MS_V20)
    assert result.format == "sds-v2.0" and result.exit_code == 0
    assert result.findings.select("rule", "level", "file", "message").rows() == [("SupersededFormat", "warning", "users.csv", SUPERSEDED)]
    assert {name: (s.records, s.valid) for name, s in result.files.items()} == {
        "orgs.csv": (5, 5), "users.csv": (29, 29), "classes.csv": (4, 4), "enrollments.csv": (29, 29),
    }
    # One role membership per user (each names one org), every reference resolved.
    assert {e: t.num_rows for e, t in result.tables.items()} == {"orgs": 5, "users": 29, "roles": 29, "classes": 4, "enrollments": 29}


def test_inline_roles_and_codes_are_matched_without_regard_to_case():
    result = validate_package(MS_V20)
    roles = table(result, "roles")
    assert roles.filter(pl.col("userSourcedId") == "13001").select("orgSourcedId", "role", "grade").row(0) == ("10001", "student", "06")
    assert dict(roles.select("userSourcedId", "role").rows())["14011"] == "professor"  # "Professor"
    assert dict(roles.select("userSourcedId", "role").rows())["14010"] == "aide"
    assert dict(table(result, "orgs").select("sourcedId", "type").rows())["10000"] == "ministryOfEducation"
    enrollments = dict(table(result, "enrollments").select("userSourcedId", "role").rows())
    # "Faculty" is an org role of v2.0 without an enrollment role in v2.1: it becomes teacher.
    assert (enrollments["14009"], enrollments["14010"], enrollments["13001"]) == ("teacher", "aide", "student")
    users = table(result, "users")
    assert users.filter(pl.col("sourcedId") == "13001").select("username", "givenName", "password").row(0) == (
        "Oklein@classrmtest31.org", "Ora", "P@ssword123",
    )


def test_several_orgs_give_one_membership_each_and_a_blank_org_is_missing(v20):
    first = v20.append(
        "users.csv",
        '14013,"10001, 10002,",Ann,Lee,ALee@classrmtest31.org,,teacher,',
        "14014,,Bo,Ray,BRay@classrmtest31.org,,teacher,",
        "14015,10009,Cy,Day,CDay@classrmtest31.org,,janitor,",
    )
    result = validate_package(v20.root)
    assert finding_tuples(result.findings, levels=("error",)) == [
        ("InvalidEnumValue", "error", "users.csv", first + 2, "14015/10009/janitor", "role", "janitor"),
        ("RequiredValueMissing", "error", "users.csv", first + 1, "14014//teacher", "orgSourcedIds", None),
    ]
    roles = table(result, "roles").filter(pl.col("userSourcedId") == "14013")
    assert roles.select("orgSourcedId", "role").rows() == [("10001", "teacher"), ("10002", "teacher")]
    assert {"14013", "14014", "14015"} <= set(table(result, "users")["sourcedId"])  # the users themselves are fine


def test_an_invalid_user_drops_its_inline_roles_silently_and_its_enrollments_say_why(v20):
    v20.replace("users.csv", "13001,10001,Ora,Klein,Oklein@classrmtest31.org", "13001,10001,Ora,Klein,Oklein")
    result = validate_package(v20.root)
    assert finding_tuples(result.findings, levels=("error",)) == [
        ("InvalidUsername", "error", "users.csv", 2, "13001", "username", "Oklein"),
        ("ReferenceDropped", "error", "enrollments.csv", 2, "11001/13001/student", "userSourcedId", "13001"),
    ]
    assert "13001" not in set(table(result, "roles")["userSourcedId"])


def test_missing_inline_role_headers_stop_the_run_when_the_format_is_forced(v20):
    v20.write("users.csv", "sourcedId,givenName,familyName,username\r\n13001,Ora,Klein,o@x.org\r\n")
    result = validate_package(v20.root, format_name="sds-v2.0")
    assert result.stopped
    assert sorted(result.findings.filter(pl.col("level") == "catastrophic")["message"]) == [
        "Unable to find orgSourcedIds in users.csv. Correct the extract so that the header reads exactly as expected, then upload it again.",
        "Unable to find role in users.csv. Correct the extract so that the header reads exactly as expected, then upload it again.",
    ]
