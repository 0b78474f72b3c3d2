"""OneRoster 1.1 and 1.2 bulk packages: detection, the manifest, columns, and the canonical records they give.

Fixtures are hand-written for Homeroom (tests/fixtures/oneroster/README.md); every test states the
exact findings (rule, level, file, line, recordId, field, value) and the exact records per entity.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from homeroom.validate import validate_package
from tests.conftest import finding_tuples
from tests.inbound.oneroster_packages import ONEROSTER, OneRosterPackage, counts, table

BULK_11_COUNTS = {
    "orgs": 3, "academicSessions": 3, "courses": 2, "users": 9, "roles": 7, "classes": 3, "enrollments": 8,
    "demographics": 3, "relationships": 3,
}
BULK_12_COUNTS = {
    "orgs": 2, "academicSessions": 2, "courses": 1, "users": 4, "roles": 4, "classes": 2, "enrollments": 3, "relationships": 1,
}
SKIPPED_PROFILES = ("FileSkipped", "info", "userProfiles.csv", None, None, None, None)


@pytest.fixture
def bulk11(tmp_path) -> OneRosterPackage:
    return OneRosterPackage(tmp_path / "bulk-1.1", "bulk-1.1")


@pytest.fixture
def bulk12(tmp_path) -> OneRosterPackage:
    return OneRosterPackage(tmp_path / "bulk-1.2", "bulk-1.2")


# --- bulk 1.1 -----------------------------------------------------------------------------------------


def test_bulk_11_package_reads_every_entity_without_findings():
    result = validate_package(ONEROSTER / "bulk-1.1")
    assert result.format == "oneroster-1.1"
    assert finding_tuples(result.findings) == []
    assert result.exit_code == 0
    assert counts(result) == BULK_11_COUNTS
    assert {name: (s.records, s.valid) for name, s in result.files.items()} == {
        "manifest.csv": (17, 17), "orgs.csv": (3, 3), "academicSessions.csv": (3, 3), "courses.csv": (2, 2),
        "users.csv": (9, 9), "classes.csv": (3, 3), "enrollments.csv": (8, 8), "demographics.csv": (3, 3),
    }


def test_users_11_role_and_orgs_become_roles_and_contacts_have_none():
    roles = table(validate_package(ONEROSTER / "bulk-1.1"), "roles")
    assert roles.select("userSourcedId", "orgSourcedId", "role", "grade").rows() == [
        ("t-1", "school-1", "teacher", None),
        ("t-2", "school-1", "teacher", None),
        ("t-2", "school-2", "teacher", None),
        ("a-1", "district-1", "administrator", None),
        ("s-1", "school-1", "student", "05"),
        ("s-2", "school-1", "student", "05"),
        ("s-3", "school-2", "student", "07"),  # the first of the user's grades "07,08"
    ]
    users = table(validate_package(ONEROSTER / "bulk-1.1"), "users")
    assert users.filter(pl.col("sourcedId").str.starts_with("p-"))["role"].to_list() == ["parent", "guardian", "relative"]


def test_quoted_multi_valued_cells_are_split_and_trimmed():
    result = validate_package(ONEROSTER / "bulk-1.1")
    users = table(result, "users")
    t2 = users.filter(pl.col("sourcedId") == "t-2").row(0, named=True)
    assert t2["orgSourcedIds"] == ["school-1", "school-2"]
    assert t2["email"] == "ben.okafor@lakeside.example"  # lower-cased, as SDS does
    assert t2["enabledUser"] is True
    t1 = users.filter(pl.col("sourcedId") == "t-1").row(0, named=True)
    assert t1["userIds"] == ["LDAP:ana.garcia", "SIS:T001"]
    assert users.filter(pl.col("sourcedId") == "s-3")["enabledUser"].to_list() == [False]  # FALSE, any case
    classes = table(result, "classes").filter(pl.col("sourcedId") == "class-math-5a").row(0, named=True)
    assert classes["sessionSourcedIds"] == ["term-1", "term-2"]
    assert classes["periods"] == ["1", "2"]
    assert (classes["classType"], classes["location"], classes["subjects"]) == ("scheduled", "Room 12", ["mathematics"])
    course = table(result, "courses").filter(pl.col("sourcedId") == "course-sci-7").row(0, named=True)
    assert (course["grades"], course["subjects"], course["subjectCodes"]) == (["07", "08"], ["03"], ["03001", "03002"])


def test_agents_become_relationships_listed_once_whichever_side_lists_them():
    relationships = table(validate_package(ONEROSTER / "bulk-1.1"), "relationships")
    # s-1 lists p-1 and p-2, who list s-1 back; p-3 is listed by s-2 only.
    assert relationships.select("userSourcedId", "relationshipUserSourcedId", "relationshipRole", "listedBy").rows() == [
        ("s-1", "p-1", "parent", "s-1"),
        ("s-1", "p-2", "guardian", "s-1"),
        ("s-2", "p-3", "relative", "s-2"),
    ]


def test_a_contacts_own_row_is_turned_round_to_student_and_contact(bulk11):
    bulk11.replace("users.csv", ',"p-1, p-2",05,', ",,05,")  # only the parents list the student now
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == []
    assert table(result, "relationships").select("userSourcedId", "relationshipUserSourcedId", "relationshipRole", "listedBy").rows() == [
        ("s-2", "p-3", "relative", "s-2"),
        ("s-1", "p-1", "parent", "p-1"),
        ("s-1", "p-2", "guardian", "p-2"),
    ]


def test_demographics_booleans_become_race_and_ethnicity_codes():
    demographics = table(validate_package(ONEROSTER / "bulk-1.1"), "demographics")
    assert demographics.select("userSourcedId", "sex", "raceCodes", "ethnicityCodes", "birthCountry", "birthState", "birthCity").rows() == [
        ("s-1", "male", ["asian", "white", "demographicRaceTwoOrMoreRaces"], None, "US", "WA", "Seattle"),
        ("s-2", "female", ["asian"], None, "US", "WA", "Redmond"),
        ("s-3", "male", ["white"], ["hispanicOrLatinoEthnicity"], None, None, None),
    ]
    assert demographics["birthDate"].to_list() == [dt.date(2014, 3, 2), dt.date(2014, 7, 19), dt.date(2012, 11, 30)]


def test_enrollments_keep_their_id_school_primary_and_dates():
    enrollments = table(validate_package(ONEROSTER / "bulk-1.1"), "enrollments")
    assert enrollments.columns[:3] == ["classSourcedId", "userSourcedId", "role"]
    assert enrollments.select("oneRosterSourcedId", "schoolSourcedId", "primary", "beginDate", "endDate").row(0) == (
        "e-1", "school-1", True, dt.date(2024, 8, 15), dt.date(2025, 6, 13),
    )
    assert enrollments["primary"].to_list() == [True, False, None, None, True, None, True, None]


def test_invalid_kept_values_are_warned_and_cleared(bulk11):
    bulk11.replace("users.csv", '"{LDAP:ana.garcia},{SIS:T001}"', "LDAP:ana.garcia")
    bulk11.replace("users.csv", "t-2,,,true,", "t-2,,,yes,")
    bulk11.replace("demographics.csv", "s-2,,,2014-07-19,female,false,true,", "s-2,,,2014-07-19,female,false,Y,")
    bulk11.replace("enrollments.csv", "e-3,,,class-math-5a,school-1,s-1,student,,2024-08-15,", "e-3,,,class-math-5a,school-1,s-1,student,,15/08/2024,")
    bulk11.replace("courses.csv", "MATH5,05,school-1,02,", "MATH5,05,school-1,mathematics,")  # a free-text subject (§6)
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == [
        ("InvalidBoolean", "warning", "demographics.csv", 3, "s-2", "asian", "Y"),
        ("InvalidBoolean", "warning", "users.csv", 3, "t-2", "enabledUser", "yes"),
        ("InvalidDate", "warning", "enrollments.csv", 4, "class-math-5a/s-1/student", "beginDate", "15/08/2024"),
        ("InvalidEnumValue", "warning", "courses.csv", 2, "course-math-5", "subjects", "mathematics"),
        ("InvalidUserIds", "warning", "users.csv", 2, "t-1", "userIds", "LDAP:ana.garcia"),
    ]
    assert result.exit_code == 0
    assert counts(result) == BULK_11_COUNTS  # warnings clear a field, never a record
    users = table(result, "users")
    assert users.filter(pl.col("sourcedId").is_in(["t-1", "t-2"])).select("userIds", "enabledUser").rows() == [
        (None, True), (["SIS:T002"], None),
    ]
    assert table(result, "demographics")["raceCodes"].to_list()[1] is None


def test_status_and_date_last_modified_in_a_bulk_file_are_warnings(bulk11):
    bulk11.replace("orgs.csv", "school-1,,,", "school-1,active,2024-08-01T00:00:00.000Z,")
    bulk11.replace("orgs.csv", "school-2,,,", "school-2,inactive,,")
    bulk11.replace("courses.csv", "course-math-5,,,", "course-math-5,deleted,,")
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == [
        ("InactiveStatus", "warning", "orgs.csv", 4, "school-2", "status", "inactive"),
        ("InvalidStatus", "warning", "courses.csv", 2, "course-math-5", "status", "deleted"),
        ("StatusInBulkFile", "warning", "courses.csv", 2, "course-math-5", "status", "deleted"),
        ("StatusInBulkFile", "warning", "orgs.csv", 3, "school-1", "dateLastModified", "2024-08-01T00:00:00.000Z"),
        ("StatusInBulkFile", "warning", "orgs.csv", 3, "school-1", "status", "active"),
        ("StatusInBulkFile", "warning", "orgs.csv", 4, "school-2", "status", "inactive"),
    ]
    orgs = table(result, "orgs")
    assert orgs["status"].to_list() == [None, "active", "tobedeleted"]
    assert orgs["dateLastModified"].to_list()[1] == dt.datetime(2024, 8, 1, tzinfo=dt.timezone.utc)
    assert table(result, "courses")["status"].to_list() == [None, None]
    assert counts(result) == BULK_11_COUNTS


# --- bulk 1.2: Japanese text, extension columns, a line break in a value ---------------------------------------


def test_bulk_12_package_with_japanese_text_and_extension_columns():
    result = validate_package(ONEROSTER / "bulk-1.2")
    assert result.format == "oneroster-1.2"
    assert finding_tuples(result.findings) == [SKIPPED_PROFILES]
    assert result.exit_code == 0
    assert counts(result) == BULK_12_COUNTS
    assert {name: (s.records, s.valid) for name, s in result.files.items()} == {
        "manifest.csv": (24, 24), "orgs.csv": (2, 2), "academicSessions.csv": (2, 2), "courses.csv": (1, 1),
        "users.csv": (4, 4), "roles.csv": (5, 4), "classes.csv": (2, 2), "enrollments.csv": (3, 3),
    }
    users = table(result, "users")
    assert users.select("givenName", "familyName", "preferredGivenName").rows()[:3] == [
        ("花子", "佐藤", None), ("太郎", "山田", None), ("ひかり", "鈴木", "ひーちゃん"),
    ]
    # metadata.* columns: one JSON object per user, keyed without the "metadata." prefix; blanks left out.
    assert [json.loads(m) for m in users["metadata"]] == [
        {"jp.kanaGivenName": "はなこ", "jp.kanaFamilyName": "さとう"},
        {"jp.kanaGivenName": "たろう", "jp.kanaFamilyName": "やまだ", "jp.homeClass": "class-3-1"},
        {"jp.kanaGivenName": "ひかり", "jp.kanaFamilyName": "すずき", "jp.homeClass": "class-3-2"},
        {"jp.kanaGivenName": "いちろう", "jp.kanaFamilyName": "やまだ"},
    ]
    assert table(result, "orgs")["name"].to_list() == ["さくら市教育委員会", "さくら市立第一小学校"]


def test_roles_12_map_onto_canonical_roles_and_contacts_have_none():
    result = validate_package(ONEROSTER / "bulk-1.2")
    roles = table(result, "roles")
    assert roles.select("oneRosterSourcedId", "userSourcedId", "orgSourcedId", "role", "oneRosterRole", "isPrimary", "grade").rows() == [
        ("r-t1", "u-t1", "org-es", "teacher", "teacher", True, None),
        ("r-t1b", "u-t1", "org-city", "administrator", "districtAdministrator", False, None),
        ("r-s1", "u-s1", "org-es", "student", "student", True, "03"),
        ("r-s2", "u-s2", "org-es", "student", "student", True, "03"),
    ]
    assert roles.filter(pl.col("oneRosterSourcedId") == "r-s1").select("roleStartDate", "roleEndDate", "userProfileSourcedId").row(0) == (
        dt.date(2025, 4, 1), dt.date(2026, 3, 31), "up-s1",
    )
    # The guardian's role comes from roles.csv: it makes the relationship, not a roles row.
    assert table(result, "relationships").select("userSourcedId", "relationshipUserSourcedId", "relationshipRole").rows() == [
        ("u-s1", "u-g1", "guardian"),
    ]


def test_a_quoted_line_break_is_kept_and_later_lines_keep_their_numbers(bulk12):
    bulk12.replace("classes.csv", "3-2,homeroom,本校舎 2階,org-es", "3-2,homeroom,本校舎 2階,org-missing")
    result = validate_package(bulk12.root)
    assert finding_tuples(result.findings) == [
        SKIPPED_PROFILES,
        ("ReferenceDropped", "error", "enrollments.csv", 4, "class-3-2/u-s2/student", "classSourcedId", "class-3-2"),
        ("ReferenceNotFound", "error", "classes.csv", 4, "class-3-2", "schoolSourcedId", "org-missing"),
    ]
    classes = table(result, "classes")
    assert classes.select("sourcedId", "location").rows() == [("class-3-1", "本校舎 2階\n東側")]
    assert classes["sessionSourcedIds"].to_list() == [["sy-2025", "term-2025-1"]]


def test_invalid_role_type_clears_is_primary_and_unknown_roles_are_errors(bulk12):
    bulk12.replace("roles.csv", "r-s2,,,u-s2,primary,", "r-s2,,,u-s2,main,")
    bulk12.replace("roles.csv", "r-s1,,,u-s1,primary,student,", "r-s1,,,u-s1,primary,janitor,")
    result = validate_package(bulk12.root)
    assert finding_tuples(result.findings) == [
        SKIPPED_PROFILES,
        ("InvalidEnumValue", "error", "roles.csv", 4, "u-s1/org-es/janitor", "role", "janitor"),
        ("InvalidEnumValue", "warning", "roles.csv", 5, "u-s2/org-es/student", "roleType", "main"),
    ]
    roles = table(result, "roles")
    assert roles.select("userSourcedId", "isPrimary").rows() == [("u-t1", True), ("u-t1", False), ("u-s2", None)]


def test_extension_columns_are_never_unknown_but_must_come_last(bulk12):
    text = bulk12.text("orgs.csv")
    bulk12.write("orgs.csv", text.replace('"parentSourcedId"', '"parentSourcedId","metadata.ext.code"').replace('"org-city"\r\n', '"org-city","X1"\r\n')
                 .replace('"",""\r\n', '"","",""\r\n'))
    result = validate_package(bulk12.root)
    assert finding_tuples(result.findings) == [SKIPPED_PROFILES]
    assert table(result, "orgs")["metadata"].to_list() == [None, '{"ext.code":"X1"}']
    bulk12.write("orgs.csv", '"metadata.ext.code",' + text.replace("\r\n", '\r\n"",', 2).rstrip('",') + "\r\n")
    result = validate_package(bulk12.root)
    assert finding_tuples(result.findings) == [
        ("ColumnOrder", "warning", "orgs.csv", 1, None, "sourcedId", None), SKIPPED_PROFILES,
    ]


# --- columns: header typos, order --------------------------------------------------------------------------------


def test_a_miscased_optional_header_is_read_as_blank_with_a_hint(bulk11):
    bulk11.replace("users.csv", ",givenName,", ",givenname,")
    result = validate_package(bulk11.root)
    # Without given names the contacts fail the contact rule (as in SDS), so their relationships go.
    assert finding_tuples(result.findings) == [
        ("ColumnNotPresent", "warning", "users.csv", 1, None, "givenName", None),
        ("ContactMissingData", "error", "users.csv", 5, "s-1/p-1", "agentSourcedIds", "p-1"),
        ("ContactMissingData", "error", "users.csv", 5, "s-1/p-2", "agentSourcedIds", "p-2"),
        ("ContactMissingData", "error", "users.csv", 6, "s-2/p-3", "agentSourcedIds", "p-3"),
        ("UnknownColumn", "warning", "users.csv", 1, None, "givenname", None),
    ]
    assert counts(result) == {**BULK_11_COUNTS, "relationships": 0}
    assert table(result, "users")["givenName"].null_count() == 9
    message = result.findings.filter(pl.col("rule") == "ColumnNotPresent")["message"][0]
    assert message == (
        "givenName is not a column of users.csv; OneRoster 1.1 CSV files carry every column of their table, even when "
        "empty. Its values are read as blank. Found 'givenname': header names are case-sensitive; rename it to 'givenName'."
    )


def test_a_misspelt_required_header_stops_the_run(bulk11):
    bulk11.replace("orgs.csv", "sourcedId,", "sourcedID,")
    bulk11.replace("enrollments.csv", ",userSourcedId,", ",userSourceId,")
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == [
        ("HeaderNotPresent", "catastrophic", "enrollments.csv", 1, None, None, None),
        ("HeaderNotPresent", "catastrophic", "orgs.csv", 1, None, None, None),
        ("UnknownColumn", "warning", "enrollments.csv", 1, None, "userSourceId", None),
    ]
    assert result.stopped and result.exit_code == 2
    assert result.findings.filter(pl.col("file") == "orgs.csv")["message"][0] == (
        "Unable to find sourcedId in orgs.csv. Found 'sourcedID': header names are case-sensitive; rename it to 'sourcedId'."
    )


def test_out_of_order_columns_are_matched_by_name_with_one_warning(bulk11):
    original = table(validate_package(bulk11.root), "orgs")
    rows = [line.split(",") for line in bulk11.text("orgs.csv").splitlines()]
    order = [3, 0, 4, 1, 2, 6, 5]  # name, sourcedId, type, status, dateLastModified, parentSourcedId, identifier
    bulk11.write("orgs.csv", "".join(",".join(row[i] for i in order) + "\n" for row in rows))
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == [("ColumnOrder", "warning", "orgs.csv", 1, None, "sourcedId", None)]
    assert result.findings["message"][0] == (
        "The columns of orgs.csv are not in the order OneRoster 1.1 CSV defines (sourcedId, status, dateLastModified, "
        "name, type, identifier, parentSourcedId); they were matched by name."
    )
    assert table(result, "orgs").equals(original)


def test_a_missing_optional_column_is_read_as_blank(bulk11):
    rows = [line.split(",") for line in bulk11.text("orgs.csv").splitlines()]
    bulk11.write("orgs.csv", "".join(",".join(row[:5] + row[6:]) + "\n" for row in rows))  # no identifier
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == [("ColumnNotPresent", "warning", "orgs.csv", 1, None, "identifier", None)]
    assert table(result, "orgs")["identifier"].to_list() == [None, None, None]
    assert table(result, "orgs")["parentSourcedId"].to_list() == [None, "district-1", "district-1"]


# --- the manifest and detection ---------------------------------------------------------------------------------


def test_manifest_and_files_must_agree(bulk11):
    bulk11.replace("manifest.csv", "file.demographics,bulk", "file.demographics,absent")
    bulk11.replace("manifest.csv", "file.lineItems,absent", "file.lineItems,bulk")
    bulk11.remove("courses.csv")
    bulk11.write("categories.csv", "sourcedId,status,dateLastModified,title\nc-1,,,Homework\n")
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == [
        ("FileSkipped", "info", "categories.csv", None, None, None, None),
        ("ManifestFileMismatch", "catastrophic", "manifest.csv", 10, "file.demographics", "value", "absent"),
        ("ManifestFileMismatch", "catastrophic", "manifest.csv", 8, "file.courses", "value", "bulk"),
        ("ManifestFileMismatch", "warning", "manifest.csv", 12, "file.lineItems", "value", "bulk"),
        ("ManifestFileMismatch", "warning", "manifest.csv", 5, "file.categories", "value", "absent"),
    ]
    assert result.stopped and result.exit_code == 2
    assert sorted(result.findings.filter(pl.col("level") == "catastrophic")["message"]) == [
        "demographics.csv is in the package, but manifest.csv lists it as absent (line 10): remove the file, or list it as bulk or delta.",
        "manifest.csv lists courses.csv as bulk (line 8), but the package has no courses.csv.",
    ]


def test_absent_files_are_simply_not_read(bulk11):
    bulk11.replace("manifest.csv", "file.demographics,bulk", "file.demographics,absent")
    bulk11.remove("demographics.csv")
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == []
    assert counts(result) == {k: v for k, v in BULK_11_COUNTS.items() if k != "demographics"}


def test_a_present_file_the_manifest_does_not_list_is_read_as_bulk(bulk11):
    bulk11.replace("manifest.csv", "file.demographics,bulk\n", "")
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == [("ManifestFileMismatch", "warning", "manifest.csv", None, None, None, None)]
    assert counts(result) == BULK_11_COUNTS


def test_manifest_mode_and_repeated_properties_must_be_clear(bulk11):
    bulk11.replace("manifest.csv", "file.users,bulk", "file.users,full")
    bulk11.write("manifest.csv", bulk11.text("manifest.csv") + "file.orgs,delta\nfile.orgs,bulk\nfile.roles,bulk\n")
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == [
        ("InvalidManifest", "catastrophic", "manifest.csv", 16, "file.users", "value", "full"),
        ("InvalidManifest", "catastrophic", "manifest.csv", 19, "file.orgs", "value", "delta"),
        ("InvalidManifest", "warning", "manifest.csv", 21, "file.roles", "value", "bulk"),
    ]
    assert sorted(result.findings["message"]) == [
        "manifest.csv gives file.orgs twice, 'bulk' on line 13 and 'delta' on line 19: keep one.",
        "manifest.csv gives file.users the mode 'full'; expected bulk, delta or absent.",
        "manifest.csv lists file.roles, but roles.csv is not a file of OneRoster 1.1 CSV; the line was ignored.",
    ]


@pytest.mark.parametrize(
    ("declared", "detected"), [("1.1", "oneroster-1.1"), ("1.1.1", "oneroster-1.1"), ("1.2", "oneroster-1.2"), ("v1.2", "oneroster-1.2")]
)
def test_the_manifest_version_decides_the_format(bulk12, declared, detected):
    bulk12.replace("manifest.csv", '"oneroster.version","1.2"', f'"oneroster.version","{declared}"')
    result = validate_package(bulk12.root)
    assert result.format == detected
    # Read as 1.1, the 1.2 users.csv lacks the role and orgSourcedIds columns 1.1 requires.
    assert result.stopped is (detected != "oneroster-1.2")


def test_an_unsupported_oneroster_version_is_refused_and_named(bulk11):
    bulk11.replace("manifest.csv", "oneroster.version,1.1", "oneroster.version,1.0")
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == [("UnsupportedFormatVersion", "catastrophic", "bulk-1.1", None, None, None, None)]
    assert result.findings["message"][0].startswith(
        "bulk-1.1 is a package in OneRoster 1.0 CSV format (manifest.csv says oneroster.version 1.0); this version of Homeroom validates "
    )


def test_a_manifest_without_a_version_falls_back_on_the_files(bulk12):
    bulk12.replace("manifest.csv", '"oneroster.version","1.2"\r\n', "")
    result = validate_package(bulk12.root)
    assert result.format == "oneroster-1.2"  # roles.csv says 1.2
    assert finding_tuples(result.findings) == [
        SKIPPED_PROFILES, ("InvalidManifest", "warning", "manifest.csv", None, "oneroster.version", "value", None),
    ]
    assert counts(result) == BULK_12_COUNTS


def test_format_option_overrides_the_manifest_with_a_warning(bulk11):
    result = validate_package(bulk11.root, format_name="oneroster-1.2")
    assert result.format == "oneroster-1.2"
    rules = {(rule, field) for rule, _, _, _, _, field, _ in finding_tuples(result.findings)}
    assert ("InvalidManifest", "value") in rules  # says 1.1, read as 1.2
    assert ("UnknownColumn", "role") in rules and ("UnknownColumn", "orgSourcedIds") in rules
    assert "roles" not in result.tables


def test_a_package_without_its_manifest_is_named(bulk11):
    bulk11.remove("manifest.csv")
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == [("UnknownFormat", "catastrophic", "bulk-1.1", None, None, None, None)]
    assert result.findings["message"][0] == (
        "Cannot tell the format of bulk-1.1: users.csv has the column enabledUser, as OneRoster files do, but there is no "
        "manifest.csv; every OneRoster package needs one (propertyName,value rows: manifest.version, oneroster.version, and "
        "file.<name> = bulk, delta or absent for each file)."
    )
    result = validate_package(bulk11.root, format_name="oneroster-1.1")
    assert finding_tuples(result.findings) == [("RequiredFileNotFound", "catastrophic", "manifest.csv", None, None, None, None)]


def test_a_garbled_manifest_stops_the_run(bulk11):
    bulk11.replace("manifest.csv", "propertyName,value", "property;value")
    result = validate_package(bulk11.root)
    assert result.format == "oneroster-1.1"  # users.csv has a role column
    assert finding_tuples(result.findings) == [
        ("HeaderNotPresent", "catastrophic", "manifest.csv", 1, None, None, None),
        ("HeaderNotPresent", "catastrophic", "manifest.csv", 1, None, None, None),
        ("UnknownColumn", "warning", "manifest.csv", 1, None, "property;value", None),
    ]
    assert result.stopped


def test_an_empty_manifest_reads_every_file_as_bulk_with_warnings(bulk11):
    bulk11.write("manifest.csv", "propertyName,value\n")
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == [
        ("InvalidManifest", "warning", "manifest.csv", None, "manifest.version", "value", None),
        ("InvalidManifest", "warning", "manifest.csv", None, "oneroster.version", "value", None),
        *[("ManifestFileMismatch", "warning", "manifest.csv", None, None, None, None)] * 7,
    ]
    assert counts(result) == BULK_11_COUNTS


def test_gradebook_and_resource_files_are_skipped_unread(bulk11):
    bulk11.replace("manifest.csv", "file.results,absent", "file.results,bulk")
    bulk11.write("results.csv", '"broken,\n')  # not even read
    result = validate_package(bulk11.root)
    assert finding_tuples(result.findings) == [("FileSkipped", "info", "results.csv", None, None, None, None)]
    assert result.findings["message"][0] == "results.csv holds gradebook results, which Homeroom does not keep; the file was not read."
    assert result.exit_code == 0
    assert "results.csv" not in result.files


def test_validated_tables_can_be_written_to_parquet(tmp_path):
    """A held run keeps its validated tables as Parquet files: every kept column type must allow it."""
    import pyarrow.parquet as pq

    for fixture in ("bulk-1.1", "bulk-1.2", "delta-1.1"):
        for name, validated in validate_package(ONEROSTER / fixture).tables.items():
            pq.write_table(validated, tmp_path / f"{fixture}-{name}.parquet")
            assert pq.read_table(tmp_path / f"{fixture}-{name}.parquet").num_rows == validated.num_rows


def test_a_12_package_without_its_manifest_is_named_by_its_roles(bulk12):
    bulk12.remove("manifest.csv")
    result = validate_package(bulk12.root)
    assert finding_tuples(result.findings) == [("UnknownFormat", "catastrophic", "bulk-1.2", None, None, None, None)]
    assert "roles.csv has the column roleType, as OneRoster files do, but there is no manifest.csv" in result.findings["message"][0]
