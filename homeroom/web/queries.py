"""What the dashboard's pages show, read from precomputed data: run and activity rows (their statistics and change
counts are written when a run ends), the findings summaries (one row per rule, level and file) and the sorted
Parquet findings log of each activity, read one page at a time. No page reads a lake table or a whole log.

Plain functions over the control plane; each takes the session as ``db`` and the tenant, and is tenant-scoped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session, noload, selectinload

from homeroom.findings.reports import REPORT_COLUMNS, parquet_ranges
from homeroom.inbound.secrets import secret_headers
from homeroom.model.statuses import SUCCESSFUL_RUN, RunStatus
from homeroom.runs.folders import findings_path
from homeroom.runs.readiness import readiness_status
from homeroom.runs.scheduler import next_scheduled
from homeroom.settings import Settings
from homeroom.store.models import FindingsSummary, InboundFlow, Operation, Run, RunActivity, Tenant, utc
from homeroom.store.service import get_run

#: Rows in one page of a list.
PAGE_SIZE = 50
#: Runs shown on the trends page (the most recent).
TREND_RUNS = 200
#: The counts Graph's statistics keep per entity, as the dashboard names them.
STATISTIC_LABELS = {"people": "People", "organizations": "Organizations", "groups": "Groups", "memberships": "Memberships"}


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, its number (from 1), the size and how many rows there are in all."""

    rows: list
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.size + 1

    @property
    def last(self) -> int:
        return min(self.total, self.number * self.size)


def page_number(value: str | None) -> int:
    """A ``page`` query parameter: a whole number from 1 (anything else is page 1)."""
    return int(value) if value and value.isdigit() and 0 < int(value) < 10**9 else 1


# --- overview -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LastActivity:
    """A flow's latest activity: its status and its run."""

    status: str
    run_id: str
    started: datetime


def flows_with_last_activity(db: Session, tenant_id: str) -> list[tuple[InboundFlow, str, LastActivity | None]]:
    """Every flow of the tenant with its readiness and its latest activity (columns only: one light query a flow)."""
    out = []
    for flow in db.scalars(select(InboundFlow).where(InboundFlow.tenant_id == tenant_id).order_by(InboundFlow.display_name)):
        found = db.execute(select(RunActivity.status, Run.id, Run.started).join(Run, Run.id == RunActivity.run_id)
                           .where(RunActivity.tenant_id == tenant_id, RunActivity.flow_id == flow.id)
                           .order_by(Run.started.desc()).limit(1)).first()
        out.append((flow, readiness_status(flow), None if found is None else LastActivity(*found)))
    return out


def latest_run(db: Session, tenant_id: str) -> Run | None:
    return db.scalars(select(Run).options(noload(Run.activities)).where(Run.tenant_id == tenant_id)
                      .order_by(Run.started.desc()).limit(1)).first()


def held_runs(db: Session, tenant_id: str) -> list[Run]:
    """The tenant's held runs, oldest first (the first to decide on)."""
    return list(db.scalars(select(Run).options(selectinload(Run.activities).noload(RunActivity.findings))
                           .where(Run.tenant_id == tenant_id, Run.status == RunStatus.held).order_by(Run.started)))


def next_scheduled_run(db: Session, tenant_id: str, settings: Settings) -> datetime | None:
    """When the scheduler of ``homeroom serve`` next runs the tenant's flows (None: the schedule is off)."""
    if settings.schedule_interval_hours <= 0:
        return None
    tenant = db.get(Tenant, tenant_id)

    def last(trigger: str) -> datetime | None:
        return utc(db.scalar(select(Run.started).where(Run.tenant_id == tenant_id, Run.trigger == trigger)
                             .order_by(Run.started.desc()).limit(1)))
    return next_scheduled(anchor=utc(tenant.created), last_scheduled=last("scheduled"), last_on_demand=last("onDemand"),
                          interval=timedelta(hours=settings.schedule_interval_hours),
                          skip_window=timedelta(hours=settings.schedule_skip_hours))


def runs_page(db: Session, tenant_id: str, number: int) -> Page:
    """The tenant's runs, newest first, one page."""
    total = db.scalar(select(func.count()).select_from(Run).where(Run.tenant_id == tenant_id)) or 0
    rows = list(db.scalars(select(Run).options(noload(Run.activities)).where(Run.tenant_id == tenant_id).order_by(Run.started.desc())
                           .offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return Page(rows, number, PAGE_SIZE, total)


# --- a run --------------------------------------------------------------------------------------------------------
def run_of(db: Session, tenant_id: str, run_id: str) -> Run | None:
    """The tenant's run with its activities (another tenant's run is not found); a unique id prefix is accepted.
    The activities' findings summaries are not loaded: pages read them aggregated (``findings_by_rule``)."""
    query = select(Run).options(selectinload(Run.activities).noload(RunActivity.findings))
    run = db.scalars(query.where(Run.id == run_id, Run.tenant_id == tenant_id)).first()
    if run is None and len(run_id) >= 4:
        found = get_run(db=db, tenant_id=tenant_id, run_id=run_id)
        run = None if found is None else db.scalars(query.where(Run.id == found.id)).first()
    return run


@dataclass(frozen=True)
class RuleCount:
    """How many findings of one rule and level one file had in a run."""

    rule: str
    level: str
    file: str
    count: int


@dataclass(frozen=True)
class FindingsByRule:
    """A run's findings counted by level, and one page of its counts by rule and file."""

    levels: dict[str, int]
    page: Page


def findings_by_rule(db: Session, run: Run, number: int, level: str | None = None) -> FindingsByRule:
    """The run's findings by level, and by rule and file (most frequent first, one page), from the summaries: one
    query, whose rows are bounded by rules x files, not by findings."""
    rows = db.execute(select(FindingsSummary.rule, FindingsSummary.level, FindingsSummary.file, func.sum(FindingsSummary.count))
                      .where(FindingsSummary.tenant_id == run.tenant_id,
                             FindingsSummary.activity_id.in_([a.id for a in run.activities]))
                      .group_by(FindingsSummary.rule, FindingsSummary.level, FindingsSummary.file)).all()
    counts = [RuleCount(r, lvl, f, int(n)) for r, lvl, f, n in rows]
    levels: dict[str, int] = {}
    for c in counts:
        levels[c.level] = levels.get(c.level, 0) + c.count
    chosen = sorted((c for c in counts if level is None or c.level == level), key=lambda c: (-c.count, c.file, c.rule))
    start = (number - 1) * PAGE_SIZE
    return FindingsByRule(levels, Page(chosen[start:start + PAGE_SIZE], number, PAGE_SIZE, len(chosen)))


def rule_total(db: Session, run: Run, rule: str | None, file: str | None) -> int:
    """How many findings of this rule in this file (either may be None: all) the run had, exactly."""
    where = [FindingsSummary.tenant_id == run.tenant_id, FindingsSummary.activity_id.in_([a.id for a in run.activities])]
    if rule:
        where.append(FindingsSummary.rule == rule)
    if file:
        where.append(FindingsSummary.file == file)
    return int(db.scalar(select(func.coalesce(func.sum(FindingsSummary.count), 0)).where(*where)) or 0)


def _jsonl_scan(settings: Settings, run: Run, activity_id: str) -> pl.LazyFrame | None:
    """An activity's findings log as JSON lines (runs from before the Parquet log), lazily."""
    jsonl = findings_path(settings, run.tenant_id, run.id, activity_id, "jsonl")
    if jsonl.exists() and jsonl.stat().st_size:
        return pl.scan_ndjson(jsonl, schema={c: (pl.Int64 if c == "line" else pl.String) for c in REPORT_COLUMNS})
    return None


class _ParquetLog:
    """An activity's sorted Parquet findings log: the rows of one rule (in one file) are one contiguous range, so a
    page is read from the row groups that hold it."""

    def __init__(self, path: Path):
        self.file = pq.ParquetFile(path)
        self.ranges = parquet_ranges(self.file.schema_arrow.metadata)

    def span(self, rule: str | None, file: str | None) -> tuple[int, int] | None:
        """(first row, rows) of the findings of this rule (and file); None when a file alone is asked for (its rows
        are spread over every rule)."""
        if rule is None and file is None:
            return 0, self.file.metadata.num_rows
        if rule is None:
            return None
        chosen = [(start, rows) for r, f, start, rows in self.ranges if r == rule and (file is None or f == file)]
        return (chosen[0][0], chosen[-1][0] + chosen[-1][1] - chosen[0][0]) if chosen else (0, 0)

    def rows(self, start: int, stop: int) -> list[dict]:
        """Rows ``start`` to ``stop`` (exclusive), reading only their row groups."""
        groups, first, offset = [], None, 0
        for i in range(self.file.num_row_groups):
            n = self.file.metadata.row_group(i).num_rows
            if offset + n > start and offset < stop:
                groups.append(i)
                first = offset if first is None else first
            offset += n
        if not groups:
            return []
        table = self.file.read_row_groups(groups, columns=REPORT_COLUMNS)
        return table.slice(start - first, stop - start).to_pylist()


def has_log(settings: Settings, run: Run) -> bool:
    """Whether any activity of the run kept a findings log."""
    return any(findings_path(settings, run.tenant_id, run.id, a.id, "csv").exists() for a in run.activities)


def findings_page(settings: Settings, run: Run, number: int, *, rule: str | None, file: str | None) -> Page:
    """One page of the run's listed findings (the log: at most 1,000 of each rule in each file), optionally of one
    rule and one file, in the log's order (rule, file, line); each row a dict with the activity id added."""
    condition = pl.lit(True)
    if rule:
        condition &= pl.col("rule") == rule
    if file:
        condition &= pl.col("file") == file
    start, rows, total = (number - 1) * PAGE_SIZE, [], 0
    for activity in run.activities:
        parquet = findings_path(settings, run.tenant_id, run.id, activity.id, "parquet")
        log = _ParquetLog(parquet) if parquet.exists() else None
        span = log.span(rule, file) if log is not None else None
        if span is not None:
            first, n = span
            read = lambda a, b: log.rows(first + a, first + b)  # noqa: E731
        else:
            scan = pl.scan_parquet(parquet) if log is not None else _jsonl_scan(settings, run, activity.id)
            if scan is None:
                continue
            matching = scan.filter(condition)
            n = int(matching.select(pl.len()).collect().item())
            read = lambda a, b: matching.slice(a, b - a).collect().to_dicts()  # noqa: E731
        if len(rows) < PAGE_SIZE and start < total + n:
            offset = max(0, start - total)
            rows += [{**r, "activityId": activity.id} for r in read(offset, min(n, offset + PAGE_SIZE - len(rows)))]
        total += n
    return Page(rows, number, PAGE_SIZE, total)


# --- one line of a package ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceLine:
    """A line of a package's file, beside the file's header; secret columns are masked."""

    file: str
    number: int
    cells: list[tuple[str, str]]  #: (column, value) pairs; an extra value has an empty column name
    raw: str | None  #: the line as it is in the file, when it has no secret column


def _physical_line(path: Path, number: int, longest: int = 1 << 16) -> bytes | None:
    """Line ``number`` (from 1) of a file, found by counting newlines block by block (at most ``longest`` bytes of it)."""
    before = number - 1  # newlines before the line
    with path.open("rb") as fh:
        seen = 0
        while True:
            block = fh.read(1 << 20)
            if not block:
                return None
            n = block.count(b"\n")
            if seen + n >= before:
                break
            seen += n
        pos = 0
        for _ in range(before - seen):
            pos = block.index(b"\n", pos) + 1
        line = block[pos:]
        while b"\n" not in line and len(line) < longest and (more := fh.read(1 << 20)):
            line += more
    return line.split(b"\n", 1)[0][:longest].rstrip(b"\r") if line else None


def source_line(activity: RunActivity, file: str, number: int) -> SourceLine | None:
    """Line ``number`` of one of the activity's files with the file's header, or None when the package is no
    longer kept, the file is not one of the package's, or the line does not exist."""
    names = {f.lower(): f for f in activity.files or []}
    if not activity.package or file.lower() not in names or number < 1:
        return None
    root = Path(activity.package)
    candidates = [p for p in root.glob("*") if p.is_file() and p.name.lower() == file.lower()] if root.is_dir() else []
    if not candidates:
        return None
    path = candidates[0]
    header, line = _physical_line(path, 1), _physical_line(path, number)
    if header is None or line is None:
        return None
    decode = lambda b: b.decode("utf-8-sig", errors="replace")  # noqa: E731
    columns = next(csv.reader([decode(header)]), [])
    values = next(csv.reader([decode(line)]), [])
    secret = secret_headers(activity.package_format, file)
    cells = [(c, "••••••" if c.strip().lower() in secret and v else v) for c, v in zip(columns, values)]
    cells += [("", v) for v in values[len(columns):]]
    has_secret = any(c.strip().lower() in secret for c in columns)
    return SourceLine(names[file.lower()], number, cells, None if has_secret else decode(line))


# --- trends -------------------------------------------------------------------------------------------------------
def trend_series(db: Session, tenant_id: str, limit: int = TREND_RUNS) -> dict[str, list]:
    """Per run that wrote the lake (oldest first, of the latest ``limit``): errors, warnings, and active and inactive
    people, organizations, groups and memberships, summed over the run's activities. Held, discarded and failed runs
    are left out: they wrote no counts."""
    recent = (select(Run.id, Run.started).where(Run.tenant_id == tenant_id, Run.status.in_(SUCCESSFUL_RUN))
              .order_by(Run.started.desc()).limit(limit).subquery())
    rows = db.execute(select(recent.c.id, recent.c.started, RunActivity.statistics)
                      .join(RunActivity, RunActivity.run_id == recent.c.id).order_by(recent.c.started, recent.c.id)).all()
    names = ["errors", "warnings", *(f"{m}{s}" for m in STATISTIC_LABELS for s in ("Active", "Inactive"))]
    series: dict[str, list] = {"runId": [], "time": [], "started": [], **{n: [] for n in names}}
    for run_id, started, stats in rows:
        if not stats:
            continue
        if not series["runId"] or series["runId"][-1] != run_id:
            series["runId"].append(run_id)
            series["time"].append(int(utc(started).timestamp()))
            series["started"].append(f"{utc(started):%Y-%m-%d %H:%M:%S} UTC")
            for n in names:
                series[n].append(0)
        series["errors"][-1] += stats.get("errors", 0)
        series["warnings"][-1] += stats.get("warnings", 0)
        for metric in STATISTIC_LABELS:
            counts = stats.get(metric) or {}
            series[f"{metric}Active"][-1] += counts.get("active", 0)
            series[f"{metric}Inactive"][-1] += counts.get("inactive", 0)
    return series


# --- operations ---------------------------------------------------------------------------------------------------
def operation_of(db: Session, tenant_id: str, operation_id: str) -> Operation | None:
    """The tenant's operation (another tenant's is not found)."""
    operation = db.get(Operation, operation_id)
    return operation if operation is not None and operation.tenant_id == tenant_id else None
