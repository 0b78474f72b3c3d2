"""SDS v1 classic CSV (US and UK headers): every Microsoft sample, planted defects, options, classic messages."""

from __future__ import annotations

import shutil
from datetime import date as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from homeroom.api.classic.verification import verification_messages
from homeroom.settings import Settings
from homeroom.validate import validate_package
from tests.conftest import finding_tuples
from tests.inbound.sds_v1_packages import GUARDIAN_HEADERS, MICROSOFT, V1Package, v1  # noqa: F401  (v1: the fixture)

US_SETS = ["sds-v1-min-required-attributes", "sds-v1-25-users", "sds-v1-100-users", "sds-v1-full-attributes-2017", "sds-v1-demo-small-2018"]
UK_SETS = ["sds-v1-uk-min-required-attributes", "sds-v1-uk-25-users", "sds-v1-uk-100-users", "sds-v1-uk-csv-samples-2017"]
DOMAINS = {"student_domain": "students.contoso.edu", "teacher_domain": "contoso.edu"}


def table(result, entity: str) -> pl.DataFrame:
    return pl.from_arrow(result.tables[entity])


def read(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(folder / name, infer_schema=False)


# --- every Microsoft sample ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", US_SETS + UK_SETS)
def test_every_microsoft_sample_ingests_without_errors_and_keeps_every_row(name):
    folder = MICROSOFT / name
    uk = name.startswith("sds-v1-uk")
    key = "ID" if uk else "SIS ID"
    result = validate_package(folder, options=DOMAINS)
    assert result.format == ("sds-v1-uk" if uk else "sds-v1")
    assert result.exit_code == 0 and result.count("error") == 0

    # Every row of every file is a valid record, and each becomes exactly the canonical records it describes.
    files = {n: read(folder, n) for n in ("School.csv", "Section.csv", "Student.csv", "Teacher.csv", "StudentEnrollment.csv", "TeacherRoster.csv")}
    assert {n: (s.records, s.valid) for n, s in result.files.items()} == {n: (f.height, f.height) for n, f in files.items()}
    students, teachers, sections = files["Student.csv"], files["Teacher.csv"], files["Section.csv"]
    counts = {entity: t.num_rows for entity, t in result.tables.items()}
    expected = {
        "orgs": files["School.csv"].height,
        "users": students.height + teachers.height,
        "roles": students.height + teachers.height,  # one school membership each
        "classes": sections.height,
        "enrollments": files["StudentEnrollment.csv"].height + files["TeacherRoster.csv"].height,
    }
    if "Term SIS ID" in sections.columns:
        expected["academicSessions"] = sections["Term SIS ID"].n_unique()
        expected["courses"] = sections["Course SIS ID"].n_unique()
        expected["demographics"] = students.height  # every student has a birth date
    if "ELL Status" in students.columns:
        expected["userFlags"] = 0  # the column is blank throughout
    assert counts == expected
    users = table(result, "users")
    assert set(users["sourcedId"]) == set(students[key]) | set(teachers[key])

    # Every warning is explained by how Microsoft wrote its samples.
    warnings = sorted(result.findings.group_by("rule", "file", "field").len().rows(), key=str)
    explained = [
        # No sample has the optional guardian pair.
        ("OptionalFileNotFound", "Guardianrelationship.csv", None, 1),
        ("OptionalFileNotFound", "User.csv", None, 1),
    ]
    if "Term SIS ID" in sections.columns:
        explained += [
            # Course Subject is free text (Math, Science, Gym); the canonical subject is a
            # RefAcademicSubject code, so each derived course keeps no subject.
            ("InvalidEnumValue", "Section.csv", "Course Subject", expected["courses"]),
            # Microsoft's samples write dates M/D/YYYY: each one is read and reported once.
            ("NonIsoDate", "Section.csv", "Term EndDate", sections.height),
            ("NonIsoDate", "Section.csv", "Term StartDate", sections.height),
            ("NonIsoDate", "Student.csv", "Birthdate", students.height),
        ]
    assert warnings == sorted(explained, key=str)


def test_the_25_user_sample_maps_every_column_it_can():
    result = validate_package(MICROSOFT / "sds-v1-25-users", options=DOMAINS)
    assert table(result, "orgs").row(0, named=True) == {"sourcedId": "10001", "name": "Contoso High School", "type": "school", "parentSourcedId": None}
    student = table(result, "users").filter(pl.col("sourcedId") == "13001").row(0, named=True)
    assert student == {
        "sourcedId": "13001", "username": "OKlein@students.contoso.edu", "givenName": "Ora", "familyName": "Klein",
        "password": "P@ssword", "activeDirectoryMatchId": None, "email": None, "phone": None, "sms": None,
    }
    assert table(result, "users").filter(pl.col("sourcedId") == "14001")["username"].to_list() == ["CBeane@contoso.edu"]
    roles = table(result, "roles")
    assert roles.filter(pl.col("userSourcedId") == "13001").select("orgSourcedId", "role", "grade").row(0) == ("10001", "student", "09")
    assert roles.filter(pl.col("userSourcedId") == "14001").select("orgSourcedId", "role", "grade").row(0) == ("10001", "teacher", None)
    assert table(result, "academicSessions").rows() == [("12000", "SY1516", "term", 2018, dt(2017, 7, 1), dt(2018, 6, 30))]
    assert table(result, "courses").filter(pl.col("sourcedId") == "11001").row(0, named=True) == {
        "sourcedId": "11001", "orgSourcedId": "10001", "title": "Math 101", "code": "101",
        "schoolYearSourcedId": None, "subjects": None, "grades": None,
    }
    assert table(result, "classes").filter(pl.col("sourcedId") == "11001").row(0, named=True) == {
        "sourcedId": "11001", "orgSourcedId": "10001", "title": "Math - Algebra 1", "sessionSourcedIds": ["12000"],
        "courseSourcedId": "11001", "code": "11001",
    }
    assert table(result, "demographics").filter(pl.col("userSourcedId") == "13001")["birthDate"].to_list() == [dt(2000, 4, 2)]
    enrollments = table(result, "enrollments")
    assert enrollments.group_by("role").len().sort("role").rows() == [("student", 44), ("teacher", 2)]


def test_the_31_column_student_file_gives_demographics():
    result = validate_package(MICROSOFT / "sds-v1-demo-small-2018", options=DOMAINS)
    demographics = table(result, "demographics")
    assert demographics.filter(pl.col("userSourcedId") == "13001").select("sex", "birthDate").row(0) == ("male", dt(2000, 4, 2))
    assert set(demographics["sex"]) == {"male", "female"}
    uk = table(validate_package(MICROSOFT / "sds-v1-uk-csv-samples-2017", options=DOMAINS), "demographics")
    assert set(uk["sex"]) == {"male", "female"}  # the UK set also writes "Female"


# --- planted defects ------------------------------------------------------------------------------------


def test_the_clean_minimal_package_has_no_finding(v1):
    result = validate_package(v1.root, options=DOMAINS)
    assert result.findings.height == 0 and result.format == "sds-v1"
    assert "academicSessions" not in result.tables  # the minimal Section.csv names no terms


def test_a_row_without_sis_id_is_one_error_on_its_line(v1):
    line = v1.append("Student.csv", ",10001,NewKid")
    result = validate_package(v1.root, options=DOMAINS)
    assert finding_tuples(result.findings) == [("RequiredValueMissing", "error", "Student.csv", line, None, "SIS ID", None)]
    assert result.findings["message"].to_list() == ["SIS ID is required but blank."]
    assert result.files["Student.csv"].valid == 22


def test_duplicates_across_student_and_teacher_name_each_rows_file(v1):
    options = {"student_domain": "contoso.edu", "teacher_domain": "contoso.edu"}
    v1.append("Teacher.csv", "14003,10001,OKlein", "13002,10001,Someone")
    v1.append("Student.csv", "13003,10002,Copycat")
    v1.append("TeacherRoster.csv", "11001,14003")
    result = validate_package(v1.root, options=options)
    assert finding_tuples(result.findings) == [
        ("DuplicateSourcedId", "error", "Student.csv", 24, "13003", "SIS ID", "13003"),
        ("DuplicateSourcedId", "error", "Teacher.csv", 5, "13002", "SIS ID", "13002"),
        ("DuplicateUsername", "error", "Teacher.csv", 4, "14003", "Username", "OKlein@contoso.edu"),
        # The teacher's roster row depends on the dropped teacher; its own role (same line) goes without a finding.
        ("ReferenceDropped", "error", "TeacherRoster.csv", 4, "11001/14003/teacher", "SIS ID", "14003"),
    ]
    messages = set(result.findings["message"])
    assert "'OKlein@contoso.edu' is already the username of user 13001 (line 2 of Student.csv)." in messages
    assert "'13002' is already used by the record on line 3 of Student.csv." in messages
    assert "'13003' is already used by the record on line 4 of Student.csv." in messages
    # The first record is kept, with its role only: a repeated or clashing row brings no membership along.
    roles = table(result, "roles")
    assert roles.filter(pl.col("userSourcedId").is_in(["13002", "13003"])).select("userSourcedId", "orgSourcedId", "role").rows() == [
        ("13002", "10001", "student"), ("13003", "10001", "student"),
    ]
    # ReferenceDropped is a consequence, not a classic message of its own.
    assert verification_messages(result) == [
        {"type": "Warning", "fileName": "student.csv", "description": "1 duplicates found in column SIS ID which requires values to be Unique."},
        {"type": "Warning", "fileName": "teacher.csv", "description": "1 duplicates found in column SIS ID which requires values to be Unique."},
        {"type": "Warning", "fileName": "teacher.csv", "description": "1 duplicates found in column Username which requires values to be Unique."},
    ]


def test_enrollments_to_missing_sections_and_people_are_errors(v1):
    v1.append("StudentEnrollment.csv", "99999,13001", "11001,99998")
    v1.append("TeacherRoster.csv", "11002,99997")
    v1.append("Section.csv", "11003,99996,Orphan Section")
    result = validate_package(v1.root, options=DOMAINS)
    assert finding_tuples(result.findings) == [
        ("ReferenceNotFound", "error", "Section.csv", 4, "11003", "School SIS ID", "99996"),
        ("ReferenceNotFound", "error", "StudentEnrollment.csv", 46, "99999/13001/student", "Section SIS ID", "99999"),
        ("ReferenceNotFound", "error", "StudentEnrollment.csv", 47, "11001/99998/student", "SIS ID", "99998"),
        ("ReferenceNotFound", "error", "TeacherRoster.csv", 4, "11002/99997/teacher", "SIS ID", "99997"),
    ]
    messages = set(result.findings["message"])
    assert "'99999' was not found in Section.csv." in messages
    assert "'99998' was not found in Student.csv / Teacher.csv / User.csv." in messages
    assert verification_messages(result) == [
        {"type": "Error", "fileName": "section.csv", "description": "1 row(s) have referenced data not found in source. Field - School SIS ID"},
        {"type": "Error", "fileName": "studentenrollment.csv", "description": "1 row(s) have referenced data not found in source. Field - SIS ID"},
        {"type": "Error", "fileName": "studentenrollment.csv", "description": "1 row(s) have referenced data not found in source. Field - Section SIS ID"},
        {"type": "Error", "fileName": "teacherroster.csv", "description": "1 row(s) have referenced data not found in source. Field - SIS ID"},
    ]


def test_a_student_in_an_unknown_school_keeps_the_user_but_not_the_membership(v1):
    v1.append("Student.csv", "13030,99999,NewKid")
    result = validate_package(v1.root, options=DOMAINS)
    assert finding_tuples(result.findings) == [("ReferenceNotFound", "error", "Student.csv", 24, "13030/99999/student", "School SIS ID", "99999")]
    assert "13030" in set(table(result, "users")["sourcedId"])
    assert "13030" not in set(table(result, "roles")["userSourcedId"])


# --- usernames and domains ------------------------------------------------------------------------------


def test_without_a_domain_usernames_are_invalid_and_the_message_says_how_to_configure_it(v1):
    v1.replace("Teacher.csv", "14002,10001,DTodd", "14002,10001,DTodd@fabrikam.edu")
    result = validate_package(v1.root)
    invalid = result.findings.filter(pl.col("rule") == "InvalidUsername")
    assert invalid.group_by("file").len().sort("file").rows() == [("Student.csv", 22), ("Teacher.csv", 1)]
    assert invalid.filter(pl.col("recordId") == "13001")["message"].to_list() == [
        "'OKlein' is not a valid username: expected name@domain. Student.csv usernames have no domain: "
        "set the option student_domain or HOMEROOM_V1_STUDENT_DOMAIN to add one."
    ]
    assert invalid.filter(pl.col("recordId") == "14001")["message"].to_list() == [
        "'CBeane' is not a valid username: expected name@domain. Teacher.csv usernames have no domain: "
        "set the option teacher_domain or HOMEROOM_V1_TEACHER_DOMAIN to add one."
    ]
    # The memberships on the same lines go with their users silently; the enrollments say why they went.
    assert sorted(result.findings.group_by("rule", "file").len().rows()) == [
        ("InvalidUsername", "Student.csv", 22), ("InvalidUsername", "Teacher.csv", 1),
        ("ReferenceDropped", "StudentEnrollment.csv", 44), ("ReferenceDropped", "TeacherRoster.csv", 1),
    ]
    assert table(result, "users")["username"].to_list() == ["DTodd@fabrikam.edu"]


def test_domains_complete_only_usernames_without_one(v1):
    v1.replace("Student.csv", "13001,10001,OKlein", "13001,10001,ora.klein@other.org")
    result = validate_package(v1.root, options={"student_domain": "@students.contoso.edu", "teacher_domain": " contoso.edu "})
    assert result.findings.height == 0
    usernames = dict(table(result, "users").select("sourcedId", "username").rows())
    assert usernames["13001"] == "ora.klein@other.org"
    assert usernames["13002"] == "BMcMillan@students.contoso.edu"
    assert usernames["14001"] == "CBeane@contoso.edu"


def test_settings_give_default_domains_and_options_override_them(v1):
    settings = Settings(v1_student_domain="students.fabrikam.edu", v1_teacher_domain="fabrikam.edu")
    result = validate_package(v1.root, settings=settings, options={"teacher_domain": "contoso.edu"})
    assert result.findings.height == 0
    usernames = dict(table(result, "users").select("sourcedId", "username").rows())
    assert (usernames["13001"], usernames["14001"]) == ("OKlein@students.fabrikam.edu", "CBeane@contoso.edu")


# --- optional properties --------------------------------------------------------------------------------


def test_unselected_optional_columns_are_neither_carried_nor_checked(tmp_path):
    pkg = V1Package(tmp_path / "p", source="sds-v1-25-users")
    options = {
        **DOMAINS,
        "optional_properties": {"student": ["Grade", "First Name", "Shoe Size"], "Section.csv": [], "teacher": None, "pupil": ["x"]},
    }
    result = validate_package(pkg.root, options=options)
    # No M/D/YYYY birth or term dates and no free-text subjects are read, so none is reported.
    assert finding_tuples(result.findings) == [
        ("UnknownOptionalProperty", "warning", "Student.csv", None, None, None, "Shoe Size"),
        ("UnknownOptionalProperty", "warning", "pupil", None, None, None, "pupil"),
    ]
    assert result.findings.filter(pl.col("value") == "Shoe Size")["message"].to_list() == [
        "'Shoe Size' is not an optional column of Student.csv and was ignored (optional columns: First Name, Last Name, "
        "Password, State ID, Secondary Email, Student Number, Middle Name, Grade, Status, Birthdate, Graduation Year, "
        "Mailing Address, Mailing City, Mailing State, Mailing Zip, Mailing Latitude, Mailing Longitude, Mailing Country, "
        "Residence Address, Residence City, Residence State, Residence Zip, Residence Latitude, Residence Longitude, "
        "Residence Country, Gender, ELL Status, FederalRace)."
    ]
    student = table(result, "users").filter(pl.col("sourcedId") == "13001").row(0, named=True)
    assert (student["givenName"], student["familyName"], student["password"]) == ("Ora", None, None)
    assert table(result, "roles").filter(pl.col("userSourcedId") == "13001")["grade"].to_list() == ["09"]
    teacher = table(result, "users").filter(pl.col("sourcedId") == "14001").row(0, named=True)
    assert (teacher["givenName"], teacher["familyName"]) == ("Craig", "Beane")  # None: every optional column
    classes = table(result, "classes")
    assert classes.select("code", "sessionSourcedIds", "courseSourcedId").unique().rows() == [(None, None, None)]
    assert {"academicSessions", "courses", "demographics"}.isdisjoint(result.tables)


def test_optional_property_names_match_graphs_spelling(tmp_path):
    pkg = V1Package(tmp_path / "p", source="sds-v1-25-users")
    result = validate_package(pkg.root, options={**DOMAINS, "optional_properties": {"school": ["GradeLow", "principal name"]}})
    assert result.findings.filter(pl.col("rule") == "UnknownOptionalProperty").height == 0


# --- UK headers, file names, detection -----------------------------------------------------------------


def test_uk_headers_are_detected_and_name_the_findings(tmp_path):
    pkg = V1Package(tmp_path / "uk", source="sds-v1-uk-min-required-attributes")
    line = pkg.append("Student.csv", "13030,99999,NewKid")
    pkg.append("StudentEnrollment.csv", "99999,13001")
    result = validate_package(pkg.root, options=DOMAINS)
    assert result.format == "sds-v1-uk"
    assert finding_tuples(result.findings) == [
        ("ReferenceNotFound", "error", "Student.csv", line, "13030/99999/student", "School DfE Number", "99999"),
        ("ReferenceNotFound", "error", "StudentEnrollment.csv", 156, "99999/13001/student", "Section ID", "99999"),
    ]
    assert verification_messages(result)[1] == {
        "type": "Error", "fileName": "studentenrollment.csv", "description": "1 row(s) have referenced data not found in source. Field - Section ID"
    }


def test_uk_school_postal_code_is_a_known_column_and_zip_is_not(tmp_path):
    pkg = V1Package(tmp_path / "uk", source="sds-v1-uk-25-users")
    pkg.replace("School.csv", ",Postal Code,", ",Zip,")
    result = validate_package(pkg.root, options=DOMAINS)
    assert result.findings.filter(pl.col("rule") == "UnknownColumn").select("file", "field").rows() == [("School.csv", "Zip")]


def test_mixed_us_and_uk_headers_are_refused_naming_the_files(tmp_path):
    pkg = V1Package(tmp_path / "mixed", guardians=False)
    shutil.copy(MICROSOFT / "sds-v1-uk-min-required-attributes" / "Teacher.csv", pkg.path("Teacher.csv"))
    result = validate_package(pkg.root, options=DOMAINS)
    assert result.stopped and finding_tuples(result.findings)[0][:3] == ("UnknownFormat", "catastrophic", "mixed")
    assert result.findings["message"].to_list() == [
        "Cannot tell the format of mixed: the SDS v1 files mix UK headers (Teacher.csv: DfE Number, ID) and US headers "
        "(School.csv, Student.csv, Section.csv, StudentEnrollment.csv, TeacherRoster.csv: SIS ID)."
    ]


def test_format_option_overrides_detection(tmp_path):
    pkg = V1Package(tmp_path / "uk", source="sds-v1-uk-min-required-attributes", guardians=False)
    result = validate_package(pkg.root, format_name="sds-v1", options=DOMAINS)
    assert result.stopped and result.format == "sds-v1"
    assert ("HeaderNotPresent", "School.csv", "Unable to find SIS ID in School.csv. Correct the extract so that the header reads exactly as expected, then upload it again.") in (
        result.findings.select("rule", "file", "message").rows()
    )


def test_file_names_match_without_regard_to_case(v1):
    v1.path("School.csv").rename(v1.path("school.csv"))
    v1.path("StudentEnrollment.csv").rename(v1.path("STUDENTENROLLMENT.CSV"))
    v1.path("Guardianrelationship.csv").rename(v1.path("GuardianRelationship.csv"))
    result = validate_package(v1.root, options=DOMAINS)
    assert result.findings.height == 0 and result.files["StudentEnrollment.csv"].valid == 44


def test_section_enrollment_and_roster_come_all_together(v1):
    v1.remove("TeacherRoster.csv")
    result = validate_package(v1.root, options=DOMAINS)
    assert result.stopped
    assert result.findings.select("rule", "file", "message").rows() == [
        (
            "RequiredFileNotFound", "TeacherRoster.csv",
            "Unable to find TeacherRoster.csv in package. Section.csv, StudentEnrollment.csv and TeacherRoster.csv "
            "must be supplied together, and Section.csv is present.",
        )
    ]
    for name in ("Section.csv", "StudentEnrollment.csv"):
        v1.remove(name)
    result = validate_package(v1.root, options=DOMAINS)
    assert result.exit_code == 0
    assert sorted(result.findings.select("rule", "file").rows()) == [
        ("OptionalFileNotFound", "Section.csv"), ("OptionalFileNotFound", "StudentEnrollment.csv"), ("OptionalFileNotFound", "TeacherRoster.csv"),
    ]


def test_guardian_files_come_together(v1):
    v1.remove("User.csv")
    result = validate_package(v1.root, options=DOMAINS)
    assert result.findings.select("rule", "file", "message").rows() == [
        (
            "RequiredFileNotFound", "User.csv",
            "Unable to find User.csv in package. User.csv and Guardianrelationship.csv must be supplied together, "
            "and Guardianrelationship.csv is present.",
        )
    ]


# --- dates, terms, courses, demographics ----------------------------------------------------------------


SECTION_HEADER = "SIS ID,School SIS ID,Section Name,Term SIS ID,Term Name,Term StartDate,Term EndDate,Course SIS ID,Course Name,Course Subject"


def test_dates_are_iso_basic_or_m_d_y_and_terms_are_derived_once(v1):
    v1.write(
        "Section.csv",
        "\r\n".join([
            SECTION_HEADER,
            "11001,10001,Algebra 1,T1,Fall 2017,2017-08-21,20171222,C1,Algebra,02",
            "11002,10001,Algebra 2,T1,Fall,8/21/2017,2017-12-22,C1,Algebra II,02",
            "11003,10001,Biology,T2,Spring 2018,1/8/2018,13/45/2018,C2,Biology,3",
            "11004,10001,Chemistry,T2,Spring 2018,1/8/2018,13/45/2018,C3,Chemistry,",
            "",
        ]),
    )
    result = validate_package(v1.root, options=DOMAINS)
    assert finding_tuples(result.findings) == [
        ("ConflictingValue", "warning", "Section.csv", 3, "C1", "Course Name", "Algebra II"),
        ("ConflictingValue", "warning", "Section.csv", 3, "T1", "Term Name", "Fall"),
        ("InvalidDate", "error", "Section.csv", 4, "T2", "Term EndDate", "13/45/2018"),
        ("NonIsoDate", "warning", "Section.csv", 3, "T1", "Term StartDate", "8/21/2017"),
        ("NonIsoDate", "warning", "Section.csv", 4, "T2", "Term StartDate", "1/8/2018"),
        ("NonIsoDate", "warning", "Section.csv", 5, "T2", "Term StartDate", "1/8/2018"),
        # Term T2 is dropped for its end date; the section on its line silently loses it, the other says why.
        ("ReferenceDropped", "warning", "Section.csv", 5, "11004", "Term SIS ID", "T2"),
    ]
    messages = set(result.findings["message"])
    assert "'8/21/2017' is not an ISO 8601 date; it was read as month/day/year: 2017-08-21." in messages
    assert "Term Name 'Fall' differs from 'Fall 2017' given for Term SIS ID 'T1' on line 2; the value of line 2 is kept." in messages
    assert table(result, "academicSessions").rows() == [("T1", "Fall 2017", "term", 2018, dt(2017, 8, 21), dt(2017, 12, 22))]
    courses = table(result, "courses").select("sourcedId", "title", "subjects").rows()
    assert courses == [("C1", "Algebra", ["02"]), ("C2", "Biology", ["03"]), ("C3", "Chemistry", None)]
    assert table(result, "classes").select("sourcedId", "sessionSourcedIds").rows() == [
        ("11001", ["T1"]), ("11002", ["T1"]), ("11003", None), ("11004", None),
    ]


def test_gender_ell_status_and_birthdate_become_demographics_and_flags(v1):
    v1.write(
        "Student.csv",
        "\r\n".join([
            "SIS ID,School SIS ID,Username,Birthdate,Gender,ELL Status,FederalRace",
            "13001,10001,OKlein,2000-04-02,M,Yes,White",
            "13002,10001,BMcMillan,11/12/1999,female,no,",
            "13003,10001,FStark,2000-13-01,X,maybe,Martian",
            "13004,10001,NGilbertson,,,,",
            "",
        ]),
    )
    v1.write("StudentEnrollment.csv", "Section SIS ID,SIS ID\r\n11001,13001\r\n")
    result = validate_package(v1.root, options=DOMAINS)
    assert finding_tuples(result.findings) == [
        ("InvalidBoolean", "warning", "Student.csv", 4, "13003", "ELL Status", "maybe"),
        ("InvalidDate", "warning", "Student.csv", 4, "13003", "Birthdate", "2000-13-01"),
        ("InvalidEnumValue", "warning", "Student.csv", 4, "13003", "FederalRace", "Martian"),
        ("InvalidEnumValue", "warning", "Student.csv", 4, "13003", "Gender", "X"),
        ("NonIsoDate", "warning", "Student.csv", 3, "13002", "Birthdate", "11/12/1999"),
    ]
    demographics = table(result, "demographics").select("userSourcedId", "sex", "birthDate", "raceCodes").rows()
    assert demographics == [
        ("13001", "male", dt(2000, 4, 2), ["white"]),
        ("13002", "female", dt(1999, 11, 12), None),
        ("13003", None, None, None),  # its values were given, and invalid
    ]
    assert table(result, "userFlags").rows() == [("13001", "ell")]


# --- guardians ------------------------------------------------------------------------------------------


def test_guardians_become_contact_users_and_relationships(v1):
    v1.write(
        "User.csv",
        "\r\n".join([
            GUARDIAN_HEADERS["User.csv"],
            "parent.one@outlook.com,Pat,One,+14255550101,P1",
            "Parent.Two@Outlook.com,Sam,Two,,",
            "noname@outlook.com,,Three,,P3",
            "",
        ]),
    )
    v1.write(
        "Guardianrelationship.csv",
        "\r\n".join([
            GUARDIAN_HEADERS["Guardianrelationship.csv"],
            "13001,parent.one@outlook.com,Parent",
            "13002,parent.two@outlook.com,",
            "13003,PARENT.ONE@outlook.com,Child",
            "13004,noname@outlook.com,Guardian",
            "13005,stranger@outlook.com,Parent",
            "13006,parent.one@outlook.com,Uncle",
            "99999,parent.one@outlook.com,Parent",
            "",
        ]),
    )
    result = validate_package(v1.root, options=DOMAINS)
    assert finding_tuples(result.findings) == [
        ("InvalidEnumValue", "error", "Guardianrelationship.csv", 7, "13006/P1", "Role", "Uncle"),
        ("ReferenceDropped", "error", "Guardianrelationship.csv", 5, "13004/P3", "Email", "P3"),
        ("ReferenceNotFound", "error", "Guardianrelationship.csv", 6, "13005/stranger@outlook.com", "Email", "stranger@outlook.com"),
        ("ReferenceNotFound", "error", "Guardianrelationship.csv", 8, "99999/P1", "SIS ID", "99999"),
        ("RequiredValueMissing", "error", "User.csv", 4, "P3", "First Name", None),
    ]
    contacts = table(result, "users").filter(pl.col("sourcedId").is_in(["P1", "parent.two@outlook.com"]))
    assert contacts.select("sourcedId", "username", "email", "givenName", "phone").rows() == [
        ("P1", "parent.one@outlook.com", "parent.one@outlook.com", "Pat", "+14255550101"),
        ("parent.two@outlook.com", "Parent.Two@Outlook.com", "parent.two@outlook.com", "Sam", None),
    ]
    # A blank role is Other (§3.5); Child has no canonical relationship role and becomes other too.
    assert table(result, "relationships").rows() == [
        ("13001", "P1", "parent"), ("13002", "parent.two@outlook.com", "other"), ("13003", "P1", "other"),
    ]
    assert "roles" in result.tables and not set(table(result, "roles")["userSourcedId"]) & {"P1", "parent.two@outlook.com"}
    assert verification_messages(result) == [
        {"type": "Error", "fileName": "guardianrelationship.csv", "description": "1 row(s) have an invalid format for the field - Role"},
        {"type": "Error", "fileName": "guardianrelationship.csv", "description": "1 row(s) have referenced data not found in source. Field - Email"},
        {"type": "Error", "fileName": "guardianrelationship.csv", "description": "1 row(s) have referenced data not found in source. Field - SIS ID"},
        {"type": "Error", "fileName": "user.csv", "description": "1 row(s) have missing data for the field - First Name"},
    ]


def test_a_contact_email_that_is_not_an_address_is_an_invalid_username_with_a_hint(v1):
    v1.write("User.csv", GUARDIAN_HEADERS["User.csv"] + "\r\nnot-an-email,Pat,One,,P1\r\n")
    result = validate_package(v1.root, options=DOMAINS)
    assert finding_tuples(result.findings) == [("InvalidUsername", "error", "User.csv", 2, "P1", "Email", "not-an-email")]
    assert result.findings["message"].to_list() == [
        "'not-an-email' is not a valid username: expected name@domain. A contact's Email is also their username."
    ]


def test_guardian_headers_must_be_present_even_when_their_values_are_blank(v1):
    v1.write("User.csv", "Email,First Name,Last Name\r\n")
    result = validate_package(v1.root, options=DOMAINS)
    assert result.stopped
    assert sorted(result.findings.filter(pl.col("level") == "catastrophic")["message"]) == [
        "Unable to find Phone in User.csv. Correct the extract so that the header reads exactly as expected, then upload it again.",
        "Unable to find SIS ID in User.csv. Correct the extract so that the header reads exactly as expected, then upload it again.",
    ]


# --- never a traceback ------------------------------------------------------------------------------------


V1_FILES = ["School.csv", "Section.csv", "Student.csv", "Teacher.csv", "StudentEnrollment.csv", "TeacherRoster.csv", "User.csv", "Guardianrelationship.csv"]


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(V1_FILES),
    body=st.lists(st.sampled_from(list('ab1,"\r\n /@-é') + ["7/1/2017", "2017-13-01", "20170101", "ID", "SIS ID"]), max_size=120).map("".join),
)
def test_malformed_v1_rows_never_raise(tmp_path_factory, name, body):
    pkg = V1Package(tmp_path_factory.mktemp("fuzz") / "p", source="sds-v1-25-users")
    header = pkg.path(name).read_bytes().split(b"\r\n")[0]
    pkg.write(name, header + b"\r\n" + body.encode("utf-8"))
    result = validate_package(pkg.root, options=DOMAINS)
    assert result.exit_code in (0, 1, 2)
    assert result.findings["message"].null_count() == 0
    verification_messages(result)
