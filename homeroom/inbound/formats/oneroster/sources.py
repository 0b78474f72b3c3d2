"""Turn the parsed files of a OneRoster package into canonical source rows (``CsvFormat.to_sources``).

Each data file fills its entity by the column tables of ``files.py``; on top of the renames:

- ``status`` and ``dateLastModified``: blank in a bulk file (``StatusInBulkFile`` otherwise),
  required in a delta file (``RequiredValueMissing``, the record is dropped); ``inactive`` is read
  as ``tobedeleted`` (``InactiveStatus``). They are kept as ``status`` (text) and
  ``dateLastModified`` (UTC timestamp). A delta row without a valid status is dropped here
  (``DROPPED``: references to it are ``ReferenceDropped``). Rows of a delta file may refer to
  records sent earlier, so their references to records outside the package are not checked
  (``OPEN_REFERENCES``).
- ``metadata.*`` extension columns are kept as one JSON object text, ``metadata``.
- multi-valued cells are split on commas and trimmed; kept ones become lists of text.
- users (1.1): ``role`` and each of ``orgSourcedIds`` make a roles row (contacts, whose role is
  ``parent``, ``guardian`` or ``relative``, have none); 1.2 reads ``roles.csv`` instead, with its
  roles mapped onto ``RefRole``. ``agentSourcedIds`` make relationships (student -> contact).
- demographics: the race booleans become ``raceCodes``, ``hispanicOrLatinoEthnicity`` becomes
  ``ethnicityCodes`` (Microsoft's mapping, ``roster-csv-formats.md`` §6).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import polars as pl

from homeroom.findings import Findings
from homeroom.inbound.csv_reader import RawTable
from homeroom.inbound.batch import DROPPED, KEEP_PREFIX, OPEN_REFERENCES, SourceRows
from homeroom.inbound.formats.base import FileSpec, text_frame
from homeroom.inbound.formats.oneroster import values as V
from homeroom.inbound.formats.oneroster.checks import EXTENSION_PREFIX, file_modes
from homeroom.inbound.formats.oneroster.files import RACE_COLUMNS
from homeroom.model import entities as E

if TYPE_CHECKING:
    from homeroom.inbound.formats.base import CsvFormat

K = KEEP_PREFIX
#: OneRoster roles of people who are contacts (guardians) rather than members of an org.
CONTACT_ROLES = ("parent", "guardian", "relative")
#: Contact roles that are relationship roles as they are; any other becomes ``other`` (§6).
RELATIONSHIP_ROLES = ("parent", "guardian", "relative", "aide")
#: The prefix of a value OneRoster 1.2 allows outside its extensible vocabularies (``ext:officeStaff``).
EXTENSION = "ext:"
#: OneRoster 1.2 roles (lower-cased) -> ``RefRole`` codes; others are checked as they are (without ``ext:``).
ROLE_CODES = {
    "counselor": "advisor",
    "districtadministrator": "administrator",
    "siteadministrator": "administrator",
    "systemadministrator": "itAdmin",
}
#: OneRoster sex values -> ``RefSex`` codes; others are checked as they are.
SEX_CODES = {"unspecified": "notSelected"}


def _record_id(entity: E.Entity) -> pl.Expr:
    if entity.has_sourced_id:
        return pl.col("sourcedId")
    return pl.concat_str([pl.col(k).fill_null("") for k in entity.key], separator="/")


class _Package:
    """The files of one package as they are read: findings go to ``findings``."""

    def __init__(self, fmt: "CsvFormat", raws: dict[str, RawTable], findings: Findings):
        self.fmt = fmt
        self.raws = raws
        self.findings = findings
        self.modes = file_modes(fmt, raws)

    def report(self, code: str, level: str, file: str, field: str, rows: pl.DataFrame, entity: E.Entity,
               value: pl.Expr, **static: object) -> None:
        """One finding per row of ``rows`` (a frame of canonical columns and ``__line``)."""
        if rows.height:
            frame = rows.select("__line", _record_id(entity).alias("__id"), value.cast(pl.String).alias("__value"))
            self.findings.add_rows(code, level, file, field, frame, **static)

    def read(self, spec: FileSpec, temporary: Mapping[str, str] | None = None) -> tuple[pl.DataFrame, dict[str, str]] | None:
        """A file's rows with canonical and kept columns, status checked; ``temporary`` maps more headers.

        Returns the frame and the header of each canonical field, or ``None`` when the file is absent.
        """
        raw = self.raws.get(spec.name)
        if raw is None:
            return None
        entity = spec.entity
        assert entity is not None
        temporary = temporary or {}
        mapping: dict[str, str] = {}
        headers: dict[str, str] = {}
        for header, target in spec.columns:
            if target is None or "." in target or header in temporary:
                continue
            mapping.setdefault(header, target)
            if not target.startswith(K):
                headers.setdefault(target, header)
        mapping.update(temporary)
        extensions = {h: f"__ext_{i}" for i, h in enumerate(raw.header) if h.startswith(EXTENSION_PREFIX)}
        mapping.update(extensions)
        frame = text_frame(raw, mapping, entity)
        for h, _ in spec.columns:  # a column the file lacks is blank (ColumnNotPresent said so)
            target = mapping.get(h)
            if target is not None and target not in frame.columns:
                frame = frame.with_columns(pl.lit(None, pl.String).alias(target))
        keys = {column: header.removeprefix(EXTENSION_PREFIX) for header, column in extensions.items()}
        frame = frame.with_columns(V.extensions_json(keys).alias(K + "metadata")).drop(list(keys))
        frame = self._status(spec, frame)
        return frame.with_columns(pl.lit(self.modes[spec.name] == "delta").alias(OPEN_REFERENCES)), headers

    def _status(self, spec: FileSpec, frame: pl.DataFrame) -> pl.DataFrame:
        entity, file, delta = spec.entity, spec.name, self.modes[spec.name] == "delta"
        assert entity is not None
        status, modified = pl.col(K + "status"), pl.col(K + "dateLastModified")
        lower = status.str.to_lowercase()
        parsed = V.date_time(modified)
        level = "error" if delta else "warning"
        if delta:
            self.report("RequiredValueMissing", "error", file, "status", frame.filter(status.is_null()), entity, status)
            self.report("RequiredValueMissing", "error", file, "dateLastModified", frame.filter(modified.is_null()), entity, modified)
        else:
            self.report("StatusInBulkFile", "warning", file, "status", frame.filter(status.is_not_null()), entity, status)
            self.report("StatusInBulkFile", "warning", file, "dateLastModified", frame.filter(modified.is_not_null()), entity, modified)
        self.report("InactiveStatus", "warning", file, "status", frame.filter(lower == "inactive"), entity, status)
        invalid_status = status.is_not_null() & ~lower.is_in(["active", "tobedeleted", "inactive"])
        invalid_time = modified.is_not_null() & parsed.is_null()
        self.report("InvalidStatus", level, file, "status", frame.filter(invalid_status), entity, status)
        self.report("InvalidDateTime", level, file, "dateLastModified", frame.filter(invalid_time), entity, modified)
        dropped = (status.is_null() | modified.is_null() | invalid_status | invalid_time) if delta else pl.lit(False)
        return frame.with_columns(
            dropped.alias(DROPPED),
            pl.when(lower.is_in(["active", "tobedeleted"])).then(lower)
            .when(lower == "inactive").then(pl.lit("tobedeleted")).alias(K + "status"),
            parsed.alias(K + "dateLastModified"),
        )

    def checked(self, spec: FileSpec, frame: pl.DataFrame, column: str, header: str, kind: str) -> pl.DataFrame:
        """A kept text column as a typed value; invalid values are reported (warning) and cleared."""
        entity = spec.entity
        assert entity is not None
        text = pl.col(column)
        typed = {"bool": V.boolean, "date": V.date, "userIds": V.user_ids}[kind](text)
        code = {"bool": "InvalidBoolean", "date": "InvalidDate", "userIds": "InvalidUserIds"}[kind]
        self.report(code, "warning", spec.name, header, frame.filter(text.is_not_null() & typed.is_null()), entity, text)
        return frame.with_columns(typed.alias(column))


def _live(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows the status checks kept, without the ``DROPPED`` flag (for rows derived from them)."""
    return frame.filter(~pl.col(DROPPED)).drop(DROPPED)


def _lists(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    return frame.with_columns(V.text_list(pl.col(c)).alias(c) for c in columns)


def oneroster_sources(
    fmt: "CsvFormat", raws: dict[str, RawTable], findings: Findings, options: Mapping[str, object]
) -> list[SourceRows]:
    """The canonical source rows of a OneRoster 1.1 or 1.2 package (no format options yet)."""
    package = _Package(fmt, raws, findings)
    specs = {spec.name: spec for spec in fmt.files}
    sources: list[SourceRows] = []

    def add(spec: FileSpec, entity: E.Entity, frame: pl.DataFrame, headers: dict[str, str]) -> None:
        sources.append(SourceRows(entity, spec.name, frame, headers))

    for name in ("orgs.csv", "academicSessions.csv"):
        if (read := package.read(specs[name])) is not None:
            add(specs[name], specs[name].entity, *read)  # type: ignore[arg-type]
    if (read := package.read(specs["courses.csv"])) is not None:
        add(specs["courses.csv"], E.COURSES, _lists(read[0], K + "subjectCodes"), read[1])
    if (read := package.read(specs["classes.csv"])) is not None:
        frame = _lists(read[0], K + "grades", K + "subjects", K + "subjectCodes", K + "periods")
        add(specs["classes.csv"], E.CLASSES, frame, read[1])

    users = _users(package, specs["users.csv"])
    if users is not None:
        add(specs["users.csv"], E.USERS, *users)
    live_users = _live(users[0]) if users is not None else None
    role_of = pl.DataFrame(schema={"sourcedId": pl.String, "__role": pl.String})
    if "roles.csv" in specs:  # 1.2
        roles = _roles_v12(package, specs["roles.csv"], live_users)
        if roles is not None:
            add(specs["roles.csv"], E.ROLES, roles[0], roles[1])
            role_of = roles[2]
    elif live_users is not None:
        add(specs["users.csv"], E.ROLES, *_roles_v11(live_users))
        role_of = _role_of(live_users.select("sourcedId", pl.col(K + "role").str.to_lowercase().alias("__role"), pl.lit(False).alias("__primary")))
    if live_users is not None:
        add(specs["users.csv"], E.RELATIONSHIPS, *_relationships(live_users, role_of))

    if (read := package.read(specs["enrollments.csv"])) is not None:
        spec, (frame, headers) = specs["enrollments.csv"], read
        frame = package.checked(spec, frame, K + "primary", "primary", "bool")
        frame = package.checked(spec, frame, K + "beginDate", "beginDate", "date")
        frame = package.checked(spec, frame, K + "endDate", "endDate", "date")
        add(spec, E.ENROLLMENTS, frame, headers)
    demographics = _demographics(package, specs["demographics.csv"])
    if demographics is not None:
        add(specs["demographics.csv"], E.DEMOGRAPHICS, *demographics)
    return sources


def _users(package: _Package, spec: FileSpec) -> tuple[pl.DataFrame, dict[str, str]] | None:
    read = package.read(spec)
    if read is None:
        return None
    frame, headers = read
    frame = package.checked(spec, frame, K + "enabledUser", "enabledUser", "bool")
    frame = package.checked(spec, frame, K + "userIds", "userIds", "userIds")
    lists = [c for c in (K + "orgSourcedIds", K + "agentSourcedIds", K + "grades", K + "resourceSourcedIds") if c in frame.columns]
    return _lists(frame, *lists), headers


_KEPT_STATUS = (K + "status", K + "dateLastModified", OPEN_REFERENCES)


def _roles_v11(users: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """One roles row per org of each user that is not a contact (1.1 users.csv ``role`` + ``orgSourcedIds``)."""
    role = pl.col(K + "role")
    frame = (
        users.filter(~role.str.to_lowercase().is_in(CONTACT_ROLES).fill_null(False))
        .select(
            "__line",
            pl.col("sourcedId").alias("userSourcedId"),
            pl.col(K + "orgSourcedIds").alias("orgSourcedId"),
            role.alias("role"),
            role.alias(K + "oneRosterRole"),
            pl.col(K + "grades").list.first().alias("grade"),
            *_KEPT_STATUS,
        )
        .explode("orgSourcedId")
        .with_columns(pl.lit(None, pl.String).alias(f) for f in ("sessionSourcedId", "isPrimary", "roleStartDate", "roleEndDate"))
    )
    headers = {"userSourcedId": "sourcedId", "orgSourcedId": "orgSourcedIds", "role": "role", "grade": "grades"}
    return frame, headers


def _roles_v12(
    package: _Package, spec: FileSpec, users: pl.DataFrame | None
) -> tuple[pl.DataFrame, dict[str, str], pl.DataFrame] | None:
    """roles.csv: contacts' rows are left out, roles mapped onto ``RefRole``, ``roleType`` -> ``isPrimary``.

    Also returns each user's role for relationships (see ``_role_of``), read before contacts are left out.
    """
    read = package.read(spec, {"roleType": "__roleType"})
    if read is None:
        return None
    frame, headers = read
    lower = pl.col("role").str.to_lowercase()
    role_type = pl.col("__roleType").str.to_lowercase()
    role_of = _role_of(_live(frame).select(pl.col("userSourcedId").alias("sourcedId"), lower.alias("__role"), (role_type == "primary").alias("__primary")))
    bare = pl.col("role").str.strip_prefix(EXTENSION)  # 1.2's extensible vocabulary: "ext:officeStaff" is officeStaff
    frame = frame.filter(~lower.is_in(CONTACT_ROLES).fill_null(False)).with_columns(
        pl.col("role").alias(K + "oneRosterRole"),
        bare.str.to_lowercase().replace_strict(ROLE_CODES, default=bare, return_dtype=pl.String).alias("role"),
    )
    bad = pl.col("__roleType").is_not_null() & ~role_type.is_in(["primary", "secondary"])
    package.report("InvalidEnumValue", "warning", spec.name, "roleType", frame.filter(bad), E.ROLES, pl.col("__roleType"),
                   reference_type="OneRoster roleType", examples="primary, secondary")
    frame = frame.with_columns(
        pl.when(role_type == "primary").then(pl.lit("true")).when(role_type == "secondary").then(pl.lit("false")).alias("isPrimary")
    ).drop("__roleType")
    if users is not None:  # the user's grade, as 1.1 gives it (Microsoft: users.grades -> roles.grade)
        grades = users.select(pl.col("sourcedId").alias("userSourcedId"), pl.col(K + "grades").list.first().alias("__grade"))
        grades = grades.unique("userSourcedId", keep="first", maintain_order=True)
        frame = frame.join(grades, on="userSourcedId", how="left", maintain_order="left")
        frame = frame.with_columns(pl.col("__grade").alias("grade")).drop("__grade")
        headers["grade"] = "grades"
    headers["isPrimary"] = "roleType"
    return frame, headers, role_of


def _role_of(roles: pl.DataFrame) -> pl.DataFrame:
    """One role per user (``sourcedId``, ``__role``, lower-cased) from rows of ``sourcedId``, ``__role``, ``__primary``.

    A contact role wins (it is what a relationship needs), then a primary role, then the first listed.
    """
    rank = pl.when(pl.col("__role").is_in(CONTACT_ROLES)).then(0).when(pl.col("__primary").fill_null(False)).then(1).otherwise(2)
    return (
        roles.drop_nulls("sourcedId")
        .with_columns(rank.alias("__rank"))
        .sort("__rank", maintain_order=True)
        .unique("sourcedId", keep="first", maintain_order=True)
        .select("sourcedId", "__role")
    )


def _relationships(users: pl.DataFrame, role_of: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """Student -> contact rows from ``agentSourcedIds``, whichever side lists the other.

    A contact's row lists its students: the pair is turned round when the row is a contact's and
    the agent is a user known not to be one. A pair listed from both sides is kept once (the first
    listing), also when neither role is known.
    """
    contact = lambda role: role.is_in(CONTACT_ROLES).fill_null(False)  # noqa: E731
    pairs = (
        users.select("__line", pl.col("sourcedId").alias("__owner"), pl.col(K + "agentSourcedIds").alias("__agent"), *_KEPT_STATUS)
        .explode("__agent")
        .drop_nulls("__agent")
        .join(role_of.rename({"sourcedId": "__owner", "__role": "__owner_role"}), on="__owner", how="left", maintain_order="left")
        .join(role_of.rename({"sourcedId": "__agent", "__role": "__agent_role"}), on="__agent", how="left", maintain_order="left")
    )
    turn = contact(pl.col("__owner_role")) & pl.col("__agent_role").is_not_null() & ~contact(pl.col("__agent_role"))
    contact_role = pl.when(turn).then(pl.col("__owner_role")).otherwise(pl.col("__agent_role"))
    frame = pairs.select(
        "__line",
        pl.when(turn).then(pl.col("__agent")).otherwise(pl.col("__owner")).alias("userSourcedId"),
        pl.when(turn).then(pl.col("__owner")).otherwise(pl.col("__agent")).alias("relationshipUserSourcedId"),
        pl.when(contact_role.is_in(RELATIONSHIP_ROLES)).then(contact_role).otherwise(pl.lit("other")).alias("relationshipRole"),
        pl.col("__owner").alias(K + "listedBy"),
        *_KEPT_STATUS,
    )
    a, b = pl.col("userSourcedId"), pl.col("relationshipUserSourcedId")
    pair = [pl.when(a < b).then(a).otherwise(b).alias("__a"), pl.when(a < b).then(b).otherwise(a).alias("__b")]
    frame = frame.with_columns(pair).unique(["__a", "__b"], keep="first", maintain_order=True).drop("__a", "__b")
    headers = {"userSourcedId": "sourcedId", "relationshipUserSourcedId": "agentSourcedIds", "relationshipRole": "role"}
    return frame, headers


def _demographics(package: _Package, spec: FileSpec) -> tuple[pl.DataFrame, dict[str, str]] | None:
    """demographics.csv: race booleans -> ``raceCodes``, ``hispanicOrLatinoEthnicity`` -> ``ethnicityCodes``."""
    flags = (*RACE_COLUMNS, "hispanicOrLatinoEthnicity")
    read = package.read(spec, {c: f"__flag_{c}" for c in flags})
    if read is None:
        return None
    frame, headers = read
    for c in flags:
        frame = package.checked(spec, frame, f"__flag_{c}", c, "bool")
    codes = lambda names: pl.concat_str(  # noqa: E731
        [pl.when(pl.col(f"__flag_{c}").fill_null(False)).then(pl.lit(c)) for c in names], separator=",", ignore_nulls=True
    )
    frame = frame.with_columns(
        pl.when(codes(RACE_COLUMNS) != "").then(codes(RACE_COLUMNS)).alias("raceCodes"),
        pl.when(pl.col("__flag_hispanicOrLatinoEthnicity").fill_null(False)).then(pl.lit("hispanicOrLatinoEthnicity")).alias("ethnicityCodes"),
        pl.col("sex").str.to_lowercase().replace_strict(SEX_CODES, default=pl.col("sex"), return_dtype=pl.String).alias("sex"),
    ).drop([f"__flag_{c}" for c in flags])
    headers["raceCodes"] = "raceCodes"  # derived from several columns; findings on it name the derived field
    headers["ethnicityCodes"] = "hispanicOrLatinoEthnicity"
    return frame, headers
