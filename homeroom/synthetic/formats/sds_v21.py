"""SDS v2.1 CSV: the clean district's own ten files, and their defect kinds.

The district is built in SDS v2.1's shape (``homeroom.synthetic.district``), so the files are its
tables as they are. Three kinds are bundles: a role of a user who is dropped for a blank username,
an enrollment in a class dropped for a blank title (each also counts one ``RequiredValueMissing`` in
``users.csv`` or ``classes.csv``), and a relationship to a contact without email.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from homeroom.synthetic.defects import (
    district_role,
    ACADEMIC_SESSION_DEFECTS,
    DefectKind,
    DefectKinds,
    ExpectedFinding,
    Plant,
    Planter,
    copies,
    fresh,
    ids,
    missing,
    missing_ids,
    raw_lines,
)
from homeroom.synthetic.district import DISTRICT_ID, District, constant, numbered, pick
from homeroom.synthetic.formats.base import PackageFormat

#: Roles given to defect roles rows at the district once a pool user has been used with their own
#: role: none of them is a role of any clean record, so (user, district, role) stays a fresh key.
_SPARE_ORG_ROLES = (
    "substitute", "proctor", "lecturer", "researcher", "instructor", "staff", "faculty", "teacherAssistant", "assistant",
)
#: Valid enrollment roles cycled through by enrollments with a blank user, keeping (class, "", role) distinct.
_SECTION_ROLES = (
    "student", "teacher", "aide", "teacherAssistant", "substitute", "proctor", "specialServices", "paraprofessional",
    "administrator", "principal", "coach", "advisor", "staff", "assistant", "instructor", "officeStaff",
)


def clean_files(district: District) -> dict[str, pa.Table]:
    """The ten SDS v2.1 files: the district's tables, in dependency order."""
    return district.tables


class SdsV21Planter(Planter):
    """A planter with pools of users for defects that need a distinct clean user each."""

    def __init__(self, district: District, files: dict[str, pa.Table], rng: np.random.Generator):
        super().__init__(district, files, rng)
        # Pools are walked once, so every defect row that needs a user of its own gets a distinct one.
        self._org_role_pool = rng.permutation(district.students + district.staff)  # their roles rows
        self._org_role_used = 0
        self._no_demographics_pool = district.students + rng.permutation(district.staff + district.guardians)
        self._no_demographics_used = 0

    def district_roles(self, n: int) -> pa.Table:
        """Valid roles rows of distinct clean users at the district org, where no clean role is.

        Each pool user gets their own role again (student, teacher, ...); only a tiny district runs
        out of pool users, and then the pool is walked again with roles that no clean record has.
        """
        k = self._org_role_used + np.arange(n)
        self._org_role_used += n
        pool = len(self._org_role_pool)
        lap = k // pool
        table = self.copies("roles.csv", self._org_role_pool[k % pool], orgSourcedId=DISTRICT_ID, isPrimary="false")
        if lap.max(initial=0) > 0:
            role = pc.if_else(pa.array(lap > 0), pick(("", *_SPARE_ORG_ROLES), lap), table.column("role"))
            table = table.set_column(table.schema.get_field_index("role"), "role", role)
        return table

    def users_without_demographics(self, n: int) -> pa.Array:
        """sourcedIds of ``n`` distinct staff members and guardians (who have no demographics row)."""
        k = self._no_demographics_used + np.arange(n)
        self._no_demographics_used += n
        return self.user_ids(self._no_demographics_pool[k % len(self._no_demographics_pool)])

    def distinct_students(self, n: int) -> pa.Array:
        """sourcedIds of ``n`` distinct students (they repeat only if n exceeds the students)."""
        return self.user_ids(self.rng.permutation(self.district.students)[np.arange(n) % self.district.students])

    def user_ids(self, rows: np.ndarray) -> pa.Array:
        """sourcedIds of the clean users at these users.csv rows."""
        return self.clean("users.csv").column("sourcedId").take(pa.array(rows, pa.int64())).combine_chunks()


def _user_copies(tag: str, *, keep_id: bool = False, at_end: bool = False, **overrides) -> Plant:
    """Plant copies of clean users with fresh usernames and emails, and fresh sourcedIds unless ``keep_id``."""
    fresh_contact = {"username": fresh(tag, "@example.edu"), "email": fresh(tag, "@example.com")}
    return copies(None if keep_id else tag, at_end=at_end, **{**fresh_contact, **overrides})


def _school_rows(planter: Planter, file: str, n: int) -> np.ndarray:
    """Random orgs.csv rows of schools (row 0 is the district)."""
    schools = planter.district.schools
    return 1 + planter.rng.choice(schools, size=n, replace=n > schools)


# --- bundles and defects that need distinct keys ------------------------------------------------------

def _role_of_dropped_user(planter: SdsV21Planter, finding: ExpectedFinding, n: int) -> None:
    """A role of a new user who is dropped for a blank username (that user is a users.csv finding too)."""
    users = planter.copies(
        "users.csv", planter.rows("users.csv", n),
        sourcedId=fresh("usr-dropped"), username="", email=fresh("usr-dropped", "@example.com"),
    )
    planter.insert(ExpectedFinding("users.csv", "RequiredValueMissing", "error", "username"), users)
    dropped = users.column("sourcedId").combine_chunks()
    planter.insert(finding, planter.copies(finding.file, planter.rows(finding.file, n), userSourcedId=lambda _: dropped))


def _enrollment_without_user(planter: SdsV21Planter, finding: ExpectedFinding, n: int) -> None:
    """Enrollments with a blank user; class and role vary so that no two share a key."""
    classes = planter.clean("classes.csv").column("sourcedId")
    k = np.arange(n)
    order = planter.rng.permutation(len(classes))
    planter.insert(finding, pa.table({
        "classSourcedId": classes.take(pa.array(order[k % len(classes)])),
        "userSourcedId": constant("", n),
        "role": pick(_SECTION_ROLES, (k // len(classes)) % len(_SECTION_ROLES)),
    }))


def _enrollment_in_dropped_class(planter: SdsV21Planter, finding: ExpectedFinding, n: int) -> None:
    """An enrollment in a new class that is dropped for a blank title (that class is a classes.csv finding too)."""
    classes = planter.copies("classes.csv", planter.rows("classes.csv", n), sourcedId=fresh("cls-dropped"), title="")
    planter.insert(ExpectedFinding("classes.csv", "RequiredValueMissing", "error", "title"), classes)
    dropped = classes.column("sourcedId").combine_chunks()
    planter.insert(finding, planter.copies(finding.file, planter.rows(finding.file, n), classSourcedId=lambda _: dropped))


def _demographics_of_user_without(column: str, value: str) -> Plant:
    """Demographics, with one bad value, of distinct staff members or guardians (who have none)."""

    def plant(planter: SdsV21Planter, finding: ExpectedFinding, n: int) -> None:
        users = planter.users_without_demographics(n)
        planter.insert(finding, planter.copies(
            finding.file, planter.rows(finding.file, n), userSourcedId=lambda _: users, **{column: value}
        ))

    return plant


def _flag_with_bad_code(planter: SdsV21Planter, finding: ExpectedFinding, n: int) -> None:
    users = planter.user_ids(planter.rows("users.csv", n))
    planter.insert(finding, pa.table({"userSourcedId": users, "flag": constant("bogusFlag", n)}))


def _flag_of_unknown_user(planter: SdsV21Planter, finding: ExpectedFinding, n: int) -> None:
    # Built from scratch: a small district may have no clean flag to copy.
    planter.insert(finding, pa.table({"userSourcedId": missing_ids("usr", n), "flag": constant("iep", n)}))


def _relationship_with_bad_role(planter: SdsV21Planter, finding: ExpectedFinding, n: int) -> None:
    """Student-to-staff pairs: they never occur in clean data, so the keys are fresh."""
    district = planter.district
    k = np.arange(n)
    students = planter.rng.permutation(district.students)[k % district.students]
    staff = district.students + planter.rng.permutation(district.staff)[(k // district.students) % district.staff]
    planter.insert(finding, pa.table({
        "userSourcedId": planter.user_ids(students),
        "relationshipUserSourcedId": planter.user_ids(staff),
        "relationshipRole": constant("bogusRole", n),
    }))


def _relationship_to_contact_without_email(planter: SdsV21Planter, finding: ExpectedFinding, n: int) -> None:
    """A relationship to a new, valid contact user who has names but no email."""
    district = planter.district
    guardian_rows = district.students + district.staff + planter.rng.choice(district.guardians, size=n)
    contacts = planter.copies(
        "users.csv", guardian_rows, sourcedId=fresh("usr-noemail"), username=fresh("usr-noemail", "@example.edu"),
        email="", phone="", sms="",
    )
    planter.insert_valid("users.csv", contacts)
    planter.insert(finding, pa.table({
        "userSourcedId": planter.distinct_students(n),
        "relationshipUserSourcedId": contacts.column("sourcedId").combine_chunks(),
        "relationshipRole": constant("guardian", n),
    }))


def _relationship_to_self(planter: SdsV21Planter, finding: ExpectedFinding, n: int) -> None:
    students = planter.distinct_students(n)
    planter.insert(finding, pa.table({
        "userSourcedId": students, "relationshipUserSourcedId": students, "relationshipRole": constant("parent", n),
    }))


#: Every defect kind, per file. Each defect of a kind produces exactly its one finding.
DEFECT_KINDS: DefectKinds = {
    "orgs.csv": (
        DefectKind("RequiredValueMissing", "error", "name", copies("org-noname", rows=_school_rows, name="")),
        DefectKind("InvalidEnumValue", "error", "type", copies("org-badtype", rows=_school_rows, type="bogusType")),
        DefectKind("DuplicateSourcedId", "error", "sourcedId", copies(rows=_school_rows, at_end=True)),
        DefectKind("ReferenceNotFound", "warning", "parentSourcedId",
                   copies("org-orphan", rows=_school_rows, parentSourcedId=missing("org"))),
        DefectKind("LineFieldCount", "error", None, raw_lines(ids("org-short"), "Only Two")),
    ),
    "academicSessions.csv": ACADEMIC_SESSION_DEFECTS,
    "courses.csv": (
        DefectKind("RequiredValueMissing", "error", "title", copies("crs-notitle", title="")),
        DefectKind("ReferenceNotFound", "error", "orgSourcedId", copies("crs-noorg", orgSourcedId=missing("org"))),
        DefectKind("ReferenceNotFound", "warning", "schoolYearSourcedId",
                   copies("crs-noyear", schoolYearSourcedId=missing("session"))),
        DefectKind("InvalidEnumValue", "warning", "subject", copies("crs-badsubject", subject="99")),
        DefectKind("InvalidEnumValue", "warning", "grade", copies("crs-badgrade", grade="grade13x")),
    ),
    "users.csv": (
        DefectKind("RequiredValueMissing", "error", "username", _user_copies("usr-nousername", username="")),
        DefectKind("InvalidUsername", "error", "username",
                   _user_copies("usr-badusername", username=lambda c: numbered("jdoe", np.arange(1, c.num_rows + 1)))),
        DefectKind("DuplicateSourcedId", "error", "sourcedId", _user_copies("usr-dupid", keep_id=True, at_end=True)),
        DefectKind("DuplicateUsername", "error", "username",
                   _user_copies("usr-dupname", at_end=True, username=lambda c: pc.utf8_upper(c.column("username")))),
        DefectKind("InvalidEmail", "warning", "email", _user_copies("usr-bademail", email="not-an-email@")),
        DefectKind("InvalidPhone", "warning", "phone", _user_copies("usr-badphone", phone="555-0100")),
        # Ten complete fields come before the open quote, so joined with any later line the record has
        # more fields than the header: the validator cannot take it for a value with a line break.
        DefectKind("LineUnterminatedQuote", "error", None, raw_lines(
            ids("usr-openquote"), ids("usr-openquote", "@example.edu"), "Broken", "Quote", "", "", "", "", "", "",
            '"unterminated',
        )),
        # A complete, otherwise valid user whose quoted givenName holds a line break: two lines, one record.
        DefectKind("LineBreakInValue", "error", None, raw_lines(
            ids("usr-linebreak"), ids("usr-linebreak", "@example.edu"), '"Mary\nAnn"', "Walker", "", "",
            ids("usr-linebreak", "@example.com"), "", "",
        )),
        DefectKind("LineFieldCount", "error", None, raw_lines(
            ids("usr-longline"), ids("usr-longline", "@example.edu"), "Too", "Many", "", "",
            ids("usr-longline", "@example.com"), "", "", "extra", "fields",
        )),
    ),
    "roles.csv": (
        DefectKind("ReferenceNotFound", "error", "userSourcedId", copies(userSourcedId=missing("usr"))),
        DefectKind("ReferenceDropped", "error", "userSourcedId", _role_of_dropped_user),
        DefectKind("InvalidEnumValue", "error", "role", district_role("role", "bogusRole")),
        DefectKind("InvalidEnumValue", "warning", "grade", district_role("grade", "grade13x")),
        DefectKind("InvalidBoolean", "warning", "isPrimary", district_role("isPrimary", "yes")),
        DefectKind("InvalidDate", "warning", "roleStartDate", district_role("roleStartDate", "9/1/2025")),
        DefectKind("DuplicateRecord", "warning", None, copies(at_end=True)),
        DefectKind("ReferenceNotFound", "warning", "sessionSourcedId", district_role("sessionSourcedId", "missing-session-1")),
    ),
    "classes.csv": (
        DefectKind("RequiredValueMissing", "error", "title", copies("cls-notitle", title="")),
        DefectKind("ReferenceNotFound", "error", "orgSourcedId", copies("cls-noorg", orgSourcedId=missing("org"))),
        DefectKind("ReferenceNotFound", "warning", "courseSourcedId", copies("cls-nocourse", courseSourcedId=missing("course"))),
        DefectKind("ReferenceNotFound", "warning", "sessionSourcedIds",
                   copies("cls-nosession", sessionSourcedIds=missing("session"))),
        DefectKind("DuplicateSourcedId", "error", "sourcedId", copies(at_end=True)),
    ),
    "enrollments.csv": (
        DefectKind("ReferenceNotFound", "error", "classSourcedId", copies(classSourcedId=missing("cls"))),
        DefectKind("ReferenceNotFound", "error", "userSourcedId", copies(userSourcedId=missing("usr"))),
        # Distinct clean rows have distinct (class, user), so (class, user, bogusRole) keys are distinct too.
        DefectKind("InvalidEnumValue", "error", "role", copies(role="bogusRole")),
        DefectKind("DuplicateRecord", "warning", None, copies(at_end=True)),
        DefectKind("RequiredValueMissing", "error", "userSourcedId", _enrollment_without_user),
        DefectKind("ReferenceDropped", "error", "classSourcedId", _enrollment_in_dropped_class),
        DefectKind("LineFieldCount", "error", None, raw_lines(ids("enr-short"), "only-two-fields")),
    ),
    "demographics.csv": (
        DefectKind("InvalidEnumValue", "warning", "sex", _demographics_of_user_without("sex", "bogusSex")),
        DefectKind("InvalidDate", "warning", "birthDate", _demographics_of_user_without("birthDate", "13/45/2010")),
        DefectKind("InvalidEnumValue", "warning", "raceCodes", _demographics_of_user_without("raceCodes", "martian")),
        DefectKind("ReferenceNotFound", "error", "userSourcedId", copies(userSourcedId=missing("usr"))),
        DefectKind("DuplicateRecord", "warning", None, copies(at_end=True)),
    ),
    "userFlags.csv": (
        DefectKind("InvalidEnumValue", "error", "flag", _flag_with_bad_code),
        DefectKind("ReferenceNotFound", "error", "userSourcedId", _flag_of_unknown_user),
    ),
    "relationships.csv": (
        DefectKind("InvalidEnumValue", "error", "relationshipRole", _relationship_with_bad_role),
        DefectKind("ReferenceNotFound", "error", "relationshipUserSourcedId",
                   copies(relationshipUserSourcedId=missing("usr"))),
        DefectKind("ContactMissingData", "error", "relationshipUserSourcedId", _relationship_to_contact_without_email),
        DefectKind("SelfRelationship", "error", "relationshipUserSourcedId", _relationship_to_self),
    ),
}


def defect_kinds() -> DefectKinds:
    """The defect kinds of SDS v2.1 files."""
    return DEFECT_KINDS


SDS_V21 = PackageFormat(
    "sds-v2.1",
    clean_files,
    defect_kinds(),
    SdsV21Planter,
    notes="The district's own ten files: every record and value of the district is written.",
)
