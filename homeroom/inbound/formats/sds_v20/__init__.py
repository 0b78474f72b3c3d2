"""Microsoft School Data Sync v2.0 CSV (legacy; Microsoft superseded it with v2.1 in 2022).

Four files: ``orgs.csv`` and ``users.csv`` are required, ``classes.csv`` and ``enrollments.csv``
come together. There is no roles.csv: each users.csv row carries its memberships inline
(``orgSourcedIds``, a comma-separated list, with one ``role`` and ``grade``), and they are read
as one role membership per org. The package is read like v2.1 and gets one ``SupersededFormat``
warning. Source: ``shared/spec/roster-csv-formats.md`` §2.7.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import polars as pl

from homeroom.findings import Findings
from homeroom.inbound.batch import SourceRows
from homeroom.inbound.csv_reader import RawTable
from homeroom.inbound.formats.base import CsvFormat, FileSpec, file_sources, same_names
from homeroom.inbound.formats.sds_v20 import rules  # noqa: F401  (registers the format's rule codes)
from homeroom.inbound.formats.sds_v21 import SDS_V21
from homeroom.model import entities as E

#: v2.0 enrollment roles that v2.1's enrollment roles lack, and what they become.
_ENROLLMENT_ROLES = {"faculty": "teacher"}


def _sds_v20_sources(
    fmt: CsvFormat, raws: dict[str, RawTable], findings: Findings, options: Mapping[str, object]
) -> list[SourceRows]:
    """Read the four files; users.csv also gives the roles (one per org in ``orgSourcedIds``)."""
    findings.add(
        "SupersededFormat", "warning", "users.csv",
        detail=(
            "SDS v2.0 is superseded by SDS v2.1: the users.csv columns orgSourcedIds, role and grade were read as "
            "role memberships (one per org). Move them into roles.csv (userSourcedId, orgSourcedId, role, grade) "
            "and send SDS v2.1 files."
        ),
    )
    sources = []
    for spec in fmt.files:
        if spec.name not in raws:
            continue
        parts = file_sources(spec, raws[spec.name])
        if spec.name == "users.csv":
            roles = parts["roles"]
            orgs = (
                pl.col("orgSourcedId").str.split(",")
                .list.eval(pl.element().str.strip_chars())
                .list.eval(pl.element().filter(pl.element() != ""))
            )
            # An empty list explodes to one blank org, which the record checks report as missing.
            frame = roles.frame.with_columns(orgs).explode("orgSourcedId")
            sources += [parts["users"], dataclasses.replace(roles, frame=frame)]
        elif spec.name == "enrollments.csv":
            enrollments = parts["enrollments"]
            role = pl.col("role").str.to_lowercase().replace_strict(_ENROLLMENT_ROLES, default=pl.col("role"))
            sources.append(dataclasses.replace(enrollments, frame=enrollments.frame.with_columns(role)))
        else:
            sources.append(parts[spec.entity.name])
    return sources



SDS_V20 = CsvFormat(
    name="sds-v2.0",
    display_name="SDS v2.0 CSV (legacy)",
    # Graph's RefFileFormat has no code for v2.0 (only schoolDataSyncV1 and schoolDataSyncV2Rev1); this one is Homeroom's.
    file_format_code="schoolDataSyncV2",
    files=(
        SDS_V21.file("orgs.csv"),
        FileSpec(
            "users.csv",
            E.USERS,
            "required",
            (
                ("sourcedId", "sourcedId"), ("sourcedId", "roles.userSourcedId"), ("orgSourcedIds", "roles.orgSourcedId"),
                *same_names("givenName", "familyName", "username", "password"),
                ("role", "roles.role"), ("grade", "roles.grade"),
            ),
        ),
        FileSpec("classes.csv", E.CLASSES, "optional", same_names("sourcedId", "orgSourcedId", "title"), missing_consequence="no classes are managed"),
        SDS_V21.file("enrollments.csv"),
    ),
    together=(("classes.csv", "enrollments.csv"),),
    to_sources=_sds_v20_sources,
)
