"""The generator writes one district in every roster format, and every format reads back to that district.

The cross-format test reads a clean district written in each format and compares its canonical
tables with those of the SDS v2.1 package, entity by entity: the same keys and the same values,
except for what a format cannot carry. Each such exception is stated below as data, with the
sentence of docs/formats.md (or docs/generator.md, for choices the writer makes) that explains it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest

from homeroom.inbound.formats import FORMATS
from homeroom.inbound.formats.oneroster.files import spec_order
from homeroom.model.entities import ENTITIES, ENTITY_BY_NAME
from homeroom.synthetic import EXPECTED_FINDINGS_FILE, generate_district
from homeroom.synthetic.district import GUARDIAN_ID_PREFIX, STAFF_ID_PREFIX, SchoolYear
from homeroom.synthetic.formats import DEFAULT_FORMAT, PACKAGE_FORMATS, defect_tables_markdown
from homeroom.validate import validate_package

STUDENTS = 1_500
SEED = 4
OTHER_FORMATS = [name for name in PACKAGE_FORMATS if name != DEFAULT_FORMAT]


def _digest(package: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(package.iterdir())}


@pytest.fixture(scope="module")
def clean_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, pl.DataFrame]]:
    """The validated canonical tables of one clean district, per format."""
    tables = {}
    for name in PACKAGE_FORMATS:
        out = tmp_path_factory.mktemp(name)
        generate_district(out, STUDENTS, seed=SEED, format_name=name)
        result = validate_package(out)
        assert result.format == name and result.findings.height == 0, name
        # An entity the format has no file for is an empty table (OneRoster: userFlags).
        tables[name] = {e.name: pl.DataFrame(schema=e.polars_schema) for e in ENTITIES}
        tables[name] |= {entity: pl.from_arrow(table) for entity, table in result.tables.items()}
    return tables


# --- files ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("format_name", OTHER_FORMATS)
def test_the_same_seed_gives_byte_identical_files_in_every_format(tmp_path: Path, format_name: str) -> None:
    generate_district(tmp_path / "a", 300, seed=11, defect_rate=0.2, format_name=format_name)
    generate_district(tmp_path / "b", 300, seed=11, defect_rate=0.2, format_name=format_name)
    generate_district(tmp_path / "c", 300, seed=12, defect_rate=0.2, format_name=format_name)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


@pytest.mark.parametrize("format_name", OTHER_FORMATS)
def test_every_file_has_every_documented_column_in_the_documented_order(tmp_path: Path, format_name: str) -> None:
    generate_district(tmp_path, 50, seed=1, format_name=format_name)
    reader = FORMATS[format_name]
    written = sorted(p.name for p in tmp_path.iterdir() if p.name != EXPECTED_FINDINGS_FILE)
    read = sorted(spec.name for spec in reader.files if spec.skip_reason is None)
    assert written == read
    for name in written:
        data = (tmp_path / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data and data.endswith(b"\n")
        header = data.split(b"\n", 1)[0].decode("utf-8").split(",")
        assert header == spec_order(reader.file(name)), name  # each documented header once, in order


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_the_oneroster_manifest_lists_the_files_as_bulk_and_the_others_as_absent(tmp_path: Path, version: str) -> None:
    generate_district(tmp_path, 20, seed=1, format_name=f"oneroster-{version}")
    manifest = dict(pl.read_csv(tmp_path / "manifest.csv", infer_schema=False).iter_rows())
    assert manifest["manifest.version"] == "1.0" and manifest["oneroster.version"] == version
    for spec in FORMATS[f"oneroster-{version}"].files:
        if spec.name != "manifest.csv":
            assert manifest[f"file.{spec.name.removesuffix('.csv')}"] == ("bulk" if (tmp_path / spec.name).exists() else "absent")


@pytest.mark.parametrize("format_name", list(PACKAGE_FORMATS))
def test_a_tiny_district_at_the_highest_rate_plants_every_defect_kind_of_its_format(tmp_path: Path, format_name: str) -> None:
    expected = generate_district(tmp_path, 1, seed=2, defect_rate=0.5, format_name=format_name)
    kinds = {(file, k.rule, k.level, k.field) for file, ks in PACKAGE_FORMATS[format_name].defect_kinds.items() for k in ks}
    assert {(f["file"], f["rule"], f["level"], f["field"]) for f in expected["findings"]} == kinds


def test_the_generator_docs_list_every_formats_defect_kinds() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "generator.md").read_text("utf-8")
    assert defect_tables_markdown() in docs, "regenerate with homeroom.synthetic.formats.defect_tables_markdown()"


# --- one district, every format: the same canonical tables ---------------------------------------------

@dataclass(frozen=True)
class Lossy:
    """What a format cannot carry of one entity: how the SDS v2.1 reference is cut down to what the format reads back.

    ``rows`` keeps the reference rows the format has; ``dropped`` are columns the format leaves
    blank; ``values`` replace reference columns by what the format reads back.
    """

    rows: pl.Expr | None = None
    dropped: tuple[str, ...] = ()
    values: dict[str, pl.Expr] = field(default_factory=dict)


_staff = pl.col("userSourcedId").str.starts_with(STAFF_ID_PREFIX)
_ROLE_SESSION_AND_DATES = ("sessionSourcedId", "roleStartDate", "roleEndDate")

_SDS_V1 = {
    # formats.md, SDS v1: "Schools become orgs of type `school` without a parent."
    "orgs": Lossy(rows=pl.col("type") == "school", dropped=("parentSourcedId",)),
    # formats.md, SDS v1: "Each distinct `Term SIS ID` becomes one academic session of type `term`".
    # generator.md: a class in both semesters names the school year as its term (see "classes").
    "academicSessions": Lossy(values={"type": pl.lit("term")}),
    # formats.md, SDS v1: "`Course Description`, the course's grades and school year are not carried."
    "courses": Lossy(dropped=("schoolYearSourcedId", "grades")),
    # formats.md, SDS v1: a contact's "username and email are `Email`"; Student.csv and Teacher.csv have
    # no phone columns and no file has an SMS column (the column tables).
    "users": Lossy(
        dropped=("sms",),
        values={
            "username": pl.when(pl.col("sourcedId").str.starts_with(GUARDIAN_ID_PREFIX)).then(pl.col("email")).otherwise(pl.col("username")),
            "phone": pl.when(pl.col("sourcedId").str.starts_with(GUARDIAN_ID_PREFIX)).then(pl.col("phone")),
        },
    ),
    # formats.md, SDS v1: "Students and teachers become users and one role membership each: `student`
    # ... or `teacher` ... `isPrimary`, the role's session and dates stay blank", and "A repeated `SIS ID`
    # ... keeps the first row" (so a staff member's second school is not written).
    "roles": Lossy(
        rows=pl.col("isPrimary"),
        dropped=("isPrimary", *_ROLE_SESSION_AND_DATES),
        values={"role": pl.when(_staff).then(pl.lit("teacher")).otherwise(pl.col("role"))},
    ),
    # generator.md: a v1 section has one term; a class in both semesters names the school year.
    "classes": Lossy(values={
        "sessionSourcedIds": pl.when(pl.col("sessionSourcedIds").list.len() > 1)
        .then(pl.concat_list(pl.lit(SchoolYear(2026).year_id))).otherwise(pl.col("sessionSourcedIds")),
    }),
    # formats.md, SDS v1 Student.csv: demographics are `Birthdate`, `Gender` and `FederalRace`.
    "demographics": Lossy(dropped=("birthCity", "birthState", "birthCountry", "ethnicityCodes")),
    # formats.md, SDS v1: "`ELL Status` `yes`/`true`/`y`/`1` becomes the user flag `ell`".
    "userFlags": Lossy(rows=pl.col("flag") == "ell"),
}
_ONEROSTER = {
    # formats.md, OneRoster: "Not carried: `userFlags` (OneRoster has no flags)."
    "userFlags": Lossy(rows=pl.lit(False)),
}
#: Per format and entity, what the format cannot carry (entities not listed read back unchanged).
LOSSY: dict[str, dict[str, Lossy]] = {
    "sds-v1": _SDS_V1,
    "sds-v1-uk": _SDS_V1,
    # formats.md, OneRoster 1.1 roles: "`isPrimary`, the session and the role dates are blank: 1.1 has no primary org."
    "oneroster-1.1": {**_ONEROSTER, "roles": Lossy(dropped=("isPrimary", *_ROLE_SESSION_AND_DATES))},
    # formats.md, OneRoster 1.2 roles.csv: no column gives a role's session.
    "oneroster-1.2": {**_ONEROSTER, "roles": Lossy(dropped=("sessionSourcedId",))},
}


def _comparable(frame: pl.DataFrame, entity: str, dropped: tuple[str, ...]) -> pl.DataFrame:
    """The canonical columns (kept extras left out), lists as text, sorted: rows compare as a set."""
    names = [f.name for f in ENTITY_BY_NAME[entity].fields if f.name not in dropped]
    frame = frame.select(
        pl.col(n).list.join(",") if isinstance(frame.schema[n], pl.List) else pl.col(n).cast(pl.String) for n in names
    )
    return frame.sort(names, nulls_last=True)


@pytest.mark.parametrize("format_name", OTHER_FORMATS)
def test_every_format_reads_back_to_the_same_canonical_district(clean_tables, format_name: str) -> None:
    reference, tables = clean_tables[DEFAULT_FORMAT], clean_tables[format_name]
    for entity in (e.name for e in ENTITIES):
        lossy = LOSSY[format_name].get(entity, Lossy())
        expected = reference[entity]
        if lossy.rows is not None:
            expected = expected.filter(lossy.rows)
        if lossy.values:
            expected = expected.with_columns(value.alias(name) for name, value in lossy.values.items())
        if entity == "academicSessions" and format_name.startswith("sds-v1"):
            # Only the sessions some section names as its term exist (generator.md).
            expected = expected.filter(pl.col("sourcedId").is_in(tables["classes"]["sessionSourcedIds"].explode().implode()))
        want, got = _comparable(expected, entity, lossy.dropped), _comparable(tables[entity], entity, lossy.dropped)
        assert got.height == want.height, f"{format_name} {entity}: {got.height} rows, expected {want.height}"
        assert got.equals(want), f"{format_name} {entity}: values differ\n{got.join(want, on=got.columns, how='anti', nulls_equal=True).head()}"


def test_every_session_and_most_of_the_district_survive_the_lossiest_format(clean_tables) -> None:
    """The exclusions above are narrow: SDS v1 still carries most of the district's records."""
    reference, v1 = clean_tables[DEFAULT_FORMAT], clean_tables["sds-v1"]
    assert v1["academicSessions"].height == reference["academicSessions"].height == 3
    for entity in ("users", "classes", "enrollments", "demographics", "relationships", "courses"):
        assert v1[entity].height == reference[entity].height, entity


# --- with defects: the planted findings per rule, and the clean records untouched ----------------------

@pytest.mark.parametrize("format_name", list(PACKAGE_FORMATS))
def test_with_defects_every_format_reports_its_planted_findings_per_rule_and_keeps_the_clean_records(
    clean_tables, tmp_path: Path, format_name: str
) -> None:
    expected = generate_district(tmp_path, STUDENTS, seed=SEED, defect_rate=0.01, format_name=format_name)
    result = validate_package(tmp_path)
    planted = Counter()
    for f in expected["findings"]:
        planted[f["rule"], f["level"]] += f["count"]
    found = Counter({(rule, level): n for rule, level, n in result.findings.group_by("rule", "level").len().rows()})
    assert found == planted
    # The rules of the checks every format has are planted in every format.
    assert {"RequiredValueMissing", "ReferenceNotFound", "ReferenceDropped", "DuplicateSourcedId", "DuplicateUsername",
            "DuplicateRecord", "InvalidUsername", "InvalidEmail", "InvalidEnumValue", "InvalidDate", "LineFieldCount",
            "SelfRelationship"} <= {rule for rule, _ in planted}
    # Defects are extra records: every clean record reads back unchanged.
    for entity, clean in clean_tables[format_name].items():
        defective = pl.from_arrow(result.tables[entity]) if entity in result.tables else clean.clear()
        before = _comparable(clean, entity, ())
        lost = before.join(_comparable(defective, entity, ()), on=before.columns, how="anti", nulls_equal=True)
        assert lost.height == 0, f"{format_name} {entity}: clean records lost or changed\n{lost.head()}"
