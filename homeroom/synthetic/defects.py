"""Plant defects in a synthetic package so that the validator's findings are known in advance.

This module is the planting machinery every format shares; each format's defect kinds live with
its writer (``homeroom.synthetic.formats.<name>``). Every defect is an extra record or raw line,
never a change to a clean record. Each one is built to trip exactly one rule and nothing else:

- it has fresh ids that no other record references (except inside a *bundle*, below);
- every other value is valid, and every other reference points at a valid clean record;
- its natural key collides neither with a clean record nor with another defect row.

Duplicates (``DuplicateSourcedId``, ``DuplicateUsername``, ``DuplicateRecord``) are appended at the
end of the file, because the validator keeps the first occurrence. Other defect rows and raw lines
go to random positions among the clean rows.

A *bundle* also plants a record in another file: a row pointing at a record that is itself dropped
(``ReferenceDropped``, plus that record's own finding), or a relationship to a valid contact that
lacks what a contact needs (``ContactMissingData``).

Per file and kind, ``max(1, round(defect_rate * clean rows / kinds in the file))`` defects are planted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from homeroom.synthetic.csv_lines import render_lines
from homeroom.synthetic.district import District, constant, numbered, pick, random_stream

MAX_DEFECT_RATE = 0.5
_PLANTING_STREAM = 1000


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

    @property
    def drops_record(self) -> bool:
        """Whether the finding normally drops the record it is on: errors, and ignored duplicates."""
        return self.level == "error" or self.rule == "DuplicateRecord"


@dataclass
class PlantedDefects:
    """The defect rows and raw lines planted in one file, and the findings they will produce."""

    inserted: list[pa.Table] = field(default_factory=list)  # records at random positions
    appended: list[pa.Table] = field(default_factory=list)  # records at the end (duplicates)
    raw_lines: list[pa.Array] = field(default_factory=list)  # raw text lines at random positions
    findings: Counter[ExpectedFinding] = field(default_factory=Counter)
    #: Records of this file that the validator drops or ignores (see ``DefectKind.keeps_record``).
    dropped: int = 0

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


def defect_count(defect_rate: float, clean_rows: int, kinds: int) -> int:
    """How many defects of one kind a file with ``clean_rows`` rows and ``kinds`` defect kinds gets."""
    if defect_rate <= 0:
        return 0
    return max(1, round(defect_rate * clean_rows / kinds))


class Planter:
    """Builds defect rows from a package's clean files and records them, with their findings, per file.

    Formats subclass it to add what their defect kinds need (pools of users to draw from, ...).
    """

    def __init__(self, district: District, files: dict[str, pa.Table], rng: np.random.Generator):
        self.district = district
        self.files = files
        self.rng = rng
        self.planted = {file: PlantedDefects() for file in files}
        #: Findings that leave the record they are on in place (set from ``DefectKind.keeps_record``).
        self.keeps_record: set[ExpectedFinding] = set()

    def clean(self, file: str) -> pa.Table:
        """The clean table of a file."""
        return self.files[file]

    def rows(self, file: str, n: int) -> np.ndarray:
        """``n`` random row numbers of a file's clean table, distinct while the file has enough rows."""
        available = self.clean(file).num_rows
        return self.rng.choice(available, size=n, replace=n > available)

    def rows_between(self, start: int, stop: int, n: int) -> np.ndarray:
        """``n`` random row numbers in ``[start, stop)``, distinct while the range has enough rows."""
        available = stop - start
        return start + self.rng.choice(available, size=n, replace=n > available)

    def copies(self, file: str, rows: np.ndarray, **overrides: Override) -> pa.Table:
        """Copies of clean rows with some columns replaced: by a constant, or by a function of the copies."""
        copied = self.clean(file).take(pa.array(rows, pa.int64()))
        table = copied
        for name, value in overrides.items():
            column = constant(value, len(rows)) if isinstance(value, str) else value(copied)
            table = table.set_column(table.schema.get_field_index(name), name, column)
        return table

    def _planted(self, finding: ExpectedFinding, records: int) -> PlantedDefects:
        planted = self.planted[finding.file]
        planted.findings[finding] += records
        if finding.drops_record and finding not in self.keeps_record:
            planted.dropped += records
        return planted

    def insert(self, finding: ExpectedFinding, table: pa.Table) -> None:
        """Plant records at random positions of the finding's file; each produces the finding."""
        self._planted(finding, table.num_rows).inserted.append(table)

    def insert_valid(self, file: str, table: pa.Table) -> None:
        """Plant valid records (the other half of a bundle) at random positions."""
        self.planted[file].inserted.append(table)

    def append(self, finding: ExpectedFinding, table: pa.Table) -> None:
        """Plant records at the end of the file (duplicates: the validator keeps the first occurrence)."""
        self._planted(finding, table.num_rows).appended.append(table)

    def append_valid(self, file: str, table: pa.Table) -> None:
        """Plant valid records at the end of the file."""
        self.planted[file].appended.append(table)

    def raw(self, finding: ExpectedFinding, lines: pa.Array) -> None:
        """Plant raw text lines at random positions."""
        self._planted(finding, len(lines)).raw_lines.append(lines)


#: A replacement value: a constant, or a function of the copied clean rows giving the new column.
Override = str | Callable[[pa.Table], pa.Array]
#: Plants ``n`` defects of one kind: (planter, the finding each defect produces, n).
Plant = Callable[[Planter, ExpectedFinding, int], None]


@dataclass(frozen=True)
class DefectKind:
    """One kind of defect: the finding (rule, level, field) it produces, and how it is planted.

    ``keeps_record``: the finding is an error on something the record carries (SDS v1: the role a
    Student.csv row makes; OneRoster: a relationship a users.csv row lists), not on the record
    itself, so the file's record still counts as valid.
    """

    rule: str
    level: str
    field: str | None
    plant: Plant
    keeps_record: bool = False


#: The defect kinds of a format, per file.
DefectKinds = dict[str, tuple[DefectKind, ...]]


def fresh_ids(tag: str, n: int, suffix: str = "") -> pa.Array:
    """Ids that no clean record has: ``dfx-<tag>-<k>``."""
    return numbered(f"dfx-{tag}-", np.arange(1, n + 1), suffix)


def missing_ids(tag: str, n: int) -> pa.Array:
    """References to records that exist nowhere: ``missing-<tag>-<k>``."""
    return numbered(f"missing-{tag}-", np.arange(1, n + 1))


def fresh(tag: str, suffix: str = "") -> Callable[[pa.Table], pa.Array]:
    """An override: fresh ids, one per copied row."""
    return lambda copied: fresh_ids(tag, copied.num_rows, suffix)


def missing(tag: str) -> Callable[[pa.Table], pa.Array]:
    """An override: references to records that exist nowhere, one per copied row."""
    return lambda copied: missing_ids(tag, copied.num_rows)


RowChooser = Callable[[Planter, str, int], np.ndarray]


def copies(
    tag: str | None = None,
    *,
    id_column: str = "sourcedId",
    at_end: bool = False,
    rows: RowChooser | None = None,
    **overrides: Override,
) -> Plant:
    """Plant copies of random clean rows of the file with the given values, and a fresh ``id_column`` if ``tag`` is set.

    ``at_end`` appends them (duplicates); ``rows`` chooses which clean rows are copied.
    """

    def plant(planter: Planter, finding: ExpectedFinding, n: int) -> None:
        chosen = (rows or Planter.rows)(planter, finding.file, n)
        values = {id_column: fresh(tag)} if tag is not None else {}
        table = planter.copies(finding.file, chosen, **{**values, **overrides})
        (planter.append if at_end else planter.insert)(finding, table)

    return plant


def raw_lines(*fields: str | Callable[[int], pa.Array]) -> Plant:
    """Plant raw lines: the fields (constants, or functions of n) joined with commas, unquoted."""

    def plant(planter: Planter, finding: ExpectedFinding, n: int) -> None:
        columns = [value if isinstance(value, str) else value(n) for value in fields]
        planter.raw(finding, pc.binary_join_element_wise(*columns, ","))

    return plant


def ids(tag: str, suffix: str = "") -> Callable[[int], pa.Array]:
    """A raw-line field: fresh ids, one per line."""
    return lambda n: fresh_ids(tag, n, suffix)


def broken_lines(
    shape: str, tag: str, *, id_column: str = "sourcedId", rows: RowChooser | None = None, **overrides: Override
) -> Plant:
    """Plant broken lines made from copies of clean rows (fresh ``id_column``), for files with many columns.

    ``shape`` is ``"long"`` (two more fields than the header: ``LineFieldCount``), ``"open-quote"``
    (every field and then an unterminated quoted one: ``LineUnterminatedQuote``; joined with any
    later line the record still has too many fields, so it cannot pass for a value with a line
    break) or ``"line-break"`` (a complete record whose quoted value, set in ``overrides``, holds a
    line break: ``LineBreakInValue`` where line breaks are not allowed; it spans two lines).
    """

    def plant(planter: Planter, finding: ExpectedFinding, n: int) -> None:
        chosen = (rows or Planter.rows)(planter, finding.file, n)
        table = planter.copies(finding.file, chosen, **{id_column: fresh(tag), **overrides})
        lines = render_lines(table)
        if shape == "long":
            lines = pc.binary_join_element_wise(lines, "extra,fields", ",")
        elif shape == "open-quote":
            lines = pc.binary_join_element_wise(lines, '"unterminated', ",")
        planter.raw(finding, lines)

    return plant


def plant_defects(
    district: District,
    files: dict[str, pa.Table],
    kinds: DefectKinds,
    defect_rate: float,
    seed: int,
    planter: type[Planter] = Planter,
) -> dict[str, PlantedDefects]:
    """The defects of every file (none when ``defect_rate`` is 0); the clean tables are not changed."""
    if not 0 <= defect_rate <= MAX_DEFECT_RATE:
        raise ValueError(f"defect rate must be between 0 and {MAX_DEFECT_RATE}, not {defect_rate}")
    planting = planter(district, files, random_stream(seed, _PLANTING_STREAM))
    for file, file_kinds in kinds.items():
        planting.keeps_record |= {ExpectedFinding(file, k.rule, k.level, k.field) for k in file_kinds if k.keeps_record}
    for file, file_kinds in kinds.items():
        n = defect_count(defect_rate, files[file].num_rows, len(file_kinds))
        if n == 0:
            continue
        for kind in file_kinds:
            kind.plant(planting, ExpectedFinding(file, kind.rule, kind.level, kind.field), n)
    return planting.planted


def defects_markdown(kinds: DefectKinds) -> str:
    """The table of a format's planted defect kinds, for docs/generator.md."""
    lines = ["| file | rule | level | field |", "|---|---|---|---|"]
    for file, file_kinds in kinds.items():
        for kind in file_kinds:
            where = f"`{kind.field}`" if kind.field else "(line)" if kind.rule.startswith("Line") else ""
            kept = " (record kept)" if kind.keeps_record else ""
            lines.append(f"| `{file}` | `{kind.rule}` | {kind.level}{kept} | {where} |")
    return "\n".join(lines) + "\n"


#: Academic-session defects: the same columns, and so the same kinds, in SDS v2.1 and OneRoster.
ACADEMIC_SESSION_DEFECTS: tuple[DefectKind, ...] = (
    DefectKind("InvalidDate", "error", "startDate",
               copies("session-baddate", startDate=lambda c: pick(("2025-13-45", "08/01/2025"), np.arange(c.num_rows) % 2))),
    DefectKind("InvalidEnumValue", "error", "type", copies("session-badtype", type="bogusSession")),
    DefectKind("InvalidYear", "error", "schoolYear", copies("session-badyear", schoolYear="25-26")),
    # Both dates valid, but swapped: the record ends before it starts.
    DefectKind("InvalidDateRange", "error", "endDate",
               copies("session-backwards", startDate=lambda c: c.column("endDate"), endDate=lambda c: c.column("startDate"))),
)


def district_role(column: str, value: str) -> "Plant":
    """A role at the district org (a fresh key) of a distinct clean user, with one bad value.

    The planter must offer ``district_roles(n)`` (SDS v2.1 and OneRoster 1.2 planters do).
    """

    def plant(planter, finding: ExpectedFinding, n: int) -> None:
        table = planter.district_roles(n)
        planter.insert(finding, table.set_column(table.schema.get_field_index(column), column, constant(value, n)))

    return plant
