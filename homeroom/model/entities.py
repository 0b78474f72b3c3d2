"""Canonical roster entities: their fields, types, keys and references.

Every input format (SDS v2.1 now; SDS v1, OneRoster later) maps its files and columns onto these
entities, so the rule engine, the lake and the APIs see one model. A field is described once here;
the Polars and Arrow schemas, the record checks and the reference checks are all derived from it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa


class Kind(enum.Enum):
    """How a field's text is checked and what type it is stored as."""

    ID = "id"  # unique id or reference, case-sensitive, stored as received
    STRING = "string"
    SECRET = "secret"  # stored, never echoed in findings or logs (passwords)
    USERNAME = "username"  # a UPN: must contain a domain
    ENUM = "enum"  # one code of a reference type, matched case-insensitively, stored canonical
    ENUM_LIST = "enumList"  # comma-separated codes
    ID_LIST = "idList"  # comma-separated ids
    EMAIL = "email"  # lower-cased, RFC 5322 addr-spec
    PHONE = "phone"  # E.164 after stripping ()-. and spaces
    DATE = "date"  # ISO 8601 YYYY-MM-DD
    BOOL = "bool"  # true / false, case-insensitive
    YEAR = "year"  # YYYY


_POLARS_TYPES = {
    Kind.ID: pl.String,
    Kind.STRING: pl.String,
    Kind.SECRET: pl.String,
    Kind.USERNAME: pl.String,
    Kind.ENUM: pl.String,
    Kind.ENUM_LIST: pl.List(pl.String),
    Kind.ID_LIST: pl.List(pl.String),
    Kind.EMAIL: pl.String,
    Kind.PHONE: pl.String,
    Kind.DATE: pl.Date,
    Kind.BOOL: pl.Boolean,
    Kind.YEAR: pl.Int16,
}


@dataclass(frozen=True)
class Field:
    """One canonical field."""

    name: str
    kind: Kind
    required: bool = False
    reference_type: str | None = None  # for ENUM / ENUM_LIST
    references: str | None = None  # for ID / ID_LIST: the entity whose sourcedId this points at

    @property
    def polars_type(self) -> pl.DataType:
        """The Polars type of the validated value."""
        return _POLARS_TYPES[self.kind]


@dataclass(frozen=True)
class Entity:
    """One canonical table."""

    name: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]  # ("sourcedId",) for entities with their own id, else the natural key
    description: str = ""
    contact_rules: bool = field(default=False)  # relationships: the contact must have names and email
    date_range: tuple[str, str] | None = None  # (start, end) fields: the end may not be before the start

    @property
    def has_sourced_id(self) -> bool:
        """Whether records carry their own ``sourcedId`` (else they are keyed by their natural key)."""
        return self.key == ("sourcedId",)

    def field(self, name: str) -> Field:
        """The field with this canonical name."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name}")

    @property
    def polars_schema(self) -> pl.Schema:
        """Column names and Polars types of the validated table."""
        return pl.Schema({f.name: f.polars_type for f in self.fields})

    @property
    def arrow_schema(self) -> pa.Schema:
        """Column names and Arrow types of the validated table."""
        return pl.DataFrame(schema=self.polars_schema).to_arrow(compat_level=pl.CompatLevel.newest()).schema


def _f(name: str, kind: Kind = Kind.STRING, required: bool = False, ref: str | None = None) -> Field:
    if kind in (Kind.ENUM, Kind.ENUM_LIST):
        return Field(name, kind, required, reference_type=ref)
    if kind in (Kind.ID, Kind.ID_LIST):
        return Field(name, kind, required, references=ref)
    return Field(name, kind, required)


ORGS = Entity(
    "orgs",
    (
        _f("sourcedId", Kind.ID, True),
        _f("name", required=True),
        _f("type", Kind.ENUM, True, "RefOrgType"),
        _f("parentSourcedId", Kind.ID, ref="orgs"),
    ),
    ("sourcedId",),
    "Organisations: the district, schools and other units.",
)
ACADEMIC_SESSIONS = Entity(
    "academicSessions",
    (
        _f("sourcedId", Kind.ID, True),
        _f("title", required=True),
        _f("type", Kind.ENUM, True, "RefSessionType"),
        _f("schoolYear", Kind.YEAR, True),
        _f("startDate", Kind.DATE, True),
        _f("endDate", Kind.DATE, True),
    ),
    ("sourcedId",),
    "School years, semesters, terms and grading periods.",
    date_range=("startDate", "endDate"),
)
COURSES = Entity(
    "courses",
    (
        _f("sourcedId", Kind.ID, True),
        _f("orgSourcedId", Kind.ID, True, "orgs"),
        _f("title", required=True),
        _f("code"),
        _f("schoolYearSourcedId", Kind.ID, ref="academicSessions"),
        _f("subjects", Kind.ENUM_LIST, ref="RefAcademicSubject"),
        _f("grades", Kind.ENUM_LIST, ref="RefGradeLevel"),
    ),
    ("sourcedId",),
    "Courses offered by an organisation.",
)
USERS = Entity(
    "users",
    (
        _f("sourcedId", Kind.ID, True),
        _f("username", Kind.USERNAME, True),
        _f("givenName"),
        _f("familyName"),
        _f("password", Kind.SECRET),
        _f("activeDirectoryMatchId"),
        _f("email", Kind.EMAIL),
        _f("phone", Kind.PHONE),
        _f("sms", Kind.PHONE),
    ),
    ("sourcedId",),
    "People: students, staff and contacts.",
)
ROLES = Entity(
    "roles",
    (
        _f("userSourcedId", Kind.ID, True, "users"),
        _f("orgSourcedId", Kind.ID, True, "orgs"),
        _f("role", Kind.ENUM, True, "RefRole"),
        _f("sessionSourcedId", Kind.ID, ref="academicSessions"),
        _f("grade", Kind.ENUM, ref="RefGradeLevel"),
        _f("isPrimary", Kind.BOOL),
        _f("roleStartDate", Kind.DATE),
        _f("roleEndDate", Kind.DATE),
    ),
    ("userSourcedId", "orgSourcedId", "role"),
    "Memberships of people in organisations, with their role.",
)
CLASSES = Entity(
    "classes",
    (
        _f("sourcedId", Kind.ID, True),
        _f("orgSourcedId", Kind.ID, True, "orgs"),
        _f("title", required=True),
        _f("sessionSourcedIds", Kind.ID_LIST, ref="academicSessions"),
        _f("courseSourcedId", Kind.ID, ref="courses"),
        _f("code"),
    ),
    ("sourcedId",),
    "Classes (sections).",
)
ENROLLMENTS = Entity(
    "enrollments",
    (
        _f("classSourcedId", Kind.ID, True, "classes"),
        _f("userSourcedId", Kind.ID, True, "users"),
        _f("role", Kind.ENUM, True, "RefSectionRole"),
    ),
    ("classSourcedId", "userSourcedId", "role"),
    "Memberships of people in classes.",
)
DEMOGRAPHICS = Entity(
    "demographics",
    (
        _f("userSourcedId", Kind.ID, True, "users"),
        _f("sex", Kind.ENUM, ref="RefSex"),
        _f("birthDate", Kind.DATE),
        _f("birthCity"),
        _f("birthState"),
        _f("birthCountry"),
        _f("ethnicityCodes", Kind.ENUM_LIST, ref="RefEthnicity"),
        _f("raceCodes", Kind.ENUM_LIST, ref="RefRace"),
    ),
    ("userSourcedId",),
    "Demographics, at most one row per person.",
)
USER_FLAGS = Entity(
    "userFlags",
    (_f("userSourcedId", Kind.ID, True, "users"), _f("flag", Kind.ENUM, True, "RefPersonFlagType")),
    ("userSourcedId", "flag"),
    "Program flags of people (IEP, 504, free lunch, ...).",
)
RELATIONSHIPS = Entity(
    "relationships",
    (
        _f("userSourcedId", Kind.ID, True, "users"),
        _f("relationshipUserSourcedId", Kind.ID, True, "users"),
        _f("relationshipRole", Kind.ENUM, True, "RefRelationshipRole"),
    ),
    ("userSourcedId", "relationshipUserSourcedId"),
    "Student to contact (guardian) relationships.",
    contact_rules=True,
)

#: All entities in dependency order: a record's references point only at entities before it.
ENTITIES: tuple[Entity, ...] = (
    ORGS,
    ACADEMIC_SESSIONS,
    COURSES,
    USERS,
    ROLES,
    CLASSES,
    ENROLLMENTS,
    DEMOGRAPHICS,
    USER_FLAGS,
    RELATIONSHIPS,
)
ENTITY_BY_NAME = {e.name: e for e in ENTITIES}
