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
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from homeroom.findings.reports import REPORT_COLUMNS
from homeroom.inbound.formats import FORMATS
from homeroom.model.entities import Kind
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
def flows_with_last_activity(db: Session, tenant_id: str) -> list[tuple[InboundFlow, str, RunActivity | None, Run | None]]:
    """Every flow of the tenant with its readiness and its latest activity (and that activity's run)."""
    out = []
    for flow in db.scalars(select(InboundFlow).where(InboundFlow.tenant_id == tenant_id).order_by(InboundFlow.display_name)):
        found = db.execute(select(RunActivity, Run).join(Run, Run.id == RunActivity.run_id)
                           .where(RunActivity.tenant_id == tenant_id, RunActivity.flow_id == flow.id)
                           .order_by(Run.started.desc()).limit(1)).first()
        out.append((flow, readiness_status(flow), *(found or (None, None))))
    return out


def latest_run(db: Session, tenant_id: str) -> Run | None:
    return db.scalars(select(Run).where(Run.tenant_id == tenant_id).order_by(Run.started.desc()).limit(1)).first()


def held_runs(db: Session, tenant_id: str) -> list[Run]:
    """The tenant's held runs, oldest first (the first to decide on)."""
    return list(db.scalars(select(Run).where(Run.tenant_id == tenant_id, Run.status == RunStatus.held).order_by(Run.started)))


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
    rows = list(db.scalars(select(Run).where(Run.tenant_id == tenant_id).order_by(Run.started.desc())
                           .offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return Page(rows, number, PAGE_SIZE, total)


# --- a run --------------------------------------------------------------------------------------------------------
def run_of(db: Session, tenant_id: str, run_id: str) -> Run | None:
    """The tenant's run (another tenant's run is not found)."""
    return get_run(db=db, tenant_id=tenant_id, run_id=run_id)


@dataclass(frozen=True)
class RuleCount:
    """How many findings of one rule and level one file had in a run."""

    rule: str
    level: str
    file: str
    count: int


def level_counts(db: Session, run: Run) -> dict[str, int]:
    """Findings of the run by level (from the summaries)."""
    ids = [a.id for a in run.activities]
    rows = db.execute(select(FindingsSummary.level, func.sum(FindingsSummary.count)).where(
        FindingsSummary.tenant_id == run.tenant_id, FindingsSummary.activity_id.in_(ids)).group_by(FindingsSummary.level)).all()
    return {level: int(n) for level, n in rows}


def rule_counts_page(db: Session, run: Run, number: int, level: str | None = None) -> Page:
    """Findings of the run by rule and file, most frequent first, one page (from the summaries)."""
    ids = [a.id for a in run.activities]
    where = [FindingsSummary.tenant_id == run.tenant_id, FindingsSummary.activity_id.in_(ids)]
    if level:
        where.append(FindingsSummary.level == level)
    groups = (select(FindingsSummary.rule, FindingsSummary.level, FindingsSummary.file,
                     func.sum(FindingsSummary.count).label("n")).where(*where)
              .group_by(FindingsSummary.rule, FindingsSummary.level, FindingsSummary.file))
    total = db.scalar(select(func.count()).select_from(groups.subquery())) or 0
    rows = db.execute(groups.order_by(func.sum(FindingsSummary.count).desc(), FindingsSummary.file, FindingsSummary.rule)
                      .offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return Page([RuleCount(r, lvl, f, int(n)) for r, lvl, f, n in rows], number, PAGE_SIZE, total)


def rule_total(db: Session, run: Run, rule: str | None, file: str | None) -> int:
    """How many findings of this rule in this file (either may be None: all) the run had, exactly."""
    where = [FindingsSummary.tenant_id == run.tenant_id, FindingsSummary.activity_id.in_([a.id for a in run.activities])]
    if rule:
        where.append(FindingsSummary.rule == rule)
    if file:
        where.append(FindingsSummary.file == file)
    return int(db.scalar(select(func.coalesce(func.sum(FindingsSummary.count), 0)).where(*where)) or 0)


def _log_scan(settings: Settings, run: Run, activity_id: str) -> pl.LazyFrame | None:
    """An activity's findings log as a lazy frame: the sorted Parquet log, or (runs before it existed) JSON lines."""
    parquet = findings_path(settings, run.tenant_id, run.id, activity_id, "parquet")
    if parquet.exists():
        return pl.scan_parquet(parquet)
    jsonl = findings_path(settings, run.tenant_id, run.id, activity_id, "jsonl")
    if jsonl.exists() and jsonl.stat().st_size:
        return pl.scan_ndjson(jsonl, schema={c: (pl.Int64 if c == "line" else pl.String) for c in REPORT_COLUMNS})
    return None


def has_log(settings: Settings, run: Run) -> bool:
    """Whether any activity of the run kept a findings log."""
    return any(findings_path(settings, run.tenant_id, run.id, a.id, "csv").exists() for a in run.activities)


def findings_page(settings: Settings, run: Run, number: int, *, rule: str | None, file: str | None) -> Page:
    """One page of the run's listed findings (the log: at most 1,000 of each rule in each file), optionally of one
    rule and one file, in the log's order; each row a dict with the activity id added."""
    condition = pl.lit(True)
    if rule:
        condition &= pl.col("rule") == rule
    if file:
        condition &= pl.col("file") == file
    start, rows, total = (number - 1) * PAGE_SIZE, [], 0
    for activity in run.activities:
        scan = _log_scan(settings, run, activity.id)
        if scan is None:
            continue
        matching = scan.filter(condition)
        n = int(matching.select(pl.len()).collect().item())
        if len(rows) < PAGE_SIZE and start < total + n:
            offset = max(0, start - total)
            part = matching.slice(offset, PAGE_SIZE - len(rows)).collect()
            rows += [{**r, "activityId": activity.id} for r in part.iter_rows(named=True)]
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


def _secret_headers(format_name: str | None, file: str) -> set[str]:
    """The headers of ``file`` whose field is a secret (a password) in the package's format."""
    fmt = FORMATS.get(format_name or "")
    spec = next((s for s in fmt.files if s.name.lower() == file.lower()), None) if fmt else None
    secret = set()
    for header, canonical in (spec.columns if spec else ()):
        if canonical is None:
            continue
        try:
            entity, name = spec.target(canonical)
            if entity.field(name).kind == Kind.SECRET:
                secret.add(header.lower())
        except (KeyError, ValueError, AttributeError):
            continue
    return secret | {h for h in ("password",)}


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
    secret = _secret_headers(activity.package_format, file)
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
