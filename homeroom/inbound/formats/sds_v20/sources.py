"""SDS v2.0 files as canonical source rows: users.csv also gives one role membership per org it lists."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import polars as pl

from homeroom.findings import Findings
from homeroom.inbound.batch import SourceRows
from homeroom.inbound.csv_reader import RawTable
from homeroom.inbound.formats.base import CsvFormat, file_sources

#: v2.0 enrollment roles that v2.1's enrollment roles lack, and what they become.
_ENROLLMENT_ROLES = {"faculty": "teacher"}


def sds_v20_sources(
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
