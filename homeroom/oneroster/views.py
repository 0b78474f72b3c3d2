"""The canonical lake tables as OneRoster objects: one frame per collection and version, and its JSON.

A ``View`` holds a collection's rows with OneRoster's field names, in sourcedId order. References are kept as the
sourcedId they point at (``school``: ``"org-1"``; ``terms``: a list of ids); the JSON of a page adds ``href`` and
``type`` (``GUIDRef``). Columns whose name starts with ``__`` are for the nested endpoints (a user's orgs and
roles) and never leave the server. What comes from where (docs/oneroster.md, "How the lake maps"):

- every object: ``status`` is ``active`` while the record is active in the lake, else ``tobedeleted``;
  ``dateLastModified`` is when the lake last saw it change (``lastChangedDateTime``); ``metadata`` is what a
  OneRoster CSV's ``metadata.*`` columns carried.
- fields a OneRoster source sent and the canonical model has no place for (``identifier``, ``classType``,
  ``userIds``, ...) were kept in the lake and are served as they came; codes of Homeroom's reference data are
  mapped onto OneRoster's vocabularies (``ROLES_V11``/``V12``, ``ORG_TYPES_V11``, ...); a code without a
  OneRoster 1.2 equivalent is sent as ``ext:<code>``, as 1.2 allows for its extensible vocabularies.
- passwords are never served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
import polars as pl

#: OneRoster 1.2 vocabularies (the official OpenAPI); a value outside them is sent as ``ext:<value>``.
ORG_TYPES = ("department", "district", "local", "national", "school", "state")
SESSION_TYPES = ("gradingPeriod", "semester", "schoolYear", "term")
ROLES_V12 = ("aide", "counselor", "districtAdministrator", "guardian", "parent", "principal", "proctor", "relative",
             "siteAdministrator", "student", "systemAdministrator", "teacher")
ENROLLMENT_ROLES_V12 = ("administrator", "proctor", "student", "teacher")
#: OneRoster 1.1 vocabularies are closed: other codes are mapped onto their nearest value.
ROLES_V11 = ("administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher")
CONTACT_ROLES = ("parent", "guardian", "relative")
#: Homeroom's RefRole / RefSectionRole codes -> OneRoster 1.2 user roles (others: ``ext:<code>``).
ROLE_TO_V12 = {"advisor": "counselor", "administrator": "siteAdministrator", "itAdmin": "systemAdministrator"}
#: Codes -> the 1.1 role; codes not listed are ``administrator`` (staff who neither teach nor assist).
ROLE_TO_V11 = {"student": "student", "teacher": "teacher", "aide": "aide", "aid": "aide", "proctor": "proctor",
               "teacherAssistant": "aide", "paraprofessional": "aide", "assistant": "aide",
               **{r: "teacher" for r in ("professor", "instructor", "lecturer", "substitute", "adjunct", "coach", "faculty",
                                         "chair")},
               **{r: r for r in CONTACT_ROLES}}
ORG_TYPES_V11 = {"department": "department", "district": "district", "local": "local", "national": "national",
                 "school": "school", "state": "state", "localAuthority": "district", "academicTrust": "district",
                 "municipality": "district", "division": "district", "region": "state", "province": "state",
                 "departmentOfEducation": "state", "ministryOfEducation": "national"}
SESSION_TYPES_V11 = {"quarter": "term"}
RACES = ("americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white",
         "demographicRaceTwoOrMoreRaces")
ISO_MILLIS = "%Y-%m-%dT%H:%M:%S%.3fZ"


@dataclass(frozen=True)
class Ref:
    """A field that references objects of a collection: its GUIDRef ``type`` and the collection's path."""

    type: str
    path: str


@dataclass
class View:
    """One collection of one version: its rows (sourcedId order) and how they become JSON."""

    frame: pl.DataFrame
    fields: tuple[str, ...]  #: the fields of an object, in the order they are sent
    refs: dict[str, Ref] = field(default_factory=dict)  #: fields holding the sourcedId(s) of other objects
    #: list-of-object fields whose objects hold a reference (users' roles: ``org``)
    nested_refs: dict[str, tuple[str, Ref]] = field(default_factory=dict)

    @property
    def filterable(self) -> frozenset[str]:
        return frozenset(self.fields)

    @property
    def sortable(self) -> frozenset[str]:
        """Fields of one value (not lists) can be sorted on."""
        return frozenset(f for f in self.fields if not isinstance(self.frame.schema[f], pl.List))

    def json_array(self, rows: pl.DataFrame, base_url: str, fields: tuple[str, ...]) -> bytes:
        """The JSON array of the objects of ``rows`` (a slice of ``frame``) with these fields, hrefs under ``base_url``.

        Polars writes the JSON (building Python objects costs ten times more); fields without a value are then left
        out, as OneRoster's schemas have no nulls. ``metadata`` (kept as JSON text) goes through Python objects."""
        exprs = []
        for name in fields:
            col, dtype = pl.col(name), rows.schema[name]
            if name in self.refs:
                exprs.append(_refs(col, dtype, self.refs[name], base_url).alias(name))
            elif name in self.nested_refs:
                inner, ref = self.nested_refs[name]
                element = pl.element().struct.with_fields(_ref(pl.element().struct.field(inner), ref, base_url).alias(inner))
                exprs.append(col.list.eval(element).alias(name))
            elif isinstance(dtype, pl.Datetime):
                exprs.append(col.dt.strftime(ISO_MILLIS).alias(name))
            else:
                exprs.append(col)
        frame = rows.select(exprs)
        # Fields no object of the page has are not written at all; the others that can be null here (top-level ones
        # with a null in this page, those inside list objects) are taken out of the text.
        frame = frame.select(c for c in frame.columns if frame.get_column(c).null_count() < frame.height or frame.height == 0)
        nullable = [c for c in frame.columns if frame.get_column(c).null_count()]
        nullable += [f.name for c in self.nested_refs if c in frame.columns for f in frame.schema[c].inner.fields]  # type: ignore[attr-defined]
        if "metadata" in frame.columns:
            objects = frame.to_dicts()
            for obj in objects:
                if obj.get("metadata") is not None:
                    obj["metadata"] = orjson.loads(obj["metadata"])
            return _without_nulls(orjson.dumps(objects), nullable)
        return _without_nulls(frame.write_json().encode(), nullable)


def _without_nulls(text: bytes, names: list[str]) -> bytes:
    """``text`` without the ``"name":null`` members of these names (with the comma joining each to the next member,
    or to the previous one when it is the last). Inside a JSON string every quote is escaped, so a value never
    matches. Plain replaces: a regular expression over a page costs twenty times more."""
    for name in dict.fromkeys(names):
        member = b'"%s":null' % name.encode()
        text = text.replace(member + b",", b"").replace(b"," + member, b"").replace(b"{" + member + b"}", b"{}")
    return text


def _ref(sourced_id: pl.Expr, ref: Ref, base_url: str) -> pl.Expr:
    struct = pl.struct(href=pl.lit(f"{base_url}/{ref.path}/") + sourced_id, sourcedId=sourced_id, type=pl.lit(ref.type))
    return pl.when(sourced_id.is_not_null()).then(struct)


def _refs(col: pl.Expr, dtype: pl.DataType, ref: Ref, base_url: str) -> pl.Expr:
    if isinstance(dtype, pl.List):
        return col.list.eval(_ref(pl.element(), ref, base_url))
    return _ref(col, ref, base_url)


# --- building the views from the canonical tables ---------------------------------------------------------------

def _opt(frame: pl.DataFrame, name: str, dtype: pl.DataType = pl.String) -> pl.Expr:
    """A kept column a OneRoster source sent, or nulls when the lake's rows came from another format."""
    return pl.col(name) if name in frame.columns else pl.lit(None, dtype)


def _common(frame: pl.DataFrame) -> list[pl.Expr]:
    return [pl.when(pl.col("isActive")).then(pl.lit("active")).otherwise(pl.lit("tobedeleted")).alias("status"),
            pl.col("lastChangedDateTime").alias("dateLastModified"),
            _opt(frame, "metadata").alias("metadata")]


def _vocabulary(expr: pl.Expr, values: tuple[str, ...], mapping: dict[str, str] | None = None) -> pl.Expr:
    """A 1.2 code: mapped, kept when in the vocabulary (or already ``ext:``), else ``ext:<code>``."""
    mapped = expr.replace(mapping) if mapping else expr
    return pl.when(mapped.is_in(values) | mapped.str.starts_with("ext:")).then(mapped).otherwise(pl.lit("ext:") + mapped)


def _text(flag: pl.Expr) -> pl.Expr:
    """A boolean as OneRoster's ``"true"``/``"false"`` (both versions: clients generated from the IMS 1.1 OpenAPI
    parse these fields as text too)."""
    return pl.when(flag).then(pl.lit("true")).when(~flag).then(pl.lit("false"))


def _closed(expr: pl.Expr, mapping: dict[str, str], default: str | None) -> pl.Expr:
    """A 1.1 code: its mapping, or ``default``."""
    return expr.replace_strict(mapping, default=default, return_dtype=pl.String)


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("sourcedId")


def _with_children(frame: pl.DataFrame, parent: str = "parent") -> pl.DataFrame:
    """A ``children`` list: the sourcedIds of the rows whose parent is this row."""
    children = (frame.filter(pl.col(parent).is_not_null()).group_by(parent, maintain_order=True)
                .agg(pl.col("sourcedId").sort().alias("children")).rename({parent: "sourcedId"}))
    return frame.join(children, on="sourcedId", how="left").with_columns(pl.col("children").fill_null(pl.lit([], pl.List(pl.String))))


def orgs_view(orgs: pl.DataFrame, version: str) -> View:
    kind = pl.col("type")
    frame = orgs.select(
        "sourcedId", *_common(orgs), "name",
        (_vocabulary(kind, ORG_TYPES) if version == "1.2" else _closed(kind, ORG_TYPES_V11, "school")).alias("type"),
        _opt(orgs, "identifier").fill_null("").alias("identifier"),
        pl.col("parentSourcedId").alias("parent"),
    )
    frame = _sorted(_with_children(frame))
    return View(frame, ("sourcedId", "status", "dateLastModified", "metadata", "name", "type", "identifier", "parent", "children"),
                {"parent": Ref("org", "orgs"), "children": Ref("org", "orgs")})


def sessions_view(sessions: pl.DataFrame, version: str) -> View:
    kind = pl.col("type")
    frame = sessions.select(
        "sourcedId", *_common(sessions), "title",
        (_vocabulary(kind, SESSION_TYPES) if version == "1.2" else _closed(kind, {**{t: t for t in SESSION_TYPES},
                                                                                  **SESSION_TYPES_V11}, "term")).alias("type"),
        "startDate", "endDate", _opt(sessions, "parentSourcedId").alias("parent"),
        pl.col("schoolYear").cast(pl.String).alias("schoolYear"),
    )
    frame = _sorted(_with_children(frame))
    return View(frame, ("sourcedId", "status", "dateLastModified", "metadata", "title", "startDate", "endDate", "type",
                        "parent", "children", "schoolYear"),
                {"parent": Ref("academicSession", "academicSessions"), "children": Ref("academicSession", "academicSessions")})


_NO_TEXT = pl.lit([], pl.List(pl.String))


def courses_view(courses: pl.DataFrame, version: str) -> View:
    frame = _sorted(courses.select(
        "sourcedId", *_common(courses), "title", pl.col("schoolYearSourcedId").alias("schoolYear"),
        pl.col("code").fill_null("").alias("courseCode"), pl.col("grades").fill_null(_NO_TEXT),
        pl.col("subjects").fill_null(_NO_TEXT), pl.col("orgSourcedId").alias("org"),
        _opt(courses, "subjectCodes", pl.List(pl.String)).fill_null(_NO_TEXT).alias("subjectCodes"),
    ))
    return View(frame, ("sourcedId", "status", "dateLastModified", "metadata", "title", "schoolYear", "courseCode", "grades",
                        "subjects", "org", "subjectCodes"),
                {"schoolYear": Ref("academicSession", "academicSessions"), "org": Ref("org", "orgs")})


def classes_view(classes: pl.DataFrame, version: str) -> View:
    class_type = _opt(classes, "classType").fill_null("scheduled")
    frame = _sorted(classes.select(
        "sourcedId", *_common(classes), "title", pl.col("code").alias("classCode"),
        (_vocabulary(class_type, ("homeroom", "scheduled")) if version == "1.2"
         else _closed(class_type, {"homeroom": "homeroom"}, "scheduled")).alias("classType"),
        _opt(classes, "location").alias("location"),
        _opt(classes, "grades", pl.List(pl.String)).fill_null(_NO_TEXT).alias("grades"),
        _opt(classes, "subjects", pl.List(pl.String)).fill_null(_NO_TEXT).alias("subjects"),
        pl.col("courseSourcedId").alias("course"), pl.col("orgSourcedId").alias("school"),
        pl.col("sessionSourcedIds").fill_null(_NO_TEXT).alias("terms"),
        _opt(classes, "subjectCodes", pl.List(pl.String)).fill_null(_NO_TEXT).alias("subjectCodes"),
        _opt(classes, "periods", pl.List(pl.String)).fill_null(_NO_TEXT).alias("periods"),
    ))
    return View(frame, ("sourcedId", "status", "dateLastModified", "metadata", "title", "classCode", "classType", "location",
                        "grades", "subjects", "course", "school", "terms", "subjectCodes", "periods"),
                {"course": Ref("course", "courses"), "school": Ref("org", "orgs"), "terms": Ref("academicSession", "academicSessions")})


def _enrollment_role(role: pl.Expr, version: str) -> pl.Expr:
    if version == "1.2":
        return _vocabulary(role, ENROLLMENT_ROLES_V12)
    return _closed(role, {**{r: r for r in ROLES_V11}, **ROLE_TO_V11}, "administrator")


def enrollments_view(enrollments: pl.DataFrame, classes: pl.DataFrame, version: str) -> View:
    school_of = classes.select(pl.col("sourcedId").alias("classSourcedId"), pl.col("orgSourcedId").alias("__school"))
    joined = enrollments.join(school_of.unique("classSourcedId"), on="classSourcedId", how="left")
    synthetic = pl.concat_str([pl.col("classSourcedId"), pl.col("userSourcedId"), pl.col("role")], separator=":")
    primary = _opt(enrollments, "primary", pl.Boolean)
    frame = _sorted(joined.select(
        _opt(enrollments, "oneRosterSourcedId").fill_null(synthetic).alias("sourcedId"), *_common(enrollments),
        pl.col("userSourcedId").alias("user"), pl.col("classSourcedId").alias("class"),
        _opt(enrollments, "schoolSourcedId").fill_null(pl.col("__school")).alias("school"),
        _enrollment_role(pl.col("role"), version).alias("role"),
        _text(primary).alias("primary"),
        _opt(enrollments, "beginDate", pl.Date).alias("beginDate"), _opt(enrollments, "endDate", pl.Date).alias("endDate"),
    ))
    return View(frame, ("sourcedId", "status", "dateLastModified", "metadata", "user", "class", "school", "role", "primary",
                        "beginDate", "endDate"),
                {"user": Ref("user", "users"), "class": Ref("class", "classes"), "school": Ref("org", "orgs")})


def demographics_view(demographics: pl.DataFrame, version: str) -> View:
    races = pl.col("raceCodes").fill_null(_NO_TEXT)
    flag = _text
    sex = pl.col("sex").replace({"notSelected": "unspecified"})
    frame = _sorted(demographics.select(
        pl.col("userSourcedId").alias("sourcedId"), *_common(demographics), "birthDate",
        (_vocabulary(sex, ("male", "female", "unspecified", "other")) if version == "1.2"
         else pl.when(sex.is_in(["male", "female"])).then(sex)).alias("sex"),
        *[flag(races.list.contains(r)).alias(r) for r in RACES],
        flag(pl.col("ethnicityCodes").fill_null(_NO_TEXT).list.contains("hispanicOrLatinoEthnicity")).alias("hispanicOrLatinoEthnicity"),
        pl.col("birthCountry").alias("countryOfBirthCode"), pl.col("birthState").alias("stateOfBirthAbbreviation"),
        pl.col("birthCity").alias("cityOfBirth"), _opt(demographics, "publicSchoolResidenceStatus").alias("publicSchoolResidenceStatus"),
    ))
    return View(frame, ("sourcedId", "status", "dateLastModified", "metadata", "birthDate", "sex", *RACES, "hispanicOrLatinoEthnicity",
                        "countryOfBirthCode", "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus"))


def _current(frame: pl.DataFrame, owner: str) -> pl.DataFrame:
    """Each owner's active rows, or all its rows when none is active (an inactive user keeps its last roles)."""
    return frame.filter(pl.col("isActive") == pl.col("isActive").max().over(owner))


def _user_roles(users: pl.DataFrame, roles: pl.DataFrame, relationships: pl.DataFrame, version: str) -> pl.DataFrame:
    """Per user: ``__roles`` (structs of roleType, role, org, beginDate, endDate; contacts get their relationship's
    role at their students' orgs), ``__orgs`` and ``__grades``."""
    code = pl.col("role")
    kept = _opt(roles, "oneRosterRole")
    if version == "1.2":
        oneroster = pl.when(kept.is_in(ROLES_V12) | kept.str.starts_with("ext:")).then(kept).otherwise(_vocabulary(code, ROLES_V12, ROLE_TO_V12))
    else:
        oneroster = pl.when(kept.is_in(ROLES_V11)).then(kept).otherwise(_closed(code, ROLE_TO_V11, "administrator"))
    members = _current(roles, "userSourcedId").select(
        "userSourcedId", oneroster.alias("role"), pl.col("orgSourcedId").alias("org"),
        pl.col("isPrimary").fill_null(False).alias("__primary"), pl.col("roleStartDate").alias("beginDate"),
        pl.col("roleEndDate").alias("endDate"), "grade")
    # Contacts (guardians) hold no roles rows: their role is the relationship's, at each org of their students.
    links = relationships.filter(pl.col("isActive"))
    student_orgs = members.select(pl.col("userSourcedId").alias("__student"), "org").unique()
    contacts = (links.select(pl.col("relationshipUserSourcedId").alias("userSourcedId"), pl.col("userSourcedId").alias("__student"),
                             pl.col("relationshipRole").replace_strict({r: r for r in CONTACT_ROLES}, default="relative").alias("role"))
                .join(members.select("userSourcedId").unique(), on="userSourcedId", how="anti")
                .join(student_orgs, on="__student", how="inner")
                .select("userSourcedId", "role", "org", pl.lit(False).alias("__primary"), pl.lit(None, pl.Date).alias("beginDate"),
                        pl.lit(None, pl.Date).alias("endDate"), pl.lit(None, pl.String).alias("grade"))
                .unique(["userSourcedId", "org"], keep="first", maintain_order=True))
    every = pl.concat([members, contacts], how="vertical_relaxed")
    # One primary role per user and org: the one marked primary, else the first.
    rank = pl.int_range(pl.len()).over(["userSourcedId", "org"], order_by=~pl.col("__primary"))
    every = every.with_columns(pl.when(rank == 0).then(pl.lit("primary")).otherwise(pl.lit("secondary")).alias("roleType"))
    return every.sort(["userSourcedId", "roleType", "org"]).group_by("userSourcedId", maintain_order=True).agg(
        pl.struct("roleType", "role", "org", "beginDate", "endDate").alias("__roles"),
        pl.col("org").unique(maintain_order=True).alias("__orgs"),
        pl.col("grade").drop_nulls().unique(maintain_order=True).alias("__grades"),
    ).rename({"userSourcedId": "sourcedId"})


def _agents(relationships: pl.DataFrame) -> pl.DataFrame:
    """Per user, the other side of each active relationship (a student's contacts, a contact's students)."""
    links = relationships.filter(pl.col("isActive"))
    both = pl.concat([links.select(pl.col("userSourcedId").alias("sourcedId"), pl.col("relationshipUserSourcedId").alias("agent")),
                      links.select(pl.col("relationshipUserSourcedId").alias("sourcedId"), pl.col("userSourcedId").alias("agent"))])
    return both.unique().sort("agent").group_by("sourcedId").agg(pl.col("agent").alias("agents"))


_USER_ID = pl.Struct({"type": pl.String, "identifier": pl.String})


def users_view(users: pl.DataFrame, roles: pl.DataFrame, relationships: pl.DataFrame, version: str) -> View:
    per_user = _user_roles(users, roles, relationships, version)
    frame = users.join(per_user, on="sourcedId", how="left").join(_agents(relationships), on="sourcedId", how="left")
    kept_ids = _opt(frame, "userIds", pl.List(pl.String)).fill_null(_NO_TEXT).list.eval(pl.struct(
        type=pl.element().str.split_exact(":", 1).struct.field("field_0"),
        identifier=pl.element().str.splitn(":", 2).struct.field("field_1")))
    match_id = pl.when(pl.col("activeDirectoryMatchId").is_not_null()).then(
        pl.concat_list(pl.struct(type=pl.lit("activeDirectoryMatchId"), identifier=pl.col("activeDirectoryMatchId")))
    ).otherwise(pl.lit([], pl.List(_USER_ID)))
    enabled = _opt(frame, "enabledUser", pl.Boolean).fill_null(True)
    grades = _opt(frame, "grades", pl.List(pl.String)).fill_null(pl.col("__grades")).fill_null(_NO_TEXT)
    role_list = pl.col("__roles").fill_null(pl.lit([], pl.List(pl.Struct({"roleType": pl.String, "role": pl.String, "org": pl.String,
                                                                         "beginDate": pl.Date, "endDate": pl.Date}))))
    primary = role_list.list.eval(pl.element().filter(pl.element().struct.field("roleType") == "primary").struct.field("role")).list.first()
    common = ["sourcedId", *_common(frame)]
    names = [pl.col("username"), pl.concat_list(kept_ids, match_id).alias("userIds")]
    people = [pl.col("givenName").fill_null(""), pl.col("familyName").fill_null(""), _opt(frame, "middleName").alias("middleName")]
    contact = [_opt(frame, "identifier").alias("identifier"), "email", "sms", "phone",
               pl.col("agents").fill_null(_NO_TEXT)]
    hidden = [role_list.list.eval(pl.element().struct.field("role")).alias("__roleNames"),
              pl.col("__orgs").fill_null(_NO_TEXT)]
    if version == "1.1":
        kept_role = _opt(frame, "role")
        frame = frame.select(
            *common, *names, _text(enabled).alias("enabledUser"), *people,
            pl.when(kept_role.is_in(ROLES_V11)).then(kept_role).otherwise(primary).fill_null("student").alias("role"),
            *contact, pl.col("__orgs").fill_null(_NO_TEXT).alias("orgs"), grades.alias("grades"), *hidden)
        fields = ("sourcedId", "status", "dateLastModified", "metadata", "username", "userIds", "enabledUser", "givenName",
                  "familyName", "middleName", "role", "identifier", "email", "sms", "phone", "agents", "orgs", "grades")
        refs = {"agents": Ref("user", "users"), "orgs": Ref("org", "orgs")}
        return View(_sorted(frame), fields, refs)
    primary_org = role_list.list.eval(pl.element().filter(pl.element().struct.field("roleType") == "primary").struct.field("org")).list.first()
    frame = frame.select(
        *common, _opt(frame, "userMasterIdentifier").alias("userMasterIdentifier"), *names,
        _text(enabled).alias("enabledUser"), *people,
        _opt(frame, "preferredGivenName").alias("preferredFirstName"), _opt(frame, "preferredMiddleName").alias("preferredMiddleName"),
        _opt(frame, "preferredFamilyName").alias("preferredLastName"), _opt(frame, "pronouns").alias("pronouns"),
        role_list.alias("roles"), _opt(frame, "primaryOrgSourcedId").fill_null(primary_org).alias("primaryOrg"),
        *contact, grades.alias("grades"), *hidden)
    fields = ("sourcedId", "status", "dateLastModified", "metadata", "userMasterIdentifier", "username", "userIds", "enabledUser",
              "givenName", "familyName", "middleName", "preferredFirstName", "preferredMiddleName", "preferredLastName", "pronouns",
              "roles", "primaryOrg", "identifier", "email", "sms", "phone", "agents", "grades")
    return View(_sorted(frame), fields, {"agents": Ref("user", "users"), "primaryOrg": Ref("org", "orgs")},
                {"roles": ("org", Ref("org", "orgs"))})


#: Each collection's view: the canonical tables it reads and how it is built from them.
VIEWS = {
    "orgs": (("orgs",), orgs_view),
    "academicSessions": (("academicSessions",), sessions_view),
    "courses": (("courses",), courses_view),
    "classes": (("classes",), classes_view),
    "users": (("users", "roles", "relationships"), users_view),
    "enrollments": (("enrollments", "classes"), enrollments_view),
    "demographics": (("demographics",), demographics_view),
}
#: The canonical tables the views read.
TABLES = ("orgs", "academicSessions", "courses", "classes", "users", "roles", "relationships", "enrollments", "demographics")


def build_view(name: str, table: Callable[[str], pl.DataFrame], version: str) -> View:
    """One collection's view of one version, from the canonical tables ``table(name)`` gives (possibly empty)."""
    tables, build = VIEWS[name]
    return build(*(table(t) for t in tables), version)
