"""Record checks on Microsoft's v2.1 sample with planted defects: exact findings, exact survivors."""

from __future__ import annotations

import datetime as dt

import polars as pl

from homeroom.model.reference import ReferenceData, ReferenceDefinition
from homeroom.settings import Settings
from homeroom.validate import validate_package
from tests.conftest import finding_tuples


def table(result, entity: str) -> pl.DataFrame:
    return pl.from_arrow(result.tables[entity])


def test_microsoft_sample_has_no_findings_and_keeps_every_record(sample):
    result = validate_package(sample.root)
    assert result.findings.height == 0
    assert result.exit_code == 0
    assert {name: (s.records, s.valid) for name, s in result.files.items()} == {
        "orgs.csv": (4, 4), "academicSessions.csv": (2, 2), "courses.csv": (3, 3), "users.csv": (8, 8),
        "roles.csv": (7, 7), "classes.csv": (2, 2), "enrollments.csv": (6, 6), "demographics.csv": (6, 6),
        "userFlags.csv": (3, 3), "relationships.csv": (3, 3),
    }


def test_enums_match_case_insensitively_and_are_stored_in_canonical_camel_case(sample):
    result = validate_package(sample.root)
    roles = table(result, "roles")
    # The sample writes "ps1" in roles and "PS1" in courses: both become the canonical code.
    assert roles.filter(pl.col("userSourcedId") == "114006")["grade"].to_list() == ["PS1"]
    assert roles["isPrimary"].to_list() == [True, True, True, True, True, False, True]
    assert roles["roleStartDate"][0] == dt.date(2021, 8, 24)
    orgs = table(result, "orgs")
    assert orgs.filter(pl.col("sourcedId") == "110004")["type"].to_list() == ["ministryOfEducation"]


def test_required_value_missing_drops_the_record_and_cascades_to_dependents(sample):
    line = sample.append("users.csv", "114009,,Ann,Lee,,,,,")
    sample.append("roles.csv", "114009,110003,student,SY2021K12,10,TRUE,2021-08-24,2022-06-11")
    sample.append("enrollments.csv", "112002,114009,student")
    result = validate_package(sample.root)
    assert finding_tuples(result.findings) == [
        ("ReferenceDropped", "error", "enrollments.csv", 8, "112002/114009/student", "userSourcedId", "114009"),
        ("ReferenceDropped", "error", "roles.csv", 9, "114009/110003/student", "userSourcedId", "114009"),
        ("RequiredValueMissing", "error", "users.csv", line, "114009", "username", None),
    ]
    assert result.files["users.csv"].valid == 8
    assert result.files["roles.csv"].valid == 7
    assert result.exit_code == 1
    messages = set(result.findings["message"])
    assert "username is required but blank." in messages
    assert "'114009' refers to a record of users.csv that was dropped because of its own errors." in messages


def test_reference_not_found_distinguishes_missing_from_dropped(sample):
    sample.append("enrollments.csv", "112002,nobody,student", "nowhere,114001,student")
    result = validate_package(sample.root)
    assert finding_tuples(result.findings) == [
        ("ReferenceNotFound", "error", "enrollments.csv", 8, "112002/nobody/student", "userSourcedId", "nobody"),
        ("ReferenceNotFound", "error", "enrollments.csv", 9, "nowhere/114001/student", "classSourcedId", "nowhere"),
    ]
    assert "'nobody' was not found in users.csv." in set(result.findings["message"])


def test_invalid_required_enum_is_an_error_and_invalid_optional_enum_clears_the_field(sample):
    sample.append("orgs.csv", "110005,Bad Org,planet,")
    sample.append("roles.csv", "114003,110001,student,SY2021K12,grade99,TRUE,2021-08-24,2022-06-11")
    result = validate_package(sample.root)
    assert finding_tuples(result.findings) == [
        ("InvalidEnumValue", "error", "orgs.csv", 6, "110005", "type", "planet"),
        ("InvalidEnumValue", "warning", "roles.csv", 9, "114003/110001/student", "grade", "grade99"),
    ]
    kept = table(result, "roles").filter((pl.col("userSourcedId") == "114003") & (pl.col("orgSourcedId") == "110001"))
    assert kept["grade"].to_list() == [None]
    message = result.findings.filter(pl.col("field") == "type")["message"][0]
    assert message == "'planet' is not a valid type: expected a RefOrgType code such as academicTrust, adultEducation, campus, college, department."


def test_grades_and_subjects_accept_a_missing_leading_zero(sample):
    sample.append("courses.csv", "C12004,110003,Art,ART1,SY2021K12,5,1")
    result = validate_package(sample.root)
    assert result.findings.height == 0
    course = table(result, "courses").filter(pl.col("sourcedId") == "C12004")
    assert course["subjects"].to_list() == [["05"]]
    assert course["grades"].to_list() == [["01"]]


def test_email_is_lower_cased_and_an_invalid_email_or_phone_only_clears_that_field(sample):
    sample.append(
        "users.csv",
        "114009,New.User@ClassRmTest31.org,New,User,,,New.User@ClassRmTest31.ORG,(425) 555-0100,+1 (425) 555-0100",
        "114010,other@classrmtest31.org,Oth,Er,,,not-an-email@,+0123,12",
    )
    result = validate_package(sample.root)
    assert finding_tuples(result.findings) == [
        ("InvalidEmail", "warning", "users.csv", 11, "114010", "email", "not-an-email@"),
        ("InvalidPhone", "warning", "users.csv", 10, "114009", "phone", "(425) 555-0100"),
        ("InvalidPhone", "warning", "users.csv", 11, "114010", "phone", "+0123"),
        ("InvalidPhone", "warning", "users.csv", 11, "114010", "sms", "12"),
    ]
    users = table(result, "users")
    new = users.filter(pl.col("sourcedId") == "114009").row(0, named=True)
    assert new["email"] == "new.user@classrmtest31.org"
    assert new["username"] == "New.User@ClassRmTest31.org"  # a username is an id: stored as received
    assert new["phone"] is None and new["sms"] == "+14255550100"
    assert users.filter(pl.col("sourcedId") == "114010")["email"].to_list() == [None]


def test_a_default_calling_code_makes_national_numbers_e164():
    settings = Settings(default_phone_country_code="1")
    from tests.conftest import SamplePackage
    import tempfile, pathlib

    with tempfile.TemporaryDirectory() as tmp:
        pkg = SamplePackage(pathlib.Path(tmp) / "p")
        pkg.append("users.csv", "114009,n@classrmtest31.org,N,U,,,,(425) 555-0100,")
        result = validate_package(pkg.root, settings=settings)
        assert result.findings.height == 0
        assert table(result, "users").filter(pl.col("sourcedId") == "114009")["phone"].to_list() == ["+14255550100"]


def test_dates_booleans_and_years_are_checked(sample):
    sample.append("roles.csv", "114003,110001,student,SY2021K12,10,yes,9/1/2021,2022-02-30")
    sample.append("academicSessions.csv", "T1,Term 1,term,21-22,2021-08-24,2021-12-20", "T2,Term 2,term,2022,2022-06-01,2022-01-01")
    result = validate_package(sample.root)
    assert finding_tuples(result.findings) == [
        ("InvalidBoolean", "warning", "roles.csv", 9, "114003/110001/student", "isPrimary", "yes"),
        ("InvalidDate", "warning", "roles.csv", 9, "114003/110001/student", "roleEndDate", "2022-02-30"),
        ("InvalidDate", "warning", "roles.csv", 9, "114003/110001/student", "roleStartDate", "9/1/2021"),
        ("InvalidDateRange", "error", "academicSessions.csv", 5, "T2", "endDate", "2022-01-01"),
        ("InvalidYear", "error", "academicSessions.csv", 4, "T1", "schoolYear", "21-22"),
    ]
    assert "endDate '2022-01-01' is before startDate '2022-06-01'." in set(result.findings["message"])


def test_username_needs_a_domain(sample):
    sample.append("users.csv", "114009,jdoe,J,Doe,,,,,")
    result = validate_package(sample.root)
    assert finding_tuples(result.findings) == [("InvalidUsername", "error", "users.csv", 10, "114009", "username", "jdoe")]


def test_later_duplicates_are_dropped_and_name_the_first_occurrence(sample):
    sample.append(
        "users.csv",
        "114001,someone.else@classrmtest31.org,S,E,,,,,",  # duplicate sourcedId
        "114099,JCRAIG@classrmtest31.org,J,C,,,,,",  # duplicate username, other case
    )
    sample.append("enrollments.csv", "112002,114001,student")
    sample.append("demographics.csv", "114001,female,,,,,,")
    result = validate_package(sample.root)
    assert finding_tuples(result.findings) == [
        ("DuplicateRecord", "warning", "demographics.csv", 8, "114001", None, "114001"),
        ("DuplicateRecord", "warning", "enrollments.csv", 8, "112002/114001/student", None, "112002/114001/student"),
        ("DuplicateSourcedId", "error", "users.csv", 10, "114001", "sourcedId", "114001"),
        ("DuplicateUsername", "error", "users.csv", 11, "114099", "username", "JCRAIG@classrmtest31.org"),
    ]
    messages = set(result.findings["message"])
    assert "'114001' is already used by the record on line 2." in messages
    assert "'JCRAIG@classrmtest31.org' is already the username of user 114001 (line 2)." in messages
    assert "The same classSourcedId + userSourcedId + role already appears on line 4; this row was ignored." in messages
    # The first record is the one kept.
    assert table(result, "users").filter(pl.col("sourcedId") == "114001")["givenName"].to_list() == ["Jack"]
    assert result.files["enrollments.csv"].valid == 6
    assert result.count("error") == 2 and result.count("warning") == 2


def test_optional_references_are_cleared_and_lists_checked_item_by_item(sample):
    sample.append("orgs.csv", "110005,Annex,school,110999")
    sample.append("classes.csv", "112003,110003,Chemistry,\"SY2021K12, NOPE\",NOCOURSE")
    sample.append("enrollments.csv", "112003,114003,student")
    result = validate_package(sample.root)
    assert finding_tuples(result.findings) == [
        ("ReferenceNotFound", "warning", "classes.csv", 4, "112003", "courseSourcedId", "NOCOURSE"),
        ("ReferenceNotFound", "warning", "classes.csv", 4, "112003", "sessionSourcedIds", "SY2021K12,NOPE"),
        ("ReferenceNotFound", "warning", "orgs.csv", 6, "110005", "parentSourcedId", "110999"),
    ]
    chem = table(result, "classes").filter(pl.col("sourcedId") == "112003").row(0, named=True)
    assert chem["courseSourcedId"] is None and chem["sessionSourcedIds"] is None
    assert result.files["enrollments.csv"].valid == 7  # the class itself survived


def test_a_missing_optional_file_makes_references_to_it_warnings(sample):
    sample.remove("academicSessions.csv")
    result = validate_package(sample.root)
    by_rule = sorted(result.findings.group_by("rule", "level", "file").len().rows())
    assert by_rule == [
        ("OptionalFileNotFound", "warning", "academicSessions.csv", 1),
        ("ReferenceNotFound", "warning", "classes.csv", 2),
        ("ReferenceNotFound", "warning", "courses.csv", 3),
        ("ReferenceNotFound", "warning", "roles.csv", 7),
    ]
    assert "'SY2021K12' was not found in academicSessions.csv, which is not in the package." in set(result.findings["message"])
    assert result.exit_code == 0


def test_contacts_need_names_and_email_and_nobody_is_their_own_contact(sample):
    sample.append("users.csv", "114009,g9@outlook.com,Gina,,,,,,")
    sample.append("relationships.csv", "114003,114009,parent", "114004,114004,parent")
    result = validate_package(sample.root)
    assert finding_tuples(result.findings) == [
        ("ContactMissingData", "error", "relationships.csv", 5, "114003/114009", "relationshipUserSourcedId", "114009"),
        ("SelfRelationship", "error", "relationships.csv", 6, "114004/114004", "relationshipUserSourcedId", "114004"),
    ]
    assert "Contact '114009' must have givenName, familyName and email in users.csv (missing: familyName, email)." in set(
        result.findings["message"]
    )
    assert result.files["users.csv"].valid == 9  # the contact user itself is fine


def test_tenant_reference_data_decides_which_codes_are_valid(sample):
    sample.append("userFlags.csv", "114004,migrant")
    default = validate_package(sample.root)
    assert finding_tuples(default.findings) == [("InvalidEnumValue", "error", "userFlags.csv", 5, "114004/migrant", "flag", "migrant")]
    tenant = ReferenceData.default().add(ReferenceDefinition("RefPersonFlagType", "migrant", 500, "Tenant Defined"))
    tenant = tenant.disable("RefPersonFlagType-iep")
    result = validate_package(sample.root, reference=tenant)
    assert finding_tuples(result.findings) == [("InvalidEnumValue", "error", "userFlags.csv", 2, "114001/iep", "flag", "iep")]


def test_whitespace_around_values_is_trimmed_and_blank_is_missing(sample):
    sample.append("orgs.csv", "  110005 ,  Annex  , School ,  ", "110006,   ,school,")
    result = validate_package(sample.root)
    assert finding_tuples(result.findings) == [("RequiredValueMissing", "error", "orgs.csv", 7, "110006", "name", None)]
    annex = table(result, "orgs").filter(pl.col("sourcedId") == "110005").row(0, named=True)
    assert annex == {"sourcedId": "110005", "name": "Annex", "type": "school", "parentSourcedId": None}


def test_validated_tables_follow_the_canonical_schema(sample):
    from homeroom.model.entities import ENTITIES

    result = validate_package(sample.root)
    for entity in ENTITIES:
        assert result.tables[entity.name].schema == entity.arrow_schema, entity.name


def test_passwords_never_appear_in_findings(sample):
    sample.append("users.csv", "114009,bad,X,Y,S3cret!Pass,,,,")
    sample.append("users.csv", "114010,\"broken,X,Y,Hunter2Secret,,,,")
    result = validate_package(sample.root)
    text = result.findings.write_csv()
    assert "S3cret!Pass" not in text and "Hunter2Secret" not in text
    assert sorted(result.findings["rule"]) == ["InvalidUsername", "LineUnterminatedQuote"]
