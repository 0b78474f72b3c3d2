"""Plant defects in a synthetic district so that the validator's findings are known in advance.

Every defect is an extra record or raw line, never a change to a clean record. Each one is built to
trip exactly one rule and nothing else:

- it has fresh ids that no other record references (except inside a *bundle*, below);
- every other value is valid, and every other reference points at a valid clean record;
- its natural key collides neither with a clean record nor with another defect row.

Duplicates (``DuplicateSourcedId``, ``DuplicateUsername``, ``DuplicateRecord``) are appended at the
end of the file, because the validator keeps the first occurrence. Other defect rows and raw lines
go to random positions among the clean rows.

Three kinds are *bundles* that also plant a record in another file: a roles row pointing at a user
that is dropped for a blank username (``ReferenceDropped``, plus that user's ``RequiredValueMissing``),
an enrollment pointing at a class dropped for a blank title (likewise), and a relationship to a
contact user without an email (``ContactMissingData``; the user itself is valid).

Per file and kind, ``max(1, round(defect_rate * clean rows / kinds in the file))`` defects are planted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from homeroom.synthetic.district import (
    DISTRICT_ID,
    SDS_HEADERS,
    District,
    constant,
    numbered,
    pick,
    random_stream,
)

MAX_DEFECT_RATE = 0.5
_PLANTING_STREAM = 1000

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


@dataclass(frozen=True)
class ExpectedFinding:
    """One (file, rule, level, field) that the validator reports; ``field`` is None for line findings and DuplicateRecord."""

    file: str
    rule: str
    level: str
    field: str | None

    def sort_key(self) -> tuple[str, str, str, str]:
        """Sort by file, then rule, then field (None first), then level."""
        return self.file, self.rule, self.field or "", self.level


@dataclass
class PlantedDefects:
    """The defect rows and raw lines planted in one file, and the findings they will produce."""

    inserted: list[pa.Table] = field(default_factory=list)  # records at random positions
    appended: list[pa.Table] = field(default_factory=list)  # records at the end (duplicates)
    raw_lines: list[pa.Array] = field(default_factory=list)  # raw text lines at random positions
    findings: Counter[ExpectedFinding] = field(default_factory=Counter)

    @property
    def inserted_rows(self) -> int:
        """How many records go to random positions."""
        return sum(t.num_rows for t in self.inserted)

    @property
    def appended_rows(self) -> int:
        """How many records go at the end."""
        return sum(t.num_rows for t in self.appended)

    @property
    def raw_line_count(self) -> int:
        """How many raw lines go to random positions (a line with a line break in a value counts once)."""
        return sum(len(a) for a in self.raw_lines)

    @property
    def records(self) -> int:
        """Records this file gains from defects."""
        return self.inserted_rows + self.appended_rows + self.raw_line_count

    @property
    def dropped(self) -> int:
        """Records the validator drops or ignores: one per error finding and per DuplicateRecord."""
        return sum(n for finding, n in self.findings.items() if finding.level == "error" or finding.rule == "DuplicateRecord")


def defect_count(defect_rate: float, clean_rows: int, kinds: int) -> int:
    """How many defects of one kind a file with ``clean_rows`` rows and ``kinds`` defect kinds gets."""
    if defect_rate <= 0:
        return 0
    return max(1, round(defect_rate * clean_rows / kinds))


class _Planter:
    """Builds defect rows from a clean district and records them, with their findings, per file."""

    def __init__(self, district: District, rng: np.random.Generator):
        self.district = district
        self.rng = rng
        self.planted = {file: PlantedDefects() for file in SDS_HEADERS}
        # Pools are walked once, so every defect row that needs a user of its own gets a distinct one.
        self._org_role_pool = rng.permutation(district.students + district.staff)  # their roles rows
        self._org_role_used = 0
        self._no_demographics_pool = district.students + rng.permutation(district.staff + district.guardians)
        self._no_demographics_used = 0

    def clean(self, file: str) -> pa.Table:
        """The clean table of a file."""
        return self.district.tables[file]

    def rows(self, file: str, n: int) -> np.ndarray:
        """``n`` random row numbers of a file's clean table, distinct while the file has enough rows."""
        available = self.clean(file).num_rows
        return self.rng.choice(available, size=n, replace=n > available)

    def copies(self, file: str, rows: np.ndarray, **overrides: Override) -> pa.Table:
        """Copies of clean rows with some columns replaced: by a constant, or by a function of the copies."""
        copied = self.clean(file).take(pa.array(rows, pa.int64()))
        table = copied
        for name, value in overrides.items():
            column = constant(value, len(rows)) if isinstance(value, str) else value(copied)
            table = table.set_column(table.schema.get_field_index(name), name, column)
        return table

    def insert(self, finding: ExpectedFinding, table: pa.Table) -> None:
        """Plant records at random positions of the finding's file; each produces the finding."""
        self.planted[finding.file].inserted.append(table)
        self.planted[finding.file].findings[finding] += table.num_rows

    def insert_valid(self, file: str, table: pa.Table) -> None:
        """Plant valid records (the other half of a bundle) at random positions."""
        self.planted[file].inserted.append(table)

    def append(self, finding: ExpectedFinding, table: pa.Table) -> None:
        """Plant records at the end of the file (duplicates: the validator keeps the first occurrence)."""
        self.planted[finding.file].appended.append(table)
        self.planted[finding.file].findings[finding] += table.num_rows

    def raw(self, finding: ExpectedFinding, lines: pa.Array) -> None:
        """Plant raw text lines at random positions."""
        self.planted[finding.file].raw_lines.append(lines)
        self.planted[finding.file].findings[finding] += len(lines)

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


#: A replacement value: a constant, or a function of the copied clean rows giving the new column.
Override = str | Callable[[pa.Table], pa.Array]
#: Plants ``n`` defects of one kind: (planter, the finding each defect produces, n).
Plant = Callable[[_Planter, ExpectedFinding, int], None]


@dataclass(frozen=True)
class DefectKind:
    """One kind of defect: the finding (rule, level, field) it produces, and how it is planted."""

    rule: str
    level: str
    field: str | None
    plant: Plant


def fresh_ids(tag: str, n: int, suffix: str = "") -> pa.Array:
    """Ids that no clean record has: ``dfx-<tag>-<k>``."""
    return numbered(f"dfx-{tag}-", np.arange(1, n + 1), suffix)


def missing_ids(tag: str, n: int) -> pa.Array:
    """References to records that exist nowhere: ``missing-<tag>-<k>``."""
    return numbered(f"missing-{tag}-", np.arange(1, n + 1))


def _fresh(tag: str, suffix: str = "") -> Callable[[pa.Table], pa.Array]:
    return lambda copied: fresh_ids(tag, copied.num_rows, suffix)


def _missing(tag: str) -> Callable[[pa.Table], pa.Array]:
    return lambda copied: missing_ids(tag, copied.num_rows)


def _copies(
    tag: str | None = None,
    *,
    at_end: bool = False,
    rows: Callable[[_Planter, str, int], np.ndarray] | None = None,
    **overrides: Override,
) -> Plant:
    """Plant copies of random clean rows of the file with the given values, and a fresh sourcedId if ``tag`` is set.

    ``at_end`` appends them (duplicates); ``rows`` chooses which clean rows are copied.
    """

    def plant(planter: _Planter, finding: ExpectedFinding, n: int) -> None:
        chosen = (rows or _Planter.rows)(planter, finding.file, n)
        values = {"sourcedId": _fresh(tag)} if tag is not None else {}
        table = planter.copies(finding.file, chosen, **{**values, **overrides})
        (planter.append if at_end else planter.insert)(finding, table)

    return plant


def _user_copies(tag: str, *, keep_id: bool = False, at_end: bool = False, **overrides: Override) -> Plant:
    """Plant copies of clean users with fresh usernames and emails, and fresh sourcedIds unless ``keep_id``."""
    fresh_contact = {"username": _fresh(tag, "@example.edu"), "email": _fresh(tag, "@example.com")}
    return _copies(None if keep_id else tag, at_end=at_end, **{**fresh_contact, **overrides})


def _school_rows(planter: _Planter, file: str, n: int) -> np.ndarray:
    """Random orgs.csv rows of schools (row 0 is the district)."""
    schools = planter.district.schools
    return 1 + planter.rng.choice(schools, size=n, replace=n > schools)


def _raw_lines(*fields: str | Callable[[int], pa.Array]) -> Plant:
    """Plant raw lines: the fields (constants, or functions of n) joined with commas, unquoted."""

    def plant(planter: _Planter, finding: ExpectedFinding, n: int) -> None:
        columns = [value if isinstance(value, str) else value(n) for value in fields]
        planter.raw(finding, pc.binary_join_element_wise(*columns, ","))

    return plant


def _ids(tag: str, suffix: str = "") -> Callable[[int], pa.Array]:
    return lambda n: fresh_ids(tag, n, suffix)


# --- bundles and defects that need distinct keys ------------------------------------------------------

def _role_of_dropped_user(planter: _Planter, finding: ExpectedFinding, n: int) -> None:
    """A role of a new user who is dropped for a blank username (that user is a users.csv finding too)."""
    users = planter.copies(
        "users.csv", planter.rows("users.csv", n),
        sourcedId=_fresh("usr-dropped"), username="", email=_fresh("usr-dropped", "@example.com"),
    )
    planter.insert(ExpectedFinding("users.csv", "RequiredValueMissing", "error", "username"), users)
    dropped = users.column("sourcedId").combine_chunks()
    planter.insert(finding, planter.copies(finding.file, planter.rows(finding.file, n), userSourcedId=lambda _: dropped))


def _district_role(column: str, value: str) -> Plant:
    """A role at the district org (a fresh key) of a distinct clean user, with one bad value."""

    def plant(planter: _Planter, finding: ExpectedFinding, n: int) -> None:
        table = planter.district_roles(n)
        planter.insert(finding, table.set_column(table.schema.get_field_index(column), column, constant(value, n)))

    return plant


def _enrollment_without_user(planter: _Planter, finding: ExpectedFinding, n: int) -> None:
    """Enrollments with a blank user; class and role vary so that no two share a key."""
    classes = planter.clean("classes.csv").column("sourcedId")
    k = np.arange(n)
    order = planter.rng.permutation(len(classes))
    planter.insert(finding, pa.table({
        "classSourcedId": classes.take(pa.array(order[k % len(classes)])),
        "userSourcedId": constant("", n),
        "role": pick(_SECTION_ROLES, (k // len(classes)) % len(_SECTION_ROLES)),
    }))


def _enrollment_in_dropped_class(planter: _Planter, finding: ExpectedFinding, n: int) -> None:
    """An enrollment in a new class that is dropped for a blank title (that class is a classes.csv finding too)."""
    classes = planter.copies("classes.csv", planter.rows("classes.csv", n), sourcedId=_fresh("cls-dropped"), title="")
    planter.insert(ExpectedFinding("classes.csv", "RequiredValueMissing", "error", "title"), classes)
    dropped = classes.column("sourcedId").combine_chunks()
    planter.insert(finding, planter.copies(finding.file, planter.rows(finding.file, n), classSourcedId=lambda _: dropped))


def _demographics_of_user_without(column: str, value: str) -> Plant:
    """Demographics, with one bad value, of distinct staff members or guardians (who have none)."""

    def plant(planter: _Planter, finding: ExpectedFinding, n: int) -> None:
        users = planter.users_without_demographics(n)
        planter.insert(finding, planter.copies(
            finding.file, planter.rows(finding.file, n), userSourcedId=lambda _: users, **{column: value}
        ))

    return plant


def _flag_with_bad_code(planter: _Planter, finding: ExpectedFinding, n: int) -> None:
    users = planter.user_ids(planter.rows("users.csv", n))
    planter.insert(finding, pa.table({"userSourcedId": users, "flag": constant("bogusFlag", n)}))


def _flag_of_unknown_user(planter: _Planter, finding: ExpectedFinding, n: int) -> None:
    # Built from scratch: a small district may have no clean flag to copy.
    planter.insert(finding, pa.table({"userSourcedId": missing_ids("usr", n), "flag": constant("iep", n)}))


def _relationship_with_bad_role(planter: _Planter, finding: ExpectedFinding, n: int) -> None:
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


def _relationship_to_contact_without_email(planter: _Planter, finding: ExpectedFinding, n: int) -> None:
    """A relationship to a new, valid contact user who has names but no email."""
    district = planter.district
    guardian_rows = district.students + district.staff + planter.rng.choice(district.guardians, size=n)
    contacts = planter.copies(
        "users.csv", guardian_rows, sourcedId=_fresh("usr-noemail"), username=_fresh("usr-noemail", "@example.edu"),
        email="", phone="", sms="",
    )
    planter.insert_valid("users.csv", contacts)
    planter.insert(finding, pa.table({
        "userSourcedId": planter.distinct_students(n),
        "relationshipUserSourcedId": contacts.column("sourcedId").combine_chunks(),
        "relationshipRole": constant("guardian", n),
    }))


def _relationship_to_self(planter: _Planter, finding: ExpectedFinding, n: int) -> None:
    students = planter.distinct_students(n)
    planter.insert(finding, pa.table({
        "userSourcedId": students, "relationshipUserSourcedId": students, "relationshipRole": constant("parent", n),
    }))


#: Every defect kind, per file. Each defect of a kind produces exactly its one finding.
DEFECT_KINDS: dict[str, tuple[DefectKind, ...]] = {
    "orgs.csv": (
        DefectKind("RequiredValueMissing", "error", "name", _copies("org-noname", rows=_school_rows, name="")),
        DefectKind("InvalidEnumValue", "error", "type", _copies("org-badtype", rows=_school_rows, type="bogusType")),
        DefectKind("DuplicateSourcedId", "error", "sourcedId", _copies(rows=_school_rows, at_end=True)),
        DefectKind("ReferenceNotFound", "warning", "parentSourcedId",
                   _copies("org-orphan", rows=_school_rows, parentSourcedId=_missing("org"))),
        DefectKind("LineFieldCount", "error", None, _raw_lines(_ids("org-short"), "Only Two")),
    ),
    "academicSessions.csv": (
        DefectKind("InvalidDate", "error", "startDate",
                   _copies("session-baddate", startDate=lambda copied: pick(("2025-13-45", "08/01/2025"), np.arange(copied.num_rows) % 2))),
        DefectKind("InvalidEnumValue", "error", "type", _copies("session-badtype", type="bogusSession")),
        DefectKind("InvalidYear", "error", "schoolYear", _copies("session-badyear", schoolYear="25-26")),
        # Both dates valid, but swapped: the record ends before it starts.
        DefectKind("InvalidDateRange", "error", "endDate",
                   _copies("session-backwards", startDate=lambda c: c.column("endDate"), endDate=lambda c: c.column("startDate"))),
    ),
    "courses.csv": (
        DefectKind("RequiredValueMissing", "error", "title", _copies("crs-notitle", title="")),
        DefectKind("ReferenceNotFound", "error", "orgSourcedId", _copies("crs-noorg", orgSourcedId=_missing("org"))),
        DefectKind("ReferenceNotFound", "warning", "schoolYearSourcedId",
                   _copies("crs-noyear", schoolYearSourcedId=_missing("session"))),
        DefectKind("InvalidEnumValue", "warning", "subject", _copies("crs-badsubject", subject="99")),
        DefectKind("InvalidEnumValue", "warning", "grade", _copies("crs-badgrade", grade="grade13x")),
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
        DefectKind("LineUnterminatedQuote", "error", None, _raw_lines(
            _ids("usr-openquote"), _ids("usr-openquote", "@example.edu"), "Broken", "Quote", "", "", "", "", "", "",
            '"unterminated',
        )),
        # A complete, otherwise valid user whose quoted givenName holds a line break: two lines, one record.
        DefectKind("LineBreakInValue", "error", None, _raw_lines(
            _ids("usr-linebreak"), _ids("usr-linebreak", "@example.edu"), '"Mary\nAnn"', "Walker", "", "",
            _ids("usr-linebreak", "@example.com"), "", "",
        )),
        DefectKind("LineFieldCount", "error", None, _raw_lines(
            _ids("usr-longline"), _ids("usr-longline", "@example.edu"), "Too", "Many", "", "",
            _ids("usr-longline", "@example.com"), "", "", "extra", "fields",
        )),
    ),
    "roles.csv": (
        DefectKind("ReferenceNotFound", "error", "userSourcedId", _copies(userSourcedId=_missing("usr"))),
        DefectKind("ReferenceDropped", "error", "userSourcedId", _role_of_dropped_user),
        DefectKind("InvalidEnumValue", "error", "role", _district_role("role", "bogusRole")),
        DefectKind("InvalidEnumValue", "warning", "grade", _district_role("grade", "grade13x")),
        DefectKind("InvalidBoolean", "warning", "isPrimary", _district_role("isPrimary", "yes")),
        DefectKind("InvalidDate", "warning", "roleStartDate", _district_role("roleStartDate", "9/1/2025")),
        DefectKind("DuplicateRecord", "warning", None, _copies(at_end=True)),
        DefectKind("ReferenceNotFound", "warning", "sessionSourcedId", _district_role("sessionSourcedId", "missing-session-1")),
    ),
    "classes.csv": (
        DefectKind("RequiredValueMissing", "error", "title", _copies("cls-notitle", title="")),
        DefectKind("ReferenceNotFound", "error", "orgSourcedId", _copies("cls-noorg", orgSourcedId=_missing("org"))),
        DefectKind("ReferenceNotFound", "warning", "courseSourcedId", _copies("cls-nocourse", courseSourcedId=_missing("course"))),
        DefectKind("ReferenceNotFound", "warning", "sessionSourcedIds",
                   _copies("cls-nosession", sessionSourcedIds=_missing("session"))),
        DefectKind("DuplicateSourcedId", "error", "sourcedId", _copies(at_end=True)),
    ),
    "enrollments.csv": (
        DefectKind("ReferenceNotFound", "error", "classSourcedId", _copies(classSourcedId=_missing("cls"))),
        DefectKind("ReferenceNotFound", "error", "userSourcedId", _copies(userSourcedId=_missing("usr"))),
        # Distinct clean rows have distinct (class, user), so (class, user, bogusRole) keys are distinct too.
        DefectKind("InvalidEnumValue", "error", "role", _copies(role="bogusRole")),
        DefectKind("DuplicateRecord", "warning", None, _copies(at_end=True)),
        DefectKind("RequiredValueMissing", "error", "userSourcedId", _enrollment_without_user),
        DefectKind("ReferenceDropped", "error", "classSourcedId", _enrollment_in_dropped_class),
        DefectKind("LineFieldCount", "error", None, _raw_lines(_ids("enr-short"), "only-two-fields")),
    ),
    "demographics.csv": (
        DefectKind("InvalidEnumValue", "warning", "sex", _demographics_of_user_without("sex", "bogusSex")),
        DefectKind("InvalidDate", "warning", "birthDate", _demographics_of_user_without("birthDate", "13/45/2010")),
        DefectKind("InvalidEnumValue", "warning", "raceCodes", _demographics_of_user_without("raceCodes", "martian")),
        DefectKind("ReferenceNotFound", "error", "userSourcedId", _copies(userSourcedId=_missing("usr"))),
        DefectKind("DuplicateRecord", "warning", None, _copies(at_end=True)),
    ),
    "userFlags.csv": (
        DefectKind("InvalidEnumValue", "error", "flag", _flag_with_bad_code),
        DefectKind("ReferenceNotFound", "error", "userSourcedId", _flag_of_unknown_user),
    ),
    "relationships.csv": (
        DefectKind("InvalidEnumValue", "error", "relationshipRole", _relationship_with_bad_role),
        DefectKind("ReferenceNotFound", "error", "relationshipUserSourcedId",
                   _copies(relationshipUserSourcedId=_missing("usr"))),
        DefectKind("ContactMissingData", "error", "relationshipUserSourcedId", _relationship_to_contact_without_email),
        DefectKind("SelfRelationship", "error", "relationshipUserSourcedId", _relationship_to_self),
    ),
}


def plant_defects(district: District, defect_rate: float, seed: int) -> dict[str, PlantedDefects]:
    """The defects of every file (none when ``defect_rate`` is 0); the district's clean tables are not changed."""
    if not 0 <= defect_rate <= MAX_DEFECT_RATE:
        raise ValueError(f"defect rate must be between 0 and {MAX_DEFECT_RATE}, not {defect_rate}")
    planter = _Planter(district, random_stream(seed, _PLANTING_STREAM))
    for file, kinds in DEFECT_KINDS.items():
        n = defect_count(defect_rate, district.tables[file].num_rows, len(kinds))
        if n == 0:
            continue
        for kind in kinds:
            kind.plant(planter, ExpectedFinding(file, kind.rule, kind.level, kind.field), n)
    return planter.planted


def defects_markdown() -> str:
    """The table of planted defect kinds for docs/generator.md, generated from ``DEFECT_KINDS``."""
    lines = ["| file | rule | level | field |", "|---|---|---|---|"]
    for file, kinds in DEFECT_KINDS.items():
        for kind in kinds:
            lines.append(f"| `{file}` | `{kind.rule}` | {kind.level} | {f'`{kind.field}`' if kind.field else '(line)' if kind.rule.startswith('Line') else ''} |")
    return "\n".join(lines) + "\n"
