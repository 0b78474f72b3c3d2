"""SDS v1 files as canonical source rows (``CsvFormat.to_sources``), with the format's options applied.

A Student.csv row is a user, a student role in its school, demographics and an ELL flag; a
Teacher.csv row a user and a teacher role; a Section.csv row a class, and the term and course it
names (one record per distinct ``Term SIS ID`` / ``Course SIS ID``: the first section that names
one defines it, later ones that disagree get ``ConflictingValue``). M/D/YYYY dates are read as
month/day/year (``NonIsoDate``). User.csv and Guardianrelationship.csv are contacts and their
students, matched by email. Everything is done with column expressions; nothing loops over rows.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping

import polars as pl

from homeroom.findings import Findings
from homeroom.inbound.batch import SourceRows
from homeroom.inbound.csv_reader import RawTable
from homeroom.inbound.formats.base import CsvFormat, FileSpec, file_sources
from homeroom.settings import Settings, get_settings


_TRUE = ["true", "yes", "y", "1"]
_FALSE = ["false", "no", "n", "0"]
_MDY = r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$"
_ISO_BASIC = r"^[0-9]{8}$"
#: Guardian roles of SDS v1 (§3.5) that the canonical relationship roles lack.
_OTHER_RELATIONSHIP_ROLES = ["child", "administrator"]


def sds_v1_sources(
    fmt: CsvFormat, raws: dict[str, RawTable], findings: Findings, options: Mapping[str, object]
) -> list[SourceRows]:
    """Turn the parsed v1 files into canonical source rows (see the module docstrings)."""
    settings = options.get("settings")
    settings = settings if isinstance(settings, Settings) else get_settings()
    raws = _select_optional_columns(fmt, raws, findings, options.get("optional_properties"))
    per_file = {spec.name: file_sources(spec, raws[spec.name]) for spec in fmt.files if spec.name in raws}
    header_of = {name: set(raw.table.column_names) for name, raw in raws.items()}  # after the selection
    sources: list[SourceRows] = []

    if "School.csv" in per_file:
        orgs = per_file["School.csv"]["orgs"]
        sources.append(_with(orgs, pl.lit("school").alias("type")))

    student_ids = pl.Series([], dtype=pl.String)
    for file, role, domain_option, domain_setting in (
        ("Student.csv", "student", "student_domain", settings.v1_student_domain),
        ("Teacher.csv", "teacher", "teacher_domain", settings.v1_teacher_domain),
    ):
        if file not in per_file:
            continue
        parts = per_file[file]
        users = parts["users"]
        domain = options.get(domain_option) or domain_setting
        sources.append(_with(users, _complete_username(file, domain, domain_option, f"HOMEROOM_V1_{role.upper()}_DOMAIN")))
        # A row's memberships and demographics follow its user: none for a row without an id, for
        # a later row repeating an id (it is dropped as a duplicate), or for a teacher whose id is a student's.
        ids = users.frame.get_column("sourcedId")
        keep = ids.is_not_null() & ids.is_first_distinct() & ~ids.is_in(student_ids.implode())
        if role == "student":
            student_ids = ids.drop_nulls()
        roles = parts["roles"]
        sources.append(_with(roles, pl.lit(role).alias("role"), keep=keep))
        if role == "student" and header_of[file] & {"Birthdate", "Gender", "FederalRace"}:
            demographics = _normalise_dates(parts["demographics"], ["birthDate"], findings)
            demographics = _with(
                demographics,
                pl.col("sex").replace({"M": "male", "m": "male", "F": "female", "f": "female"}),
                keep=keep,
            )
            given = pl.any_horizontal(pl.col(c).is_not_null() for c in ("sex", "birthDate", "raceCodes"))
            sources.append(dataclasses.replace(demographics, frame=demographics.frame.filter(given)))
        if role == "student" and "ELL Status" in header_of[file]:
            sources.append(_ell_flags(_with(parts["userFlags"], keep=keep), findings))

    if "Section.csv" in per_file:
        parts = per_file["Section.csv"]
        sources.append(parts["classes"])
        if "Term SIS ID" in header_of["Section.csv"]:
            sessions = _normalise_dates(parts["academicSessions"], ["startDate", "endDate"], findings)
            sessions = _distinct(sessions, ["title", "startDate", "endDate"], findings)
            sessions = _with(sessions, pl.lit("term").alias("type"), _school_year(pl.col("endDate")).alias("schoolYear"))
            sources.append(sessions)
        if "Course SIS ID" in header_of["Section.csv"]:
            # A course belongs to the school of the first section that names it (not compared: a
            # district may share a course id between schools).
            sources.append(_distinct(parts["courses"], ["title", "code", "subjects"], findings))

    deferred = {_file_key(str(name)) for name in options.get("deferred_files") or ()}
    for file, role in (("StudentEnrollment.csv", "student"), ("TeacherRoster.csv", "teacher")):
        if file in per_file and _file_key(file) not in deferred:
            sources.append(_with(per_file[file]["enrollments"], pl.lit(role).alias("role")))

    if "User.csv" in per_file:
        contacts = _contacts(per_file["User.csv"]["users"])
        sources.append(contacts)
        if "Guardianrelationship.csv" in per_file:
            sources.append(_guardian_relationships(per_file["Guardianrelationship.csv"]["relationships"], contacts))
    return sources


def _with(source: SourceRows, *columns: pl.Expr, keep: pl.Series | None = None) -> SourceRows:
    """The source with columns replaced or added, and only the rows where ``keep`` is true."""
    frame = source.frame if keep is None else source.frame.filter(keep)
    return dataclasses.replace(source, frame=frame.with_columns(*columns) if columns else frame)


def _school_year(end_date: pl.Expr) -> pl.Expr:
    """The school year (its ending year) of a term, from the term's end date, for school years August to July.

    A term ending 2017-12-22 is in school year 2018, one ending 2018-06-30 or 2018-07-20 too. A term
    without a usable end date is dropped for that date, so "0000" never reaches a validated table.
    """
    date = end_date.str.to_date("%Y-%m-%d", strict=False)
    year = date.dt.year() + (date.dt.month() >= 8).cast(pl.Int32)
    return year.cast(pl.String).fill_null("0000")


def _complete_username(file: str, domain: object, option: str, variable: str) -> pl.Expr:
    """Username with the configured domain added where it has none; else a hint on how to configure it."""
    has_no_domain = pl.col("username").is_not_null() & ~pl.col("username").str.contains("@", literal=True)
    domain = str(domain or "").strip().lstrip("@")
    if domain:
        return pl.when(has_no_domain).then(pl.col("username") + f"@{domain}").otherwise(pl.col("username")).alias("username")
    hint = f" {file} usernames have no domain: set the option {option} or {variable} to add one."
    return pl.when(has_no_domain).then(pl.lit(hint)).alias("__hint_username")


def _normalise_dates(source: SourceRows, fields: list[str], findings: Findings) -> SourceRows:
    """ISO dates as they are; YYYYMMDD and M/D/YYYY rewritten to YYYY-MM-DD (M/D/YYYY with a NonIsoDate warning).

    Anything else is left for the record checks to report as an invalid date.
    """
    frame = source.frame
    if frame.height == 0:
        return source
    replaced = []
    for name in fields:
        value = pl.col(name)
        mdy = pl.when(value.str.contains(_MDY)).then(value.str.to_date("%m/%d/%Y", strict=False).dt.to_string("%Y-%m-%d"))
        basic = pl.when(value.str.contains(_ISO_BASIC)).then(value.str.to_date("%Y%m%d", strict=False).dt.to_string("%Y-%m-%d"))
        frame = frame.with_columns(mdy.alias("__x_iso"), basic.alias("__basic"))
        findings.add_rows(
            "NonIsoDate", "warning", source.file, source.headers[name],
            frame.filter(pl.col("__x_iso").is_not_null()).select(
                "__line", _record_id(source).alias("__id"), value.alias("__value"), "__x_iso"
            ),
            row_values={"iso": pl.col("__x_iso")},
        )
        replaced.append(frame.select(pl.coalesce("__x_iso", "__basic", name).alias(name)).to_series())
    return dataclasses.replace(source, frame=source.frame.with_columns(replaced))


def _record_id(source: SourceRows) -> pl.Expr:
    entity = source.entity
    if entity.has_sourced_id:
        return pl.col("sourcedId")
    return pl.concat_str([pl.col(k).fill_null("") for k in entity.key], separator="/")


def _distinct(source: SourceRows, compared: list[str], findings: Findings) -> SourceRows:
    """One record per id (the first row naming it); later rows that disagree get a ConflictingValue warning."""
    frame = source.frame.filter(pl.col("sourcedId").is_not_null())
    first = frame.get_column("sourcedId").is_first_distinct()
    later = frame.filter(~first)
    if later.height:
        kept = frame.filter(first).select(
            "sourcedId", pl.col("__line").alias("__x_kept_line"), *[pl.col(c).alias(f"__kept_{c}") for c in compared]
        )
        later = later.join(kept, on="sourcedId", how="left", maintain_order="left")
        for name in compared:
            differs = pl.col(name).is_not_null() & pl.col(name).ne_missing(pl.col(f"__kept_{name}"))
            findings.add_rows(
                "ConflictingValue", "warning", source.file, source.headers[name],
                later.filter(differs).select(
                    "__line", pl.col("sourcedId").alias("__id"), pl.col(name).alias("__value"),
                    pl.col(f"__kept_{name}").fill_null("").alias("__x_kept"), "__x_kept_line",
                ),
                row_values={"kept": pl.col("__x_kept"), "kept_line": pl.col("__x_kept_line"), "key": pl.col("__id")},
                key_field=source.headers["sourcedId"],
            )
    return dataclasses.replace(source, frame=frame.filter(first))


def _ell_flags(source: SourceRows, findings: Findings) -> SourceRows:
    """``ELL Status`` yes/true/y/1 becomes the flag ``ell``; no/false/n/0 none; anything else is a warning."""
    value = pl.col("flag").str.to_lowercase()
    frame = source.frame
    findings.add_rows(
        "InvalidBoolean", "warning", source.file, source.headers["flag"],
        frame.filter(pl.col("flag").is_not_null() & ~value.is_in(_TRUE + _FALSE)).select(
            "__line", pl.col("userSourcedId").alias("__id"), pl.col("flag").alias("__value")
        ),
    )
    return dataclasses.replace(source, frame=frame.filter(value.is_in(_TRUE)).with_columns(pl.lit("ell").alias("flag")))


def _contacts(source: SourceRows) -> SourceRows:
    """User.csv: the Email is the contact's username and email; the SIS ID, or else the email, its id."""
    hint = " A contact's Email is also their username."
    frame = source.frame.with_columns(
        # Without an @ the value is reported once, as an invalid username, and not again as an email.
        pl.when(pl.col("username").str.contains("@", literal=True)).then(pl.col("username")).alias("email"),
        pl.coalesce("sourcedId", pl.col("username").str.to_lowercase()).alias("sourcedId"),
        pl.lit(hint).alias("__hint_username"),
    )
    return dataclasses.replace(source, frame=frame, required=frozenset({"givenName", "familyName"}))


def _guardian_relationships(source: SourceRows, contacts: SourceRows) -> SourceRows:
    """Guardianrelationship.csv: the contact is found by Email in User.csv; a blank role is ``other``."""
    by_email = (
        contacts.frame.filter(pl.col("username").is_not_null())
        .select(pl.col("username").str.to_lowercase().alias("__email"), pl.col("sourcedId").alias("__contact"))
        .unique("__email", keep="first", maintain_order=True)
    )
    frame = (
        source.frame.with_columns(pl.col("relationshipUserSourcedId").str.to_lowercase().alias("__email"))
        .join(by_email, on="__email", how="left", maintain_order="left")
        .with_columns(
            # An email not in User.csv stays as it is, so that the reference check names it.
            pl.coalesce("__contact", "relationshipUserSourcedId").alias("relationshipUserSourcedId"),
            pl.when(pl.col("relationshipRole").is_null() | pl.col("relationshipRole").str.to_lowercase().is_in(_OTHER_RELATIONSHIP_ROLES))
            .then(pl.lit("other"))
            .otherwise(pl.col("relationshipRole"))
            .alias("relationshipRole"),
        )
        .drop("__email", "__contact")
    )
    return dataclasses.replace(source, frame=frame)


def _name_key(name: str) -> str:
    """Optional property names match without regard to case and spaces (Graph writes ``GradeLow``)."""
    return re.sub(r"\s+", "", name).lower()


def _file_key(name: str) -> str:
    """``Student.csv``, ``student.csv`` and Graph's entity name ``student`` all name Student.csv."""
    return name.lower().removesuffix(".csv")


def _select_optional_columns(
    fmt: CsvFormat, raws: dict[str, RawTable], findings: Findings, selection: object
) -> dict[str, RawTable]:
    """The files with the optional columns that ``selection`` leaves out removed (read as blank)."""
    if not isinstance(selection, Mapping):
        return raws
    specs = {_file_key(spec.name): spec for spec in fmt.files}
    raws = dict(raws)
    for key, names in selection.items():
        spec = specs.get(_file_key(str(key)))
        if spec is None:
            files = ", ".join(s.name for s in fmt.files if _optional_headers(s))
            findings.add("UnknownOptionalProperty", "warning", str(key), value=str(key), columns=f"it is not a file of {fmt.display_name}: {files}")
            continue
        if names is None:
            continue
        names = [names] if isinstance(names, str) else list(names) if isinstance(names, Iterable) else []
        optional = _optional_headers(spec)
        known = {_name_key(h) for h in optional}
        for name in names:
            if _name_key(str(name)) not in known:
                findings.add("UnknownOptionalProperty", "warning", spec.name, value=str(name), columns=", ".join(optional) or "none")
        raw = raws.get(spec.name)
        if raw is not None:
            wanted = {_name_key(str(n)) for n in names}
            dropped = [h for h in optional if _name_key(h) not in wanted and h in raw.table.column_names]
            raws[spec.name] = dataclasses.replace(raw, table=raw.table.drop_columns(dropped))
    return raws


def _optional_headers(spec: FileSpec) -> list[str]:
    required = spec.required_headers
    return list(dict.fromkeys(h for h, _ in spec.columns if h not in required))
