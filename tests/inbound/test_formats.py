"""Format descriptions: every canonical field has a column, accepted aliases name their fields, and the docs show the mapping."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from homeroom.inbound import read_package
from homeroom.inbound.formats import FORMATS, SDS_V21
from homeroom.inbound.formats.base import format_markdown
from homeroom.model.entities import ENTITIES


def test_sds_v21_maps_every_canonical_field_of_every_entity():
    assert [spec.entity for spec in SDS_V21.files] == list(ENTITIES)
    for spec in SDS_V21.files:
        assert sorted(name for _, name in spec.columns) == sorted(f.name for f in spec.entity.fields), spec.name


def test_required_headers_are_those_of_required_fields():
    assert SDS_V21.file("users.csv").required_headers == ["sourcedId", "username"]
    assert SDS_V21.file("academicSessions.csv").required_headers == ["sourcedId", "title", "type", "schoolYear", "startDate", "endDate"]


def test_formats_doc_ends_with_the_generated_column_tables():
    docs = (Path(__file__).parents[2] / "docs" / "formats.md").read_text("utf-8")
    generated = "\n".join(format_markdown(f) for f in FORMATS.values())
    assert docs.endswith(generated), "regenerate the tables with: homeroom formats --markdown"


def test_an_accepted_alias_is_how_findings_name_the_field(sample):
    sample.replace("roles.csv", "role,sessionSourcedId,grade", "role,sessionSourcedIds,grade")
    sample.replace("roles.csv", "114001,110003,student,SY2021K12", "114001,110003,student,SY1999")
    [source] = [s for s in read_package(sample.root).sources if s.file == "roles.csv"]
    assert source.headers["sessionSourcedId"] == "sessionSourcedIds"
    assert source.frame.filter(pl.col("userSourcedId") == "114001")["sessionSourcedId"].to_list() == ["SY1999"]
