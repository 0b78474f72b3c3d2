"""The OneRoster REST collections a pull reads, and how each page of JSON becomes the rows of a OneRoster CSV file.

A pull does not map OneRoster to the canonical model itself: each collection's records become the columns of the
matching OneRoster CSV file (``/users`` -> ``users.csv``, and in 1.2 each user's ``roles`` -> ``roles.csv``), and the
OneRoster CSV format (``homeroom.inbound.formats.oneroster``) turns those into canonical source rows, exactly as it
does for a CSV package. The JSON binding differs from the CSV one only in shape:

- a reference (``{"sourcedId": "org-1", "type": "org", "href": ...}``) is its ``sourcedId``; a list of references
  (``orgs``, ``agents``, ``terms``) is the comma-separated ``sourcedId`` list the CSV column holds;
- a list of text (``grades``, ``subjects``) is comma-separated; ``userIds`` are ``{type:identifier}`` items;
- booleans (``enabledUser``, ``primary``, the race flags) arrive as JSON booleans or as ``"true"``/``"false"``:
  both are read as text, which the format checks as it checks the CSV column;
- 1.2 names three user columns differently in JSON (``preferredFirstName`` -> ``preferredGivenName``,
  ``preferredLastName`` -> ``preferredFamilyName``, ``primaryOrg`` -> ``primaryOrgSourcedId``).

Pages are parsed by Polars against a declared schema (unknown keys are ignored, as OneRoster asks of clients);
a page that does not fit it (a reference sent as a bare string, say) is parsed again record by record, leniently.
Nothing loops over records on the fast path. Source: ``oneroster-api-and-targets.md`` §A.2, §A.5.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

import orjson
import polars as pl

from homeroom.inbound.formats.oneroster.files import RACE_COLUMNS

TEXT = pl.String
REF = pl.Struct({"sourcedId": TEXT})
REFS = pl.List(REF)
TEXTS = pl.List(TEXT)
USER_IDS = pl.List(pl.Struct({"type": TEXT, "identifier": TEXT}))
BASE = {"sourcedId": TEXT, "status": TEXT, "dateLastModified": TEXT}
#: The columns every CSV row of a pull carries besides the file's own: the status and dateLastModified as sent.
STATUS, MODIFIED = "status", "dateLastModified"


def _text(name: str) -> pl.Expr:
    return pl.col(name).cast(TEXT)


def _ref(name: str) -> pl.Expr:
    return pl.col(name).struct.field("sourcedId")


def _refs(name: str) -> pl.Expr:
    return pl.col(name).list.eval(pl.element().struct.field("sourcedId")).list.join(",")


def _texts(name: str) -> pl.Expr:
    return pl.col(name).list.join(",")


def _user_ids(name: str) -> pl.Expr:
    item = pl.concat_str(pl.lit("{"), pl.element().struct.field("type"), pl.lit(":"),
                         pl.element().struct.field("identifier").fill_null(""), pl.lit("}"))
    return pl.col(name).list.eval(item).list.join(",")


@dataclass(frozen=True)
class Collection:
    """One OneRoster collection: its path and JSON key, the CSV file it fills, its JSON schema and CSV columns."""

    path: str  # relative to the API root: ``users``
    key: str  # the JSON key of the list: ``users``
    file: str  # the OneRoster CSV file it stands for: ``users.csv``
    schema: dict[str, pl.DataType]  # the JSON fields read (others are ignored)
    columns: tuple[tuple[str, Callable[[], pl.Expr]], ...]  # (CSV header, expression over the JSON frame)

    def struct(self) -> pl.DataType:
        return pl.Struct(self.schema)


def _collection(path: str, file: str, fields: dict[str, pl.DataType], columns: list[tuple[str, Callable[[], pl.Expr]]]) -> Collection:
    head = [("sourcedId", lambda: _text("sourcedId")), (STATUS, lambda: _text(STATUS)), (MODIFIED, lambda: _text(MODIFIED))]
    return Collection(path, path, file, {**BASE, **fields}, tuple(head + columns))


def _same(*names: str) -> list[tuple[str, Callable[[], pl.Expr]]]:
    return [(n, (lambda n=n: _text(n))) for n in names]


ORGS = _collection("orgs", "orgs.csv", {"name": TEXT, "type": TEXT, "identifier": TEXT, "parent": REF},
                   [*_same("name", "type", "identifier"), ("parentSourcedId", lambda: _ref("parent"))])
ACADEMIC_SESSIONS = _collection(
    "academicSessions", "academicSessions.csv",
    {"title": TEXT, "type": TEXT, "startDate": TEXT, "endDate": TEXT, "parent": REF, "schoolYear": TEXT},
    [*_same("title", "type", "startDate", "endDate"), ("parentSourcedId", lambda: _ref("parent")), *_same("schoolYear")],
)
COURSES = _collection(
    "courses", "courses.csv",
    {"schoolYear": REF, "title": TEXT, "courseCode": TEXT, "grades": TEXTS, "org": REF, "subjects": TEXTS, "subjectCodes": TEXTS},
    [("schoolYearSourcedId", lambda: _ref("schoolYear")), *_same("title", "courseCode"), ("grades", lambda: _texts("grades")),
     ("orgSourcedId", lambda: _ref("org")), ("subjects", lambda: _texts("subjects")), ("subjectCodes", lambda: _texts("subjectCodes"))],
)
CLASSES = _collection(
    "classes", "classes.csv",
    {"title": TEXT, "grades": TEXTS, "course": REF, "classCode": TEXT, "classType": TEXT, "location": TEXT, "school": REF,
     "terms": REFS, "subjects": TEXTS, "subjectCodes": TEXTS, "periods": TEXTS},
    [*_same("title"), ("grades", lambda: _texts("grades")), ("courseSourcedId", lambda: _ref("course")),
     *_same("classCode", "classType", "location"), ("schoolSourcedId", lambda: _ref("school")),
     ("termSourcedIds", lambda: _refs("terms")), ("subjects", lambda: _texts("subjects")),
     ("subjectCodes", lambda: _texts("subjectCodes")), ("periods", lambda: _texts("periods"))],
)
_USER_FIELDS = {
    "enabledUser": TEXT, "username": TEXT, "userIds": USER_IDS, "givenName": TEXT, "familyName": TEXT, "middleName": TEXT,
    "identifier": TEXT, "email": TEXT, "sms": TEXT, "phone": TEXT, "agents": REFS, "grades": TEXTS, "password": TEXT,
}
_USER_NAMES = [("username", lambda: _text("username")), ("userIds", lambda: _user_ids("userIds")),
               *_same("givenName", "familyName", "middleName", "identifier", "email", "sms", "phone")]
USERS_V11 = _collection(
    "users", "users.csv", {**_USER_FIELDS, "orgs": REFS, "role": TEXT},
    [("enabledUser", lambda: _text("enabledUser")), ("orgSourcedIds", lambda: _refs("orgs")), *_same("role"), *_USER_NAMES,
     ("agentSourcedIds", lambda: _refs("agents")), ("grades", lambda: _texts("grades")), *_same("password")],
)
#: A 1.2 user's roles: each becomes a roles.csv row (``roles_v12``).
ROLE = pl.Struct({"roleType": TEXT, "role": TEXT, "org": REF, "userProfile": TEXT, "beginDate": TEXT, "endDate": TEXT})
USERS_V12 = _collection(
    "users", "users.csv",
    {**_USER_FIELDS, "userMasterIdentifier": TEXT, "preferredFirstName": TEXT, "preferredMiddleName": TEXT,
     "preferredLastName": TEXT, "primaryOrg": REF, "pronouns": TEXT, "roles": pl.List(ROLE)},
    [("enabledUser", lambda: _text("enabledUser")), *_USER_NAMES, ("agentSourcedIds", lambda: _refs("agents")),
     ("grades", lambda: _texts("grades")), *_same("password", "userMasterIdentifier"),
     ("preferredGivenName", lambda: _text("preferredFirstName")), ("preferredMiddleName", lambda: _text("preferredMiddleName")),
     ("preferredFamilyName", lambda: _text("preferredLastName")), ("primaryOrgSourcedId", lambda: _ref("primaryOrg")),
     ("pronouns", lambda: _text("pronouns"))],
)
ENROLLMENTS = _collection(
    "enrollments", "enrollments.csv",
    {"class": REF, "school": REF, "user": REF, "role": TEXT, "primary": TEXT, "beginDate": TEXT, "endDate": TEXT},
    [("classSourcedId", lambda: _ref("class")), ("schoolSourcedId", lambda: _ref("school")), ("userSourcedId", lambda: _ref("user")),
     *_same("role", "primary", "beginDate", "endDate")],
)
_DEMOGRAPHIC_TEXT = ("birthDate", "sex", *RACE_COLUMNS, "hispanicOrLatinoEthnicity", "countryOfBirthCode",
                     "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus")
DEMOGRAPHICS = _collection("demographics", "demographics.csv", {n: TEXT for n in _DEMOGRAPHIC_TEXT}, _same(*_DEMOGRAPHIC_TEXT))

#: The collections of each version, in the order a pull reads them (SDS's: orgs, sessions, users, classes,
#: enrollments; courses because classes refer to them; demographics when enabled).
COLLECTIONS = {
    "1.1": (ORGS, ACADEMIC_SESSIONS, COURSES, USERS_V11, CLASSES, ENROLLMENTS, DEMOGRAPHICS),
    "1.2": (ORGS, ACADEMIC_SESSIONS, COURSES, USERS_V12, CLASSES, ENROLLMENTS, DEMOGRAPHICS),
}
ROLES_HEADER = ("sourcedId", STATUS, MODIFIED, "userSourcedId", "roleType", "role", "beginDate", "endDate", "orgSourcedId",
                "userProfileSourcedId")


class PageNotUnderstood(ValueError):
    """A page that is not a OneRoster collection answer (not JSON, no list under the collection's key)."""


def parse_page(collection: Collection, content: bytes) -> pl.DataFrame:
    """The records of one page as a frame of the collection's schema (one row per record, in the page's order)."""
    schema = {collection.key: pl.List(collection.struct())}
    try:
        page = pl.read_json(io.BytesIO(content), schema=schema)
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError, pl.exceptions.InvalidOperationError, ValueError):
        return _parse_leniently(collection, content)
    if page.height != 1 or page.get_column(collection.key)[0] is None:
        return _parse_leniently(collection, content)  # says why: no such key, or not an object
    if page.get_column(collection.key).list.len()[0] == 0:  # exploding an empty list would give one null row
        return pl.DataFrame(schema=collection.schema)
    return page.select(pl.col(collection.key).explode()).unnest(collection.key)


def _parse_leniently(collection: Collection, content: bytes) -> pl.DataFrame:
    """The slow path: decode with orjson and bend each record to the schema (bare strings for references, scalars
    for lists); raises ``PageNotUnderstood`` for what is not a collection answer at all."""
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise PageNotUnderstood(f"the answer is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise PageNotUnderstood(f"the answer is a JSON {type(body).__name__}, not an object with a {collection.key!r} list")
    records = body.get(collection.key)
    if not isinstance(records, list):
        keys = ", ".join(sorted(map(str, body))[:5]) or "none"
        raise PageNotUnderstood(f"the answer has no {collection.key!r} list (its keys: {keys})")
    rows = [_bend(record, collection.schema) for record in records if isinstance(record, dict)]
    if len(rows) != len(records):
        raise PageNotUnderstood(f"{len(records) - len(rows)} of the {len(records)} items under {collection.key!r} are not objects")
    return pl.DataFrame(rows, schema=collection.schema, orient="row") if rows else pl.DataFrame(schema=collection.schema)


def _bend(value: object, dtype: pl.DataType) -> object:
    """A JSON value as ``dtype`` wants it (text for scalars, a struct for a bare reference, a list for a scalar)."""
    if value is None:
        return None
    if isinstance(dtype, pl.Struct):
        if not isinstance(value, dict):
            value = {"sourcedId": value} if "sourcedId" in {f.name for f in dtype.fields} else {}
        return {f.name: _bend(value.get(f.name), f.dtype) for f in dtype.fields}
    if isinstance(dtype, pl.List):
        items = value if isinstance(value, list) else [value]
        return [_bend(item, dtype.inner) for item in items]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return str(value)


def to_csv_frame(collection: Collection, records: pl.DataFrame) -> pl.DataFrame:
    """The records as the rows of the collection's CSV file: one text column per header, blank as null."""
    frame = records.select(expr().alias(header) for header, expr in collection.columns)
    return frame.with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in frame.columns)


def roles_v12(users: pl.DataFrame) -> pl.DataFrame:
    """The roles.csv rows of 1.2 users (one per entry of each user's ``roles``), with ``__position``, the user's."""
    roles = (
        users.select(pl.col("sourcedId").alias("userSourcedId"), STATUS, MODIFIED, "roles", "__position")
        .explode("roles").drop_nulls("roles").unnest("roles")
    )
    frame = roles.select(
        pl.lit(None, TEXT).alias("sourcedId"), STATUS, MODIFIED, "userSourcedId", "roleType", "role", "beginDate", "endDate",
        _ref("org").alias("orgSourcedId"), pl.col("userProfile").alias("userProfileSourcedId"), "__position",
    )
    return frame.with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in ROLES_HEADER)
