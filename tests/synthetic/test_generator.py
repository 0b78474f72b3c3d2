"""The synthetic SDS v2.1 district generator: deterministic, realistic, clean, and exact about its defects."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

import polars as pl
import pytest

from homeroom.errors import ConfigurationError
from homeroom.inbound.csv_reader import read_csv_body, split_header
from homeroom.model.reference import ReferenceData
from homeroom.synthetic import EXPECTED_FINDINGS_FILE, generate_district
from homeroom.synthetic.defects import defect_count
from homeroom.synthetic.district import SDS_HEADERS

STUDENTS = 2_000

#: Every defect kind the generator promises: (file, rule, level, field); field None for line findings and DuplicateRecord.
DEFECT_KINDS = {
    ("orgs.csv", "RequiredValueMissing", "error", "name"),
    ("orgs.csv", "InvalidEnumValue", "error", "type"),
    ("orgs.csv", "DuplicateSourcedId", "error", "sourcedId"),
    ("orgs.csv", "ReferenceNotFound", "warning", "parentSourcedId"),
    ("orgs.csv", "LineFieldCount", "error", None),
    ("academicSessions.csv", "InvalidDate", "error", "startDate"),
    ("academicSessions.csv", "InvalidEnumValue", "error", "type"),
    ("academicSessions.csv", "InvalidYear", "error", "schoolYear"),
    ("academicSessions.csv", "InvalidDateRange", "error", "endDate"),
    ("courses.csv", "RequiredValueMissing", "error", "title"),
    ("courses.csv", "ReferenceNotFound", "error", "orgSourcedId"),
    ("courses.csv", "ReferenceNotFound", "warning", "schoolYearSourcedId"),
    ("courses.csv", "InvalidEnumValue", "warning", "subject"),
    ("courses.csv", "InvalidEnumValue", "warning", "grade"),
    ("users.csv", "RequiredValueMissing", "error", "username"),
    ("users.csv", "InvalidUsername", "error", "username"),
    ("users.csv", "DuplicateSourcedId", "error", "sourcedId"),
    ("users.csv", "DuplicateUsername", "error", "username"),
    ("users.csv", "InvalidEmail", "warning", "email"),
    ("users.csv", "InvalidPhone", "warning", "phone"),
    ("users.csv", "LineUnterminatedQuote", "error", None),
    ("users.csv", "LineBreakInValue", "error", None),
    ("users.csv", "LineFieldCount", "error", None),
    ("roles.csv", "ReferenceNotFound", "error", "userSourcedId"),
    ("roles.csv", "ReferenceDropped", "error", "userSourcedId"),
    ("roles.csv", "InvalidEnumValue", "error", "role"),
    ("roles.csv", "InvalidEnumValue", "warning", "grade"),
    ("roles.csv", "InvalidBoolean", "warning", "isPrimary"),
    ("roles.csv", "InvalidDate", "warning", "roleStartDate"),
    ("roles.csv", "DuplicateRecord", "warning", None),
    ("roles.csv", "ReferenceNotFound", "warning", "sessionSourcedId"),
    ("classes.csv", "RequiredValueMissing", "error", "title"),
    ("classes.csv", "ReferenceNotFound", "error", "orgSourcedId"),
    ("classes.csv", "ReferenceNotFound", "warning", "courseSourcedId"),
    ("classes.csv", "ReferenceNotFound", "warning", "sessionSourcedIds"),
    ("classes.csv", "DuplicateSourcedId", "error", "sourcedId"),
    ("enrollments.csv", "ReferenceNotFound", "error", "classSourcedId"),
    ("enrollments.csv", "ReferenceNotFound", "error", "userSourcedId"),
    ("enrollments.csv", "InvalidEnumValue", "error", "role"),
    ("enrollments.csv", "DuplicateRecord", "warning", None),
    ("enrollments.csv", "RequiredValueMissing", "error", "userSourcedId"),
    ("enrollments.csv", "ReferenceDropped", "error", "classSourcedId"),
    ("enrollments.csv", "LineFieldCount", "error", None),
    ("demographics.csv", "InvalidEnumValue", "warning", "sex"),
    ("demographics.csv", "InvalidDate", "warning", "birthDate"),
    ("demographics.csv", "InvalidEnumValue", "warning", "raceCodes"),
    ("demographics.csv", "ReferenceNotFound", "error", "userSourcedId"),
    ("demographics.csv", "DuplicateRecord", "warning", None),
    ("userFlags.csv", "InvalidEnumValue", "error", "flag"),
    ("userFlags.csv", "ReferenceNotFound", "error", "userSourcedId"),
    ("relationships.csv", "InvalidEnumValue", "error", "relationshipRole"),
    ("relationships.csv", "ReferenceNotFound", "error", "relationshipUserSourcedId"),
    ("relationships.csv", "ContactMissingData", "error", "relationshipUserSourcedId"),
    ("relationships.csv", "SelfRelationship", "error", "relationshipUserSourcedId"),
}
LINE_RULES = {"LineFieldCount", "LineUnterminatedQuote", "LineBreakInValue"}


def _read(package: Path, file: str) -> pl.DataFrame:
    """A clean file as text columns, blanks as empty strings."""
    return pl.read_csv(package / file, infer_schema=False, empty_string_is_null=False).fill_null("")


def _digest(package: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(package.iterdir())}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate_district(out, STUDENTS, seed=3)
    return out


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("defective")
    return out, generate_district(out, STUDENTS, seed=5, defect_rate=0.05)


# --- determinism ---------------------------------------------------------------------------------------

def test_the_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    generate_district(tmp_path / "a", 500, seed=11, defect_rate=0.2)
    generate_district(tmp_path / "b", 500, seed=11, defect_rate=0.2)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_a_different_seed_gives_different_files(tmp_path: Path) -> None:
    generate_district(tmp_path / "a", 500, seed=11, defect_rate=0.2)
    generate_district(tmp_path / "b", 500, seed=12, defect_rate=0.2)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a["users.csv"] != b["users.csv"]
    assert a["enrollments.csv"] != b["enrollments.csv"]


# --- files and format ----------------------------------------------------------------------------------

def test_the_package_has_the_ten_sds_files_with_exact_headers_and_the_expected_findings(clean: Path) -> None:
    assert sorted(p.name for p in clean.iterdir()) == sorted([*SDS_HEADERS, EXPECTED_FINDINGS_FILE])
    for file, header in SDS_HEADERS.items():
        first_line = (clean / file).read_bytes().split(b"\n", 1)[0]
        assert first_line.decode("utf-8") == ",".join(header)


def test_files_are_utf8_without_bom_with_lf_line_endings(clean: Path) -> None:
    for file in SDS_HEADERS:
        data = (clean / file).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in data
        assert data.endswith(b"\n")
        data.decode("utf-8")


def test_values_with_commas_and_non_ascii_names_round_trip_through_csv_quoting(clean: Path) -> None:
    text = (clean / "users.csv").read_text("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert {len(r) for r in rows} == {9}
    family_names = {r[3] for r in rows[1:]}
    assert any("," in name for name in family_names)
    assert {"Müller", "O'Brien", "山田", "Nguyễn"} <= family_names
    assert {"José", "Zoë"} <= {r[2] for r in rows[1:]}
    courses = _read(clean, "courses.csv")
    assert courses.filter(pl.col("grade").str.contains(",")).height > 0
    assert courses.filter(pl.col("title").str.contains(",")).height > 0


# --- realism -------------------------------------------------------------------------------------------

def test_row_counts_follow_the_district_ratios(clean: Path) -> None:
    orgs = _read(clean, "orgs.csv")
    users = _read(clean, "users.csv")
    roles = _read(clean, "roles.csv")
    classes = _read(clean, "classes.csv")
    courses = _read(clean, "courses.csv")
    enrollments = _read(clean, "enrollments.csv")
    schools = orgs.filter(pl.col("type") == "school").height
    assert orgs.filter(pl.col("type") == "district").height == 1
    assert schools == round(STUDENTS / (1_100_000 / 1_800))
    students = roles.filter(pl.col("role") == "student").height
    staff = users.filter(pl.col("sourcedId").str.starts_with("stf-")).height
    guardians = users.filter(pl.col("sourcedId").str.starts_with("gdn-")).height
    assert students == STUDENTS
    assert abs(staff - STUDENTS * 140 / 1100) <= 1
    assert 1.4 * STUDENTS <= guardians <= 1.6 * STUDENTS
    assert 0.25 * STUDENTS <= classes.height <= 0.32 * STUDENTS  # 300k per 1.1M, plus small-grade minimums
    assert 2.9 <= classes.height / courses.height <= 3.7
    student_enrollments = enrollments.filter(pl.col("role") == "student").height
    assert 8.0 * STUDENTS <= student_enrollments <= 8.4 * STUDENTS  # ~9M per 1.1M
    teachers_per_class = enrollments.filter(pl.col("role") == "teacher").group_by("classSourcedId").len()
    assert teachers_per_class.height == classes.height
    assert set(teachers_per_class["len"].unique()) == {1, 2}
    assert 0.15 <= (teachers_per_class["len"] == 2).mean() <= 0.25
    staff_roles = roles.filter(pl.col("role") != "student")
    assert 0.65 <= (staff_roles.filter(pl.col("isPrimary") == "true")["role"] == "teacher").mean() <= 0.8
    assert 0.02 <= staff_roles.filter(pl.col("isPrimary") == "false").height / staff <= 0.08
    assert 0.12 <= _read(clean, "userFlags.csv").height / STUDENTS <= 0.18


def test_every_student_takes_seven_to_nine_distinct_classes_of_their_own_school(clean: Path) -> None:
    classes = _read(clean, "classes.csv").select(pl.col("sourcedId").alias("classSourcedId"), pl.col("orgSourcedId").alias("classOrg"))
    student_roles = _read(clean, "roles.csv").filter(pl.col("role") == "student").select("userSourcedId", "orgSourcedId")
    taken = (
        _read(clean, "enrollments.csv")
        .filter(pl.col("role") == "student")
        .join(classes, on="classSourcedId")
        .join(student_roles, on="userSourcedId")
    )
    assert (taken["classOrg"] == taken["orgSourcedId"]).all()
    per_student = taken.group_by("userSourcedId").agg(pl.col("classSourcedId").n_unique().alias("distinct"), pl.len())
    assert per_student.height == STUDENTS
    assert (per_student["distinct"] == per_student["len"]).all()
    assert per_student["distinct"].min() == 7 and per_student["distinct"].max() == 9


def test_birth_dates_are_consistent_with_grades(clean: Path) -> None:
    grades = _read(clean, "roles.csv").filter(pl.col("role") == "student").select("userSourcedId", "grade")
    people = _read(clean, "demographics.csv").join(grades, on="userSourcedId")
    grade_number = pl.when(pl.col("grade") == "KG").then(0).otherwise(pl.col("grade").cast(pl.Int32))
    age_on_sept_1 = people.select(
        (pl.date(2025, 9, 1) - pl.col("birthDate").str.to_date()).dt.total_days() // 365.25 - grade_number
    ).to_series()
    assert set(age_on_sept_1.unique()) <= {4, 5}


# --- a clean package is valid --------------------------------------------------------------------------

def test_a_clean_package_has_only_resolving_references(clean: Path) -> None:
    ids = {file: set(_read(clean, file)["sourcedId"]) for file in ("orgs.csv", "academicSessions.csv", "courses.csv", "users.csv", "classes.csv")}
    references = [
        ("orgs.csv", "parentSourcedId", "orgs.csv"),
        ("courses.csv", "orgSourcedId", "orgs.csv"),
        ("courses.csv", "schoolYearSourcedId", "academicSessions.csv"),
        ("roles.csv", "userSourcedId", "users.csv"),
        ("roles.csv", "orgSourcedId", "orgs.csv"),
        ("roles.csv", "sessionSourcedId", "academicSessions.csv"),
        ("classes.csv", "orgSourcedId", "orgs.csv"),
        ("classes.csv", "courseSourcedId", "courses.csv"),
        ("enrollments.csv", "classSourcedId", "classes.csv"),
        ("enrollments.csv", "userSourcedId", "users.csv"),
        ("demographics.csv", "userSourcedId", "users.csv"),
        ("userFlags.csv", "userSourcedId", "users.csv"),
        ("relationships.csv", "userSourcedId", "users.csv"),
        ("relationships.csv", "relationshipUserSourcedId", "users.csv"),
    ]
    for file, column, target in references:
        values = set(_read(clean, file)[column]) - {""}
        assert values <= ids[target], f"{file}.{column}: {sorted(values - ids[target])[:5]}"
    sessions = set(_read(clean, "classes.csv")["sessionSourcedIds"].str.split(",").explode())
    assert sessions <= ids["academicSessions.csv"]
    classes = _read(clean, "classes.csv").join(_read(clean, "courses.csv"), left_on="courseSourcedId", right_on="sourcedId")
    assert (classes["orgSourcedId"] == classes["orgSourcedId_right"]).all()


def test_a_clean_package_has_no_duplicate_keys(clean: Path) -> None:
    keys = {
        "orgs.csv": ["sourcedId"],
        "academicSessions.csv": ["sourcedId"],
        "courses.csv": ["sourcedId"],
        "users.csv": ["sourcedId"],
        "roles.csv": ["userSourcedId", "orgSourcedId", "role"],
        "classes.csv": ["sourcedId"],
        "enrollments.csv": ["classSourcedId", "userSourcedId", "role"],
        "demographics.csv": ["userSourcedId"],
        "userFlags.csv": ["userSourcedId", "flag"],
        "relationships.csv": ["userSourcedId", "relationshipUserSourcedId"],
    }
    for file, key in keys.items():
        table = _read(clean, file)
        assert not table.select(key).is_duplicated().any(), file
    usernames = _read(clean, "users.csv")["username"].str.to_lowercase()
    assert usernames.n_unique() == len(usernames)


def test_a_clean_package_has_only_valid_codes_dates_and_contact_details(clean: Path) -> None:
    reference = ReferenceData.default()

    def codes(reference_type: str) -> set[str]:
        return set(reference.codes(reference_type).values())

    def listed(frame: pl.DataFrame, column: str) -> set[str]:
        return set(frame[column].str.split(",").explode()) - {""}

    orgs, sessions, courses = _read(clean, "orgs.csv"), _read(clean, "academicSessions.csv"), _read(clean, "courses.csv")
    users, roles, enrollments = _read(clean, "users.csv"), _read(clean, "roles.csv"), _read(clean, "enrollments.csv")
    demographics, flags = _read(clean, "demographics.csv"), _read(clean, "userFlags.csv")
    relationships = _read(clean, "relationships.csv")
    assert set(orgs["type"]) <= codes("RefOrgType")
    assert set(sessions["type"]) <= codes("RefSessionType")
    assert listed(courses, "subject") <= codes("RefAcademicSubject")
    assert listed(courses, "grade") <= codes("RefGradeLevel")
    assert set(roles["role"]) <= codes("RefRole")
    assert set(roles["grade"]) - {""} <= codes("RefGradeLevel")
    assert set(roles["isPrimary"]) <= {"true", "false"}
    assert set(enrollments["role"]) <= codes("RefSectionRole")
    assert set(demographics["sex"]) <= codes("RefSex")
    assert listed(demographics, "raceCodes") <= codes("RefRace")
    assert listed(demographics, "ethnicityCodes") <= codes("RefEthnicity")
    assert set(flags["flag"]) <= codes("RefPersonFlagType")
    assert set(relationships["relationshipRole"]) <= codes("RefRelationshipRole")
    for frame, columns in ((sessions, ["startDate", "endDate"]), (roles, ["roleStartDate", "roleEndDate"]), (demographics, ["birthDate"])):
        for column in columns:
            assert frame[column].str.contains(r"^\d{4}-\d{2}-\d{2}$").all()
            frame[column].str.to_date("%Y-%m-%d")  # raises on an impossible date
    assert (sessions["endDate"] >= sessions["startDate"]).all()
    assert users["username"].str.contains(r"^[^@\s]+@[^@\s]+\.[a-z]+$").all()
    assert users["email"].str.contains(r"^[a-z0-9.\-]+@[a-z0-9.\-]+\.[a-z]+$").all()
    for column in ("phone", "sms"):
        assert users.filter(pl.col(column) != "")[column].str.contains(r"^\+1206555\d{4}$").all()
    assert (users["password"] == "").all()
    contacts = users.filter(pl.col("sourcedId").is_in(relationships["relationshipUserSourcedId"].implode()))
    assert contacts.height == relationships.height
    assert ((contacts["givenName"] != "") & (contacts["familyName"] != "") & (contacts["email"] != "")).all()


def test_a_clean_package_expects_no_findings(clean: Path) -> None:
    expected = json.loads((clean / EXPECTED_FINDINGS_FILE).read_text("utf-8"))
    assert expected["findings"] == []
    assert expected["totals"] == {"catastrophic": 0, "errors": 0, "warnings": 0}
    assert expected["generator"] == {"students": STUDENTS, "seed": 3, "defectRate": 0.0, "schoolYear": 2026}
    for file, counts in expected["files"].items():
        rows = (clean / file).read_bytes().count(b"\n") - 1
        assert counts == {"records": rows, "valid": rows}


# --- defects -------------------------------------------------------------------------------------------

def test_every_defect_kind_is_planted_at_least_once(defective: tuple[Path, dict]) -> None:
    _, expected = defective
    planted = {(f["file"], f["rule"], f["level"], f["field"]) for f in expected["findings"]}
    assert planted == DEFECT_KINDS
    assert all(f["count"] >= 1 for f in expected["findings"])


def test_a_tiny_district_at_the_highest_rate_still_plants_every_kind_once(tmp_path: Path) -> None:
    expected = generate_district(tmp_path, 1, seed=2, defect_rate=0.5)
    assert {(f["file"], f["rule"], f["level"], f["field"]) for f in expected["findings"]} == DEFECT_KINDS


def test_defect_counts_follow_the_rate_per_file_and_kind(defective: tuple[Path, dict], tmp_path: Path) -> None:
    _, expected = defective
    clean_rows = {file: c["records"] for file, c in generate_district(tmp_path, STUDENTS, seed=5)["files"].items()}
    count = {(f["file"], f["rule"], f["level"], f["field"]): f["count"] for f in expected["findings"]}
    kinds_in = {file: sum(1 for kind in DEFECT_KINDS if kind[0] == file) for file in SDS_HEADERS}
    per_kind = {file: defect_count(0.05, clean_rows[file], kinds_in[file]) for file in SDS_HEADERS}
    bundled = {
        ("users.csv", "RequiredValueMissing", "error", "username"): per_kind["roles.csv"],  # roles ReferenceDropped
        ("classes.csv", "RequiredValueMissing", "error", "title"): per_kind["enrollments.csv"],  # enrollments ReferenceDropped
    }
    for kind in DEFECT_KINDS:
        assert count[kind] == per_kind[kind[0]] + bundled.get(kind, 0), kind
    assert expected["files"]["users.csv"]["records"] == (
        clean_rows["users.csv"] + 9 * per_kind["users.csv"] + per_kind["roles.csv"] + per_kind["relationships.csv"]
    )


def test_the_defect_count_formula_rounds_and_plants_at_least_one() -> None:
    assert defect_count(0.0, 10**6, 4) == 0
    assert defect_count(0.01, 10, 4) == 1
    assert defect_count(0.5, 100, 5) == 10
    assert defect_count(0.05, 2_000, 7) == 14


def test_expected_totals_and_valid_counts_agree_with_the_findings_list(defective: tuple[Path, dict]) -> None:
    package, expected = defective
    findings = expected["findings"]
    assert expected["totals"] == {
        "catastrophic": 0,
        "errors": sum(f["count"] for f in findings if f["level"] == "error"),
        "warnings": sum(f["count"] for f in findings if f["level"] == "warning"),
    }
    assert findings == sorted(findings, key=lambda f: (f["file"], f["rule"], f["field"] or "", f["level"]))
    for file, counts in expected["files"].items():
        dropped = sum(f["count"] for f in findings if f["file"] == file and (f["level"] == "error" or f["rule"] == "DuplicateRecord"))
        assert counts["valid"] == counts["records"] - dropped
        line_breaks = sum(f["count"] for f in findings if f["file"] == file and f["rule"] == "LineBreakInValue")
        assert counts["records"] == (package / file).read_bytes().count(b"\n") - 1 - line_breaks


def test_raw_line_defects_are_exactly_the_line_findings_the_csv_reader_reports(defective: tuple[Path, dict]) -> None:
    package, expected = defective
    for file in SDS_HEADERS:
        header, body = split_header(memoryview((package / file).read_bytes()))
        raw = read_csv_body(body, header)
        reported: dict[str, int] = {}
        for finding in raw.line_findings:
            reported[finding.rule] = reported.get(finding.rule, 0) + 1
        wanted = {f["rule"]: f["count"] for f in expected["findings"] if f["file"] == file and f["rule"] in LINE_RULES}
        assert reported == wanted, file
        assert raw.records == expected["files"][file]["records"], file


def test_duplicates_are_appended_after_every_clean_row(defective: tuple[Path, dict]) -> None:
    package, expected = defective
    lines = (package / "users.csv").read_text("utf-8").splitlines()
    duplicates = sum(f["count"] for f in expected["findings"] if f["file"] == "users.csv" and f["rule"].startswith("Duplicate"))
    tail = lines[-duplicates:]
    assert all(re.match(r"^(stu|stf|gdn)-\d+,dfx-usr-dupid-|^dfx-usr-dupname-", line) for line in tail)
    assert not any("dupid" in line or "dupname" in line for line in lines[:-duplicates])


# --- arguments -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("students", "defect_rate"),
    [(0, 0.0), (10, -0.1), (10, 0.51)],
)
def test_out_of_range_arguments_are_refused(tmp_path: Path, students: int, defect_rate: float) -> None:
    with pytest.raises(ConfigurationError):
        generate_district(tmp_path, students, defect_rate=defect_rate)


def test_generator_docs_list_every_defect_kind() -> None:
    from homeroom.synthetic.defects import defects_markdown
    from homeroom.synthetic.formats.sds_v21 import DEFECT_KINDS

    docs = (Path(__file__).parents[2] / "docs" / "generator.md").read_text("utf-8")
    assert defects_markdown(DEFECT_KINDS) in docs, "regenerate the tables with homeroom.synthetic.formats.defect_tables_markdown()"
