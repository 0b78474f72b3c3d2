"""Format descriptions: every canonical field has a column, and the docs show the current mapping."""

from __future__ import annotations

from pathlib import Path

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
