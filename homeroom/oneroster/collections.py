"""What the OneRoster rostering service serves: its collections, its nested endpoints, the scope each accepts, and
how a request's rows are selected from the views (``select_page``). The same set in 1.1 and 1.2.

Scopes (the official 1.2 OpenAPI; 1.1 likewise under its own prefix): the top-level collections and their
``{id}`` reads accept ``roster-core.readonly`` or ``roster.readonly``; nested endpoints only ``roster.readonly``;
demographics only ``roster-demographics.readonly``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import polars as pl

from homeroom.auth.permissions import ONEROSTER_SCOPE_PREFIXES
from homeroom.oneroster.errors import UnknownObject
from homeroom.oneroster.lake_views import TenantViews
from homeroom.oneroster.query import Filter, filter_expr, paging, parse_filter, selected_fields, sort_frame
from homeroom.oneroster.views import View

CORE, ROSTER, DEMOGRAPHICS = "roster-core.readonly", "roster.readonly", "roster-demographics.readonly"


@dataclass(frozen=True)
class Collection:
    """A top-level collection: its path, the view it reads, its wrapper keys and which of the view's rows it holds."""

    path: str
    view: str
    plural: str
    singular: str
    subset: pl.Expr | None = None
    scopes: tuple[str, ...] = (CORE, ROSTER)


def _role(role: str) -> pl.Expr:
    return pl.col("__roleNames").list.contains(role)


COLLECTIONS: dict[str, Collection] = {c.path: c for c in (
    Collection("academicSessions", "academicSessions", "academicSessions", "academicSession"),
    # A term is a session in which classes are taught ("other words for term could be ... Semester", 1.2 §4.2):
    # every session that is neither a school year nor a grading period.
    Collection("terms", "academicSessions", "academicSessions", "academicSession", ~pl.col("type").is_in(["schoolYear", "gradingPeriod"])),
    Collection("gradingPeriods", "academicSessions", "academicSessions", "academicSession", pl.col("type") == "gradingPeriod"),
    Collection("orgs", "orgs", "orgs", "org"),
    Collection("schools", "orgs", "orgs", "org", pl.col("type") == "school"),
    Collection("courses", "courses", "courses", "course"),
    Collection("classes", "classes", "classes", "class"),
    Collection("enrollments", "enrollments", "enrollments", "enrollment"),
    Collection("users", "users", "users", "user"),
    Collection("students", "users", "users", "user", _role("student")),
    Collection("teachers", "users", "users", "user", _role("teacher")),
    # The single object keeps the plural key (the 1.2 OpenAPI's SingleDemographicsDType).
    Collection("demographics", "demographics", "demographics", "demographics", scopes=(DEMOGRAPHICS,)),
)}

Views = Mapping[str, View]


def _ids(views: Views, view: str, where: pl.Expr, column: str) -> pl.Series:
    frame = views[view].frame
    values = frame.filter(where).get_column(column)
    return values.explode() if isinstance(values.dtype, pl.List) else values


def _members(role: str) -> Callable[[Views, tuple[str, ...]], pl.Expr]:
    """Users holding an active enrollment with this role in the class (the last id)."""
    def select(views: Views, ids: tuple[str, ...]) -> pl.Expr:
        enrolled = _ids(views, "enrollments", (pl.col("class") == ids[-1]) & (pl.col("role") == role)
                        & (pl.col("status") == "active"), "user")
        return pl.col("sourcedId").is_in(enrolled.implode())
    return select


def _classes_of_user(views: Views, ids: tuple[str, ...]) -> pl.Expr:
    enrolled = _ids(views, "enrollments", (pl.col("user") == ids[-1]) & (pl.col("status") == "active"), "class")
    return pl.col("sourcedId").is_in(enrolled.implode())


def _terms_of_school(views: Views, ids: tuple[str, ...]) -> pl.Expr:
    return pl.col("sourcedId").is_in(_ids(views, "classes", pl.col("school") == ids[0], "terms").implode())


@dataclass(frozen=True)
class Nested:
    """A nested endpoint: the collections its ids name (each must hold its id), the collection it answers with,
    and the rows of that collection it selects."""

    path: str
    parents: tuple[str, ...]
    target: str
    select: Callable[[Views, tuple[str, ...]], pl.Expr]


_SCHOOL_CLASS = ("schools", "classes")
NESTED: tuple[Nested, ...] = (
    Nested("schools/{schoolSourcedId}/classes", ("schools",), "classes", lambda v, i: pl.col("school") == i[0]),
    Nested("schools/{schoolSourcedId}/courses", ("schools",), "courses", lambda v, i: pl.col("org") == i[0]),
    Nested("schools/{schoolSourcedId}/terms", ("schools",), "terms", _terms_of_school),
    Nested("schools/{schoolSourcedId}/enrollments", ("schools",), "enrollments", lambda v, i: pl.col("school") == i[0]),
    Nested("schools/{schoolSourcedId}/students", ("schools",), "students", lambda v, i: pl.col("__orgs").list.contains(i[0])),
    Nested("schools/{schoolSourcedId}/teachers", ("schools",), "teachers", lambda v, i: pl.col("__orgs").list.contains(i[0])),
    Nested("schools/{schoolSourcedId}/classes/{classSourcedId}/enrollments", _SCHOOL_CLASS, "enrollments",
           lambda v, i: pl.col("class") == i[1]),
    Nested("schools/{schoolSourcedId}/classes/{classSourcedId}/students", _SCHOOL_CLASS, "students", _members("student")),
    Nested("schools/{schoolSourcedId}/classes/{classSourcedId}/teachers", _SCHOOL_CLASS, "teachers", _members("teacher")),
    Nested("classes/{classSourcedId}/students", ("classes",), "students", _members("student")),
    Nested("classes/{classSourcedId}/teachers", ("classes",), "teachers", _members("teacher")),
    Nested("courses/{courseSourcedId}/classes", ("courses",), "classes", lambda v, i: pl.col("course") == i[0]),
    Nested("students/{studentSourcedId}/classes", ("students",), "classes", _classes_of_user),
    Nested("teachers/{teacherSourcedId}/classes", ("teachers",), "classes", _classes_of_user),
    Nested("users/{userSourcedId}/classes", ("users",), "classes", _classes_of_user),
    Nested("terms/{termSourcedId}/classes", ("terms",), "classes", lambda v, i: pl.col("terms").list.contains(i[0])),
    Nested("terms/{termSourcedId}/gradingPeriods", ("terms",), "gradingPeriods", lambda v, i: pl.col("parent") == i[0]),
)


def scope_urls(version: str, scopes: tuple[str, ...]) -> tuple[str, ...]:
    """The full scope URLs of a version (``https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly``)."""
    return tuple(ONEROSTER_SCOPE_PREFIXES[version] + s for s in scopes)


def _rows(views: Views, collection: Collection) -> pl.DataFrame:
    frame = views[collection.view].frame
    return frame if collection.subset is None else frame.filter(collection.subset)


def find(views: Views, collection: Collection, sourced_id: str) -> pl.DataFrame:
    """The one row of ``collection`` with this sourcedId, or ``UnknownObject``."""
    frame = views[collection.view].frame
    # Frames are in sourcedId order: a binary search, not a scan of the collection.
    at = frame.get_column("sourcedId").search_sorted(sourced_id)
    row = frame.slice(at, 1)
    if row.height == 0 or row.item(0, "sourcedId") != sourced_id or (
            collection.subset is not None and not row.select(collection.subset).item()):
        raise UnknownObject(f"There is no {collection.singular} with sourcedId {sourced_id!r} in /{collection.path}.")
    return row


@dataclass(frozen=True)
class Page:
    """The rows of one page, with the total the query matched and the page it is."""

    view: View
    rows: pl.DataFrame
    fields: tuple[str, ...]
    total: int
    limit: int
    offset: int


def select_page(tenant: TenantViews, version: str, collection: Collection, params: Mapping[str, str], *,
                max_limit: int, nested: Nested | None = None, ids: tuple[str, ...] = ()) -> Page:
    """The page a collection request asks for: query parameters checked first, parents looked up (404), then the
    selected, filtered and sorted rows (kept for the next page) sliced at ``offset``/``limit``."""
    views = tenant.views(version)
    view = views[collection.view]
    limit, offset = paging(params.get("limit"), params.get("offset"), maximum=max_limit)
    fields = selected_fields(params.get("fields"), view.fields)
    text = params.get("filter")
    parsed: Filter | None = parse_filter(text) if text else None
    where = filter_expr(parsed, view.frame.schema, view.filterable) if parsed else None
    sort_frame(view.frame.head(0), params.get("sort"), params.get("orderBy"), view.sortable)  # refuse bad ones now
    if nested is not None:
        for path, sourced_id in zip(nested.parents, ids):
            find(views, COLLECTIONS[path], sourced_id)
        if nested.parents == _SCHOOL_CLASS and find(views, COLLECTIONS["classes"], ids[1]).item(0, "school") != ids[0]:
            raise UnknownObject(f"Class {ids[1]!r} is not a class of school {ids[0]!r}.")

    def select() -> pl.DataFrame:
        frame = _rows(views, collection)
        if nested is not None:
            frame = frame.filter(nested.select(views, ids))
        if where is not None:
            frame = frame.filter(where)
        return sort_frame(frame, params.get("sort"), params.get("orderBy"), view.sortable)

    key = (version, collection.path, nested.path if nested else None, ids, text, params.get("sort"), params.get("orderBy"))
    plain = nested is None and where is None and collection.subset is None and not params.get("sort") and params.get("orderBy") != "desc"
    frame = view.frame if plain else tenant.selected(key, select)
    return Page(view, frame.slice(offset, limit), fields, frame.height, limit, offset)
