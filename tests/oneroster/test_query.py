"""The filter grammar, sort, fields and paging of the OneRoster provider, on small frames."""

from __future__ import annotations

from datetime import date, datetime, timezone

import polars as pl
import pytest

from homeroom.oneroster.errors import InvalidData, InvalidFilter, InvalidSelection
from homeroom.oneroster.query import Clause, Filter, filter_expr, paging, parse_filter, selected_fields, sort_frame
from homeroom.oneroster.views import _without_nulls

FRAME = pl.DataFrame({
    "sourcedId": ["a", "b", "c"],
    "familyName": ["O'Brien", "Lee", None],
    "birthDate": [date(2010, 1, 2), date(2011, 5, 6), None],
    "dateLastModified": [datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 6, 1, 12, tzinfo=timezone.utc), None],
    "grades": [["09", "10"], ["10"], []],
    "roles": [[{"role": "teacher", "org": "s1"}], [{"role": "student", "org": "s2"}], []],
})
FIELDS = frozenset(FRAME.columns)


def ids(text: str) -> list[str]:
    return FRAME.filter(filter_expr(parse_filter(text), FRAME.schema, FIELDS)).get_column("sourcedId").to_list()


def test_a_doubled_quote_is_a_quote_and_clauses_join():
    assert parse_filter("familyName='O''Brien' OR sourcedId='b'") == Filter(
        (Clause("familyName", "=", "O'Brien"), Clause("sourcedId", "=", "b")), "OR")
    assert ids("familyName='O''Brien' OR sourcedId='b'") == ["a", "b"]
    assert ids("familyName~'bri' AND sourcedId!='b'") == ["a"]


def test_values_compare_as_the_field_type():
    assert ids("birthDate>='2011-01-01'") == ["b"]
    assert ids("dateLastModified>'2026-03-01T00:00:00Z'") == ["b"]
    assert ids("dateLastModified<='2026-01-01'") == ["a"]  # a date alone is its midnight UTC
    assert ids("familyName!='Lee'") == ["a", "c"], "a field without a value is not equal to anything"


def test_lists_contain_and_dotted_fields_reach_into_objects():
    assert ids("grades='10'") == ["a", "b"]
    assert ids("grades!='09'") == ["b", "c"]
    assert ids("roles.role='teacher'") == ["a"]
    assert ids("roles.org.sourcedId='s2'") == ["b"]
    with pytest.raises(InvalidFilter, match="'colour' is not a field of 'roles'"):
        ids("roles.colour='x'")


def test_wrong_values_are_refused():
    with pytest.raises(InvalidFilter, match="'soon' is not a date YYYY-MM-DD"):
        ids("birthDate>'soon'")
    with pytest.raises(InvalidFilter, match="expected <field><predicate>'<value>' at character 1 "):
        parse_filter("familyName=Lee")


def test_sort_fields_and_paging():
    assert sort_frame(FRAME, "familyName", "desc", FIELDS).get_column("sourcedId").to_list() == ["a", "b", "c"]
    assert sort_frame(FRAME, None, "desc", FIELDS).get_column("sourcedId").to_list() == ["c", "b", "a"]
    with pytest.raises(InvalidData, match="orderBy is asc or desc, not 'up'"):
        sort_frame(FRAME, None, "up", FIELDS)
    assert selected_fields("familyName, sourcedId", tuple(FRAME.columns)) == ("sourcedId", "familyName")
    with pytest.raises(InvalidSelection):
        selected_fields("nope", tuple(FRAME.columns))
    assert paging(None, None, maximum=10) == (10, 0)
    assert paging("50", "7", maximum=10) == (10, 7)
    with pytest.raises(InvalidData, match="limit is a whole number of at least 1, not '0'"):
        paging("0", None, maximum=10)


def test_fields_without_a_value_are_left_out_of_the_json():
    text = b'[{"a":null,"b":"x:null,","c":null,"d":{"e":null},"f":[{"g":1,"h":null}],"i":null,"j":"\\"a\\":null,"}]'
    assert _without_nulls(text, ["a", "c", "e", "h", "i", "b"]) == b'[{"b":"x:null,","d":{},"f":[{"g":1}],"j":"\\"a\\":null,"}]'
