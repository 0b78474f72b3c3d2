"""OneRoster's query parameters over a collection's frame: ``filter``, ``sort``/``orderBy``, ``fields``, paging.

The filter grammar (OneRoster 1.1 §3.4.2, 1.2 §3.4.2): ``<field><predicate>'<value>'``, the predicate one of
``=  !=  >  >=  <  <=  ~`` (``~``: contains, case-insensitive), at most two such clauses joined by `` AND `` or
`` OR ``. Values are always quoted (a quote inside a value is doubled: ``'O''Brien'``). A field is one of the
collection's fields; a dotted field reaches into a reference (``school.sourcedId``) or into the objects of a list
(``roles.role``, ``roles.org.sourcedId``: true when any element matches). A value is compared as the field's type:
dates (``YYYY-MM-DD``), date-times (ISO 8601, ``Z`` or an offset; a date alone is its midnight UTC), booleans
(``true``/``false``), lists (``=``: contains the value). Each refusal says what is wrong and where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone

import polars as pl

from homeroom.oneroster.errors import InvalidData, InvalidFilter, InvalidSelection

PREDICATES = ("!=", ">=", "<=", "=", ">", "<", "~")
_CLAUSE = re.compile(r"\s*(?P<field>[A-Za-z_][\w.]*)\s*(?P<op>!=|>=|<=|=|>|<|~)\s*'(?P<value>(?:[^']|'')*)'\s*")
_JOIN = re.compile(r"(?P<join>AND|OR)(?=\s|$)")
#: The most clauses one filter may join.
MAX_CLAUSES = 2


@dataclass(frozen=True)
class Clause:
    """One ``field predicate 'value'``."""

    field: str
    op: str
    value: str


@dataclass(frozen=True)
class Filter:
    """A parsed ``filter``: one or two clauses and how they join (``AND``/``OR``; None for one clause)."""

    clauses: tuple[Clause, ...]
    join: str | None = None


def parse_filter(text: str) -> Filter:
    """Parse a ``filter`` value, or raise ``InvalidFilter`` saying what was expected where."""
    clauses: list[Clause] = []
    join: str | None = None
    at = 0
    while True:
        m = _CLAUSE.match(text, at)
        if m is None:
            raise InvalidFilter(f"filter {text!r}: expected <field><predicate>'<value>' at character {at + 1} "
                                f"(predicates: {' '.join(PREDICATES)}; values in single quotes).")
        clauses.append(Clause(m.group("field"), m.group("op"), m.group("value").replace("''", "'")))
        at = m.end()
        if at == len(text):
            return Filter(tuple(clauses), join)
        j = _JOIN.match(text, at)
        if j is None:
            raise InvalidFilter(f"filter {text!r}: expected AND or OR (upper case) at character {at + 1}.")
        if len(clauses) == MAX_CLAUSES:
            raise InvalidFilter(f"filter {text!r}: at most {MAX_CLAUSES} clauses can be joined.")
        join = j.group("join")
        at = j.end()


def _field(schema: pl.Schema, name: str, filterable: frozenset[str]) -> tuple[pl.Expr, pl.DataType, list[str]]:
    """The column a (dotted) field name reaches, its type and the path left inside list elements."""
    head, *rest = name.split(".")
    if head not in filterable or head not in schema:
        raise InvalidFilter(f"filter field {name!r} is not a field of this collection; fields: {', '.join(sorted(filterable))}.")
    return pl.col(head), schema[head], rest


def _inner(dtype: pl.DataType, path: list[str], name: str) -> tuple[list[str], pl.DataType]:
    """The struct fields a path walks inside one element and the type it ends at."""
    walked: list[str] = []
    for part in path:
        if isinstance(dtype, pl.Struct) and part in {f.name for f in dtype.fields}:
            dtype = next(f.dtype for f in dtype.fields if f.name == part)
            walked.append(part)
        elif part == "sourcedId" and dtype == pl.String:  # a reference kept as its sourcedId
            continue
        else:
            raise InvalidFilter(f"filter field {name!r}: {part!r} is not a field of {name.split('.')[0]!r}.")
    return walked, dtype


def _value(dtype: pl.DataType, clause: Clause):
    """The filter value as the field's type."""
    text = clause.value
    try:
        if dtype == pl.Date:
            return date.fromisoformat(text[:10])
        if isinstance(dtype, pl.Datetime):
            if len(text) == 10:
                return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        if dtype == pl.Boolean:
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if dtype.is_numeric():
            return float(text)
    except ValueError:
        kind = {pl.Date: "a date YYYY-MM-DD", pl.Boolean: "true or false"}.get(dtype, "an ISO 8601 date-time" if isinstance(
            dtype, pl.Datetime) else "a number")
        raise InvalidFilter(f"filter field {clause.field!r}: {text!r} is not {kind}.") from None
    return text


def _compare(expr: pl.Expr, dtype: pl.DataType, clause: Clause) -> pl.Expr:
    """``expr`` (a scalar) compared with the clause's value; a null field matches only ``!=``."""
    value = _value(dtype, clause)
    op = clause.op
    if op == "~":
        return expr.cast(pl.String).str.to_lowercase().str.contains(clause.value.lower(), literal=True).fill_null(False)
    if dtype == pl.Boolean and op not in ("=", "!="):
        raise InvalidFilter(f"filter field {clause.field!r} is true or false: only = and != apply.")
    lit = pl.lit(value, dtype=dtype) if not dtype.is_numeric() else pl.lit(value)
    result = {"=": expr == lit, "!=": expr != lit, ">": expr > lit, ">=": expr >= lit, "<": expr < lit, "<=": expr <= lit}[op]
    return (result | expr.is_null()) if op == "!=" else result.fill_null(False)


def _clause_expr(schema: pl.Schema, clause: Clause, filterable: frozenset[str]) -> pl.Expr:
    column, dtype, path = _field(schema, clause.field, filterable)
    if isinstance(dtype, pl.List):
        walked, inner = _inner(dtype.inner, path, clause.field)
        element = pl.element()
        for part in walked:
            element = element.struct.field(part)
        if clause.op == "!=":  # no element equals the value
            positive = _compare(element, inner, Clause(clause.field, "=", clause.value))
            return ~column.list.eval(positive).list.any().fill_null(False)
        return column.list.eval(_compare(element, inner, clause)).list.any().fill_null(False)
    walked, inner = _inner(dtype, path, clause.field)
    for part in walked:
        column = column.struct.field(part)
    return _compare(column, inner, clause)


def filter_expr(parsed: Filter, schema: pl.Schema, filterable: frozenset[str]) -> pl.Expr:
    """The Polars predicate of a parsed filter over a frame of this schema."""
    exprs = [_clause_expr(schema, c, filterable) for c in parsed.clauses]
    combined = exprs[0]
    for e in exprs[1:]:
        combined = (combined & e) if parsed.join == "AND" else (combined | e)
    return combined


def sort_frame(frame: pl.DataFrame, sort: str | None, order_by: str | None, sortable: frozenset[str]) -> pl.DataFrame:
    """The frame sorted by ``sort`` (comma-separated fields) and ``orderBy``, ties by sourcedId (frames are kept in
    sourcedId order, so no sort at all keeps that order)."""
    if order_by is not None and order_by not in ("asc", "desc"):
        raise InvalidData(f"orderBy is asc or desc, not {order_by!r}.")
    if not sort:
        return frame.reverse() if order_by == "desc" else frame
    names = [n.strip() for n in sort.split(",") if n.strip()]
    unknown = [n for n in names if n not in sortable or n not in frame.columns]
    if unknown:
        raise InvalidSelection(f"sort field {unknown[0]!r} is not a field of this collection that can be sorted; "
                               f"sortable: {', '.join(sorted(sortable & set(frame.columns)))}.")
    return frame.sort(names, descending=order_by == "desc", nulls_last=True, maintain_order=True)


def selected_fields(fields: str | None, known: tuple[str, ...]) -> tuple[str, ...]:
    """The fields a ``fields`` parameter keeps, in the collection's order (all when absent)."""
    if not fields:
        return known
    names = [n.strip() for n in fields.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InvalidSelection(f"fields: {unknown[0]!r} is not a field of this collection; fields: {', '.join(known)}.")
    return tuple(n for n in known if n in names)


def paging(limit: str | None, offset: str | None, *, maximum: int, default: int = 100) -> tuple[int, int]:
    """``limit`` (1 or more, at most ``maximum``: a larger one is cut to it) and ``offset`` (0 or more)."""
    def number(name: str, text: str | None, fallback: int, least: int) -> int:
        if text is None or text == "":
            return fallback
        if not text.isdigit() or int(text) < least:
            raise InvalidData(f"{name} is a whole number of at least {least}, not {text!r}.")
        return int(text)

    return min(number("limit", limit, default, 1), maximum), number("offset", offset, 0, 0)
