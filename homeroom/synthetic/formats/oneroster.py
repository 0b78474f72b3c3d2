"""OneRoster 1.1 and 1.2 CSV (bulk): the district as a manifest and OneRoster's rostering files, and their defect kinds.

The files follow the reader's column tables (``homeroom.inbound.formats.oneroster.files``,
docs/formats.md): every column of each file, in the specification's order, ``status`` and
``dateLastModified`` blank (a bulk package). ``manifest.csv`` lists each written file as ``bulk`` and
every other file of the version as ``absent``. Where the district's codes differ from OneRoster's,
the writer uses the spelling the reader maps back: 1.2 roles ``siteAdministrator`` (administrator),
``counselor`` (advisor) and ``systemAdministrator`` (itAdmin); race and ethnicity codes as boolean
columns. Staff roles that OneRoster does not name (``officeStaff``, ``nurse``, ...) are written as
their ``RefRole`` code, which the reader accepts. Guardians are users whose role is their
relationship role (``parent``, ``guardian``, ``relative``), listed in their students'
``agentSourcedIds``; 1.2 gives them a roles.csv row at their student's school.

What OneRoster cannot carry of the district: program flags (no userFlags), the session of a role;
1.1 also loses roles' ``isPrimary`` and dates (users.csv has one role and a list of orgs).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from homeroom.inbound.formats.oneroster.files import FILES_V11, FILES_V12, RACE_COLUMNS, spec_order
from homeroom.synthetic.defects import (
    district_role,
    ACADEMIC_SESSION_DEFECTS,
    DefectKind,
    DefectKinds,
    ExpectedFinding,
    Plant,
    Planter,
    broken_lines,
    copies,
    fresh,
    missing,
)
from homeroom.synthetic.district import DISTRICT_ID, SCHOOL_ID_PREFIX, District, constant, numbered, pick
from homeroom.synthetic.formats.base import PackageFormat, file_table

#: District role codes -> OneRoster 1.2 roles that the reader maps back onto them.
ROLES_V12 = {"administrator": "siteAdministrator", "advisor": "counselor", "itAdmin": "systemAdministrator"}
#: Roles given to defect roles rows at the district once a pool user has been used with their own
#: role: no clean record has them, so (user, district, role) stays a fresh key.
_SPARE_ORG_ROLES = ("substitute", "proctor", "lecturer", "researcher", "instructor", "staff", "faculty", "assistant")
MANIFEST = "manifest.csv"
_ENROLLMENT_ID_PREFIX = "enr-"
_ROLE_ID_PREFIX = "rol-"


def _specs(version: str) -> dict:
    return {spec.name: spec for spec in (FILES_V11 if version == "1.1" else FILES_V12)}


def clean_files(district: District, version: str) -> dict[str, pa.Table]:
    """The OneRoster files of the district (``version`` ``1.1`` or ``1.2``), the manifest first."""
    specs = _specs(version)
    cols = lambda name: spec_order(specs[name])  # noqa: E731
    t = district.tables
    students, staff = district.students, district.staff
    users = pl.from_arrow(t["users.csv"])
    roles = pl.from_arrow(t["roles.csv"])
    relationships = pl.from_arrow(t["relationships.csv"])
    assert isinstance(users, pl.DataFrame) and isinstance(roles, pl.DataFrame) and isinstance(relationships, pl.DataFrame)
    files: dict[str, pa.Table] = {}

    orgs = t["orgs.csv"]
    files["orgs.csv"] = file_table(cols("orgs.csv"), orgs.num_rows, {
        "sourcedId": orgs.column("sourcedId"), "name": orgs.column("name"), "type": orgs.column("type"),
        "identifier": pc.replace_substring(pc.replace_substring(orgs.column("sourcedId"), SCHOOL_ID_PREFIX, ""), DISTRICT_ID, ""),
        "parentSourcedId": orgs.column("parentSourcedId"),
    })
    sessions = t["academicSessions.csv"]
    year_id = sessions.column("sourcedId")[0].as_py()
    parent = pc.if_else(pc.equal(sessions.column("type"), "schoolYear"), "", year_id)
    files["academicSessions.csv"] = file_table(cols("academicSessions.csv"), sessions.num_rows, {
        name: sessions.column(name) for name in ("sourcedId", "title", "type", "startDate", "endDate", "schoolYear")
    } | {"parentSourcedId": parent})
    courses = t["courses.csv"]
    files["courses.csv"] = file_table(cols("courses.csv"), courses.num_rows, {
        "sourcedId": courses.column("sourcedId"), "schoolYearSourcedId": courses.column("schoolYearSourcedId"),
        "title": courses.column("title"), "courseCode": courses.column("code"), "grades": courses.column("grade"),
        "orgSourcedId": courses.column("orgSourcedId"), "subjects": courses.column("subject"),
    })

    # Each user's orgs and role: students and staff from their roles (staff may have a second
    # school), guardians from their student's school and their relationship role.
    guardian_of = relationships.select(pl.col("relationshipUserSourcedId").alias("sourcedId"), "userSourcedId", "relationshipRole")
    guardian_orgs = guardian_of.join(
        roles.slice(0, students).select("userSourcedId", "orgSourcedId"), on="userSourcedId", how="left", maintain_order="left"
    )
    member_orgs = roles.group_by("userSourcedId", maintain_order=True).agg(
        pl.col("orgSourcedId").str.join(","), pl.col("orgSourcedId").first().alias("primaryOrg"), pl.col("role").first(),
        pl.col("grade").first(),
    )
    person = pl.concat([
        member_orgs.rename({"userSourcedId": "sourcedId"}),
        guardian_orgs.select("sourcedId", "orgSourcedId", pl.col("orgSourcedId").alias("primaryOrg"),
                             pl.col("relationshipRole").alias("role"), pl.lit("").alias("grade")),
    ])
    agents = relationships.group_by("userSourcedId", maintain_order=True).agg(
        pl.col("relationshipUserSourcedId").str.join(",").alias("agentSourcedIds")
    )
    people = users.join(person, on="sourcedId", how="left", maintain_order="left").join(
        agents.rename({"userSourcedId": "sourcedId"}), on="sourcedId", how="left", maintain_order="left"
    )
    user_values = {
        "sourcedId": people["sourcedId"], "enabledUser": constant("true", people.height), "username": people["username"],
        "givenName": people["givenName"], "familyName": people["familyName"], "email": people["email"], "sms": people["sms"],
        "phone": people["phone"], "agentSourcedIds": people["agentSourcedIds"], "grades": people["grade"],
        "password": people["password"],
    }
    if version == "1.1":
        user_values |= {"orgSourcedIds": people["orgSourcedId"], "role": people["role"]}
    else:
        user_values |= {"primaryOrgSourcedId": people["primaryOrg"]}
    files["users.csv"] = file_table(cols("users.csv"), people.height, user_values)

    if version == "1.2":
        guardian_roles = guardian_orgs.select(
            pl.col("sourcedId").alias("userSourcedId"), "orgSourcedId", pl.col("relationshipRole").alias("role"),
            pl.lit("true").alias("isPrimary"), pl.lit("").alias("roleStartDate"), pl.lit("").alias("roleEndDate"),
        )
        all_roles = pl.concat([
            roles.select(
                "userSourcedId", "orgSourcedId", pl.col("role").replace(ROLES_V12), "isPrimary", "roleStartDate", "roleEndDate",
            ),
            guardian_roles,
        ])
        files["roles.csv"] = file_table(cols("roles.csv"), all_roles.height, {
            "sourcedId": numbered(_ROLE_ID_PREFIX, np.arange(1, all_roles.height + 1)),
            "userSourcedId": all_roles["userSourcedId"],
            "roleType": all_roles["isPrimary"].replace_strict({"true": "primary", "false": "secondary"}),
            "role": all_roles["role"], "beginDate": all_roles["roleStartDate"], "endDate": all_roles["roleEndDate"],
            "orgSourcedId": all_roles["orgSourcedId"],
        })

    classes = pl.from_arrow(t["classes.csv"]).join(
        pl.from_arrow(courses.select(["sourcedId", "grade"])).rename({"sourcedId": "courseSourcedId"}),
        on="courseSourcedId", how="left", maintain_order="left",
    )
    files["classes.csv"] = file_table(cols("classes.csv"), classes.height, {
        "sourcedId": classes["sourcedId"], "title": classes["title"], "grades": classes["grade"],
        "courseSourcedId": classes["courseSourcedId"], "classCode": classes["code"],
        "classType": constant("scheduled", classes.height),
        "schoolSourcedId": classes["orgSourcedId"], "termSourcedIds": classes["sessionSourcedIds"],
    })

    # Enrollments are sorted by class with the teachers first: a class's first teacher is its primary one.
    enrollments = pl.from_arrow(t["enrollments.csv"]).join(
        classes.select(pl.col("sourcedId").alias("classSourcedId"), pl.col("orgSourcedId").alias("school")),
        on="classSourcedId", how="left", maintain_order="left",
    )
    teacher = pl.col("role") == "teacher"
    primary = pl.when(teacher & pl.col("classSourcedId").is_first_distinct()).then(pl.lit("true")).when(teacher).then(pl.lit("false"))
    enrollments = enrollments.with_columns(primary.alias("primary"))
    files["enrollments.csv"] = file_table(cols("enrollments.csv"), enrollments.height, {
        "sourcedId": numbered(_ENROLLMENT_ID_PREFIX, np.arange(1, enrollments.height + 1)),
        "classSourcedId": enrollments["classSourcedId"], "schoolSourcedId": enrollments["school"],
        "userSourcedId": enrollments["userSourcedId"], "role": enrollments["role"], "primary": enrollments["primary"],
    })

    demographics = pl.from_arrow(t["demographics.csv"])
    assert isinstance(demographics, pl.DataFrame)
    race = pl.col("raceCodes").str.split(",")
    yes_no = lambda condition: pl.when(condition).then(pl.lit("true")).otherwise(pl.lit("false"))  # noqa: E731
    flags = demographics.select(
        *[yes_no(race.list.contains(code)).alias(code) for code in RACE_COLUMNS],
        yes_no(pl.col("ethnicityCodes").str.contains("hispanicOrLatinoEthnicity", literal=True)).alias("hispanicOrLatinoEthnicity"),
    )
    files["demographics.csv"] = file_table(cols("demographics.csv"), demographics.height, {
        "sourcedId": demographics["userSourcedId"], "birthDate": demographics["birthDate"], "sex": demographics["sex"],
        **{c: flags[c] for c in flags.columns},
        "countryOfBirthCode": demographics["birthCountry"], "stateOfBirthAbbreviation": demographics["birthState"],
        "cityOfBirth": demographics["birthCity"],
    })

    listed = [name for name in specs if name != MANIFEST]
    properties = ["manifest.version", "oneroster.version",
                  *[f"file.{name.removesuffix('.csv')}" for name in listed], "source.systemName", "source.systemCode"]
    values = ["1.0", version, *["bulk" if name in files else "absent" for name in listed], "Homeroom synthetic district", "homeroom"]
    manifest = pa.table({"propertyName": pa.array(properties, pa.string()), "value": pa.array(values, pa.string())})
    return {MANIFEST: manifest, **files}


# --- defects ------------------------------------------------------------------------------------------

class OneRosterPlanter(Planter):
    """A planter that knows where students, staff and guardians sit in users.csv (and roles.csv)."""

    def __init__(self, district: District, files: dict[str, pa.Table], rng: np.random.Generator):
        super().__init__(district, files, rng)
        students, staff = district.students, district.staff
        self._district_role_pool = rng.permutation(students + staff)  # roles.csv rows of primary roles
        self._district_role_used = 0
        self._no_demographics_pool = students + rng.permutation(staff + district.guardians)  # users.csv rows
        self._no_demographics_used = 0

    def guardian_rows(self, file: str, n: int) -> np.ndarray:
        """Random users.csv rows of guardians (contacts: they make no roles)."""
        start = self.district.students + self.district.staff
        return self.rows_between(start, start + self.district.guardians, n)

    def student_rows(self, file: str, n: int) -> np.ndarray:
        """Random users.csv rows of students (one org, one grade)."""
        return self.rows_between(0, self.district.students, n)

    def member_rows(self, file: str, n: int) -> np.ndarray:
        """Random roles.csv rows of students' and staff members' roles (contacts' rows are left out unread)."""
        return self.rows_between(0, self.files[file].num_rows - self.district.guardians, n)

    def district_roles(self, n: int) -> pa.Table:
        """roles.csv rows of distinct students and staff members at the district org, where no clean role is.

        Each pool user gets their own role again; only a tiny district runs out of pool users, and then
        the pool is walked again with roles that no clean record has.
        """
        k = self._district_role_used + np.arange(n)
        self._district_role_used += n
        pool = len(self._district_role_pool)
        lap = k // pool
        table = self.copies("roles.csv", self._district_role_pool[k % pool], sourcedId=fresh("rol-district"),
                            orgSourcedId=DISTRICT_ID, roleType="secondary")
        if lap.max(initial=0) > 0:
            role = pc.if_else(pa.array(lap > 0), pick(("", *_SPARE_ORG_ROLES), lap), table.column("role"))
            table = table.set_column(table.schema.get_field_index("role"), "role", role)
        return table

    def users_without_demographics(self, n: int) -> pa.Array:
        """sourcedIds of ``n`` distinct staff members and guardians (who have no demographics row)."""
        k = self._no_demographics_used + np.arange(n)
        self._no_demographics_used += n
        rows = self._no_demographics_pool[k % len(self._no_demographics_pool)]
        return self.clean("users.csv").column("sourcedId").take(pa.array(rows, pa.int64())).combine_chunks()


def _guardian_copies(tag: str, *, keep_id: bool = False, at_end: bool = False, **overrides) -> Plant:
    """Copies of guardians' users.csv rows (no roles, no agents) with fresh usernames and emails."""
    fresh_contact = {"username": fresh(tag, "@example.edu"), "email": fresh(tag, "@example.com")}
    return copies(None if keep_id else tag, at_end=at_end, rows=OneRosterPlanter.guardian_rows, **{**fresh_contact, **overrides})


def _student_copies(tag: str, **overrides) -> Plant:
    """Copies of students' users.csv rows with fresh ids, usernames and emails, and no agents unless given."""
    values = {"username": fresh(tag, "@students.example.edu"), "email": fresh(tag, "@students.example.edu"), "agentSourcedIds": ""}
    return copies(tag, rows=OneRosterPlanter.student_rows, **{**values, **overrides})


def _student_listing_itself(planter: OneRosterPlanter, finding: ExpectedFinding, n: int) -> None:
    """A new student whose agentSourcedIds lists their own (fresh) id."""
    _student_copies("usr-self", agentSourcedIds=fresh("usr-self"))(planter, finding, n)


def _student_with_contact_without_email(planter: OneRosterPlanter, finding: ExpectedFinding, n: int) -> None:
    """A new student listing a new, valid contact who has names but no email."""
    contacts = planter.copies(
        "users.csv", planter.guardian_rows("users.csv", n), sourcedId=fresh("usr-noemail"),
        username=fresh("usr-noemail", "@example.edu"), email="", phone="", sms="",
    )
    planter.insert_valid("users.csv", contacts)
    agents = contacts.column("sourcedId").combine_chunks()
    _student_copies("usr-agentnoemail", agentSourcedIds=lambda _: agents)(planter, finding, n)


def _role_of_dropped_user(planter: OneRosterPlanter, finding: ExpectedFinding, n: int) -> None:
    """A roles.csv row of a new user who is dropped for a blank username (that user is a users.csv finding too)."""
    users = planter.copies("users.csv", planter.student_rows("users.csv", n), sourcedId=fresh("usr-dropped"), username="",
                           email=fresh("usr-dropped", "@example.com"), agentSourcedIds="")
    planter.insert(ExpectedFinding("users.csv", "RequiredValueMissing", "error", "username"), users)
    dropped = users.column("sourcedId").combine_chunks()
    planter.insert(finding, planter.copies(finding.file, planter.member_rows(finding.file, n), sourcedId=fresh("rol-dropped"),
                                           userSourcedId=lambda _: dropped))


def _role_of_user_with_bad_grade(planter: OneRosterPlanter, finding: ExpectedFinding, n: int) -> None:
    """A roles.csv row of a new, valid student whose first grade is not a grade: the role's grade is cleared."""
    users = planter.copies("users.csv", planter.student_rows("users.csv", n), sourcedId=fresh("usr-badgrade"),
                           username=fresh("usr-badgrade", "@students.example.edu"), email="", agentSourcedIds="", grades="grade13x")
    planter.insert_valid("users.csv", users)
    new = users.column("sourcedId").combine_chunks()
    planter.insert(finding, planter.copies(finding.file, planter.rows_between(0, planter.district.students, n),
                                           sourcedId=fresh("rol-badgrade"), userSourcedId=lambda _: new))


def _enrollment_in_dropped_class(planter: Planter, finding: ExpectedFinding, n: int) -> None:
    """An enrollment in a new class that is dropped for a blank title (that class is a classes.csv finding too)."""
    classes = planter.copies("classes.csv", planter.rows("classes.csv", n), sourcedId=fresh("cls-dropped"), title="")
    planter.insert(ExpectedFinding("classes.csv", "RequiredValueMissing", "error", "title"), classes)
    dropped = classes.column("sourcedId").combine_chunks()
    planter.insert(finding, planter.copies(finding.file, planter.rows(finding.file, n), sourcedId=fresh("enr-dropped"),
                                           classSourcedId=lambda _: dropped))


def _demographics_of_user_without(column: str, value: str) -> Plant:
    """Demographics, with one bad value, of distinct staff members or guardians (who have none)."""

    def plant(planter: OneRosterPlanter, finding: ExpectedFinding, n: int) -> None:
        users = planter.users_without_demographics(n)
        rows = planter.rows(finding.file, n)
        planter.insert(finding, planter.copies(finding.file, rows, sourcedId=lambda _: users, **{column: value}))

    return plant


def _school_rows(planter: Planter, file: str, n: int) -> np.ndarray:
    """Random orgs.csv rows of schools (row 0 is the district)."""
    return planter.rows_between(1, 1 + planter.district.schools, n)


def _manifest_lines_for_unknown_files(planter: Planter, finding: ExpectedFinding, n: int) -> None:
    """``file.<name>`` lines for files the version does not have: the manifest check warns and ignores them."""
    lines = {"propertyName": numbered("file.attendance", np.arange(1, n + 1)), "value": constant("absent", n)}
    planter.insert(finding, pa.table(lines))


def contact_roles(files: dict[str, pa.Table]) -> dict[str, int]:
    """1.2 roles.csv rows of contacts: the reader leaves them out without a finding, so they are not valid records."""
    if "roles.csv" not in files:
        return {}
    role = pc.utf8_lower(files["roles.csv"].column("role"))
    return {"roles.csv": int(pc.sum(pc.is_in(role, pa.array(["parent", "guardian", "relative"]))).as_py() or 0)}


def defect_kinds(version: str) -> DefectKinds:
    """The defect kinds of a OneRoster 1.1 or 1.2 bulk package."""
    users: tuple[DefectKind, ...] = (
        DefectKind("RequiredValueMissing", "error", "username", _guardian_copies("usr-nousername", username="")),
        DefectKind("InvalidUsername", "error", "username", _guardian_copies("usr-badusername", username=fresh("jdoe"))),
        DefectKind("DuplicateSourcedId", "error", "sourcedId", _guardian_copies("usr-dupid", keep_id=True, at_end=True)),
        DefectKind("DuplicateUsername", "error", "username",
                   _guardian_copies("usr-dupname", at_end=True, username=lambda c: pc.utf8_upper(c.column("username")))),
        DefectKind("InvalidEmail", "warning", "email", _guardian_copies("usr-bademail", email="not-an-email@")),
        DefectKind("InvalidPhone", "warning", "phone", _guardian_copies("usr-badphone", phone="555-0100")),
        DefectKind("InvalidBoolean", "warning", "enabledUser", _guardian_copies("usr-badenabled", enabledUser="yes")),
        DefectKind("InvalidUserIds", "warning", "userIds", _guardian_copies("usr-baduserids", userIds="LDAP:12")),
        DefectKind("StatusInBulkFile", "warning", "status", _guardian_copies("usr-status", status="active")),
        # The user is valid; the relationship its agentSourcedIds make is dropped.
        DefectKind("ReferenceNotFound", "error", "agentSourcedIds",
                   _student_copies("usr-noagent", agentSourcedIds=missing("usr")), keeps_record=True),
        DefectKind("SelfRelationship", "error", "agentSourcedIds", _student_listing_itself, keeps_record=True),
        DefectKind("ContactMissingData", "error", "agentSourcedIds", _student_with_contact_without_email, keeps_record=True),
        DefectKind("LineUnterminatedQuote", "error", None,
                   broken_lines("open-quote", "usr-openquote", rows=OneRosterPlanter.guardian_rows)),
        DefectKind("LineFieldCount", "error", None, broken_lines("long", "usr-long", rows=OneRosterPlanter.guardian_rows)),
    )
    if version == "1.1":
        # 1.1 users.csv rows make the roles: the user is valid, the role is dropped or its grade cleared.
        users += (
            DefectKind("InvalidEnumValue", "error", "role", _student_copies("usr-badrole", role="bogusRole"), keeps_record=True),
            DefectKind("ReferenceNotFound", "error", "orgSourcedIds",
                       _student_copies("usr-noorg", orgSourcedIds=missing("org")), keeps_record=True),
            DefectKind("InvalidEnumValue", "warning", "grades", _student_copies("usr-badgrade", grades="grade13x")),
        )
    kinds: DefectKinds = {
        MANIFEST: (DefectKind("InvalidManifest", "warning", "value", _manifest_lines_for_unknown_files),),
        "orgs.csv": (
            DefectKind("RequiredValueMissing", "error", "name", copies("org-noname", rows=_school_rows, name="")),
            DefectKind("InvalidEnumValue", "error", "type", copies("org-badtype", rows=_school_rows, type="bogusType")),
            DefectKind("DuplicateSourcedId", "error", "sourcedId", copies(rows=_school_rows, at_end=True)),
            DefectKind("ReferenceNotFound", "warning", "parentSourcedId",
                       copies("org-orphan", rows=_school_rows, parentSourcedId=missing("org"))),
            DefectKind("StatusInBulkFile", "warning", "dateLastModified",
                       copies("org-modified", rows=_school_rows, dateLastModified="2025-06-30T12:00:00Z")),
            DefectKind("LineFieldCount", "error", None, broken_lines("long", "org-long", rows=_school_rows)),
        ),
        "academicSessions.csv": ACADEMIC_SESSION_DEFECTS,
        "courses.csv": (
            DefectKind("RequiredValueMissing", "error", "title", copies("crs-notitle", title="")),
            DefectKind("ReferenceNotFound", "error", "orgSourcedId", copies("crs-noorg", orgSourcedId=missing("org"))),
            DefectKind("ReferenceNotFound", "warning", "schoolYearSourcedId",
                       copies("crs-noyear", schoolYearSourcedId=missing("session"))),
            # Free-text subjects, as OneRoster producers send them, are not RefAcademicSubject codes.
            DefectKind("InvalidEnumValue", "warning", "subjects", copies("crs-badsubject", subjects="chemistry")),
            DefectKind("InvalidEnumValue", "warning", "grades", copies("crs-badgrade", grades="grade13x")),
        ),
        "users.csv": users,
    }
    if version == "1.2":
        kinds["roles.csv"] = (
            DefectKind("ReferenceNotFound", "error", "userSourcedId",
                       copies("rol-nouser", rows=OneRosterPlanter.member_rows, userSourcedId=missing("usr"))),
            DefectKind("ReferenceNotFound", "error", "orgSourcedId",
                       copies("rol-noorg", rows=OneRosterPlanter.member_rows, orgSourcedId=missing("org"))),
            DefectKind("ReferenceDropped", "error", "userSourcedId", _role_of_dropped_user),
            DefectKind("InvalidEnumValue", "error", "role",
                       copies("rol-badrole", rows=OneRosterPlanter.member_rows, role="bogusRole")),
            DefectKind("InvalidEnumValue", "warning", "roleType", district_role("roleType", "tertiary")),
            DefectKind("InvalidDate", "warning", "beginDate", district_role("beginDate", "9/1/2025")),
            DefectKind("InvalidEnumValue", "warning", "grades", _role_of_user_with_bad_grade),
            DefectKind("DuplicateRecord", "warning", None, copies(rows=OneRosterPlanter.member_rows, at_end=True)),
        )
    kinds |= {
        "classes.csv": (
            DefectKind("RequiredValueMissing", "error", "title", copies("cls-notitle", title="")),
            DefectKind("ReferenceNotFound", "error", "schoolSourcedId", copies("cls-noorg", schoolSourcedId=missing("org"))),
            DefectKind("ReferenceNotFound", "warning", "courseSourcedId", copies("cls-nocourse", courseSourcedId=missing("course"))),
            DefectKind("ReferenceNotFound", "warning", "termSourcedIds", copies("cls-nosession", termSourcedIds=missing("session"))),
            DefectKind("DuplicateSourcedId", "error", "sourcedId", copies(at_end=True)),
        ),
        "enrollments.csv": (
            DefectKind("ReferenceNotFound", "error", "classSourcedId", copies("enr-nocls", classSourcedId=missing("cls"))),
            DefectKind("ReferenceNotFound", "error", "userSourcedId", copies("enr-nousr", userSourcedId=missing("usr"))),
            DefectKind("InvalidEnumValue", "error", "role", copies("enr-badrole", role="bogusRole")),
            DefectKind("DuplicateRecord", "warning", None, copies(at_end=True)),
            DefectKind("RequiredValueMissing", "error", "userSourcedId", copies("enr-nouser", userSourcedId="")),
            DefectKind("ReferenceDropped", "error", "classSourcedId", _enrollment_in_dropped_class),
            # No clean enrollment has the role aide or proctor, so these keys are fresh.
            DefectKind("InvalidBoolean", "warning", "primary", copies("enr-badprimary", role="aide", primary="yes")),
            DefectKind("InvalidDate", "warning", "beginDate", copies("enr-baddate", role="proctor", beginDate="9/1/2025")),
            DefectKind("LineFieldCount", "error", None, broken_lines("long", "enr-long")),
        ),
        "demographics.csv": (
            DefectKind("InvalidEnumValue", "warning", "sex", _demographics_of_user_without("sex", "other")),
            DefectKind("InvalidDate", "warning", "birthDate", _demographics_of_user_without("birthDate", "2010-13-45")),
            DefectKind("InvalidBoolean", "warning", "white", _demographics_of_user_without("white", "yes")),
            DefectKind("ReferenceNotFound", "error", "sourcedId", copies(sourcedId=missing("usr"))),
            DefectKind("DuplicateRecord", "warning", None, copies(at_end=True)),
        ),
    }
    return kinds


_NOTES = (
    "Not in OneRoster, so not planted: program flags (no userFlags file) and roles' sessions; raceCodes "
    "are booleans (`InvalidBoolean` instead of an unknown code); `LineBreakInValue` is not a defect (RFC 4180 "
    "allows line breaks in quoted values). Specific to OneRoster: the manifest, `status` and "
    "`dateLastModified` in a bulk file, `enabledUser`, `userIds`, enrollments' `primary` and dates, "
    "relationships made by `agentSourcedIds` (the user stays)."
)
_NOTES_V11 = _NOTES + " In 1.1 users.csv rows also make the roles (a bad role or org drops the role, not the user)."
_NOTES_V12 = _NOTES + " In 1.2 roles.csv has `roleType` and dates; a role's grade is the user's first grade."

ONEROSTER_V11 = PackageFormat("oneroster-1.1", lambda district: clean_files(district, "1.1"), defect_kinds("1.1"),
                              OneRosterPlanter, notes=_NOTES_V11)
ONEROSTER_V12 = PackageFormat("oneroster-1.2", lambda district: clean_files(district, "1.2"), defect_kinds("1.2"),
                              OneRosterPlanter, not_carried=contact_roles, notes=_NOTES_V12)
