"""When runs happen: ``runs/start`` with SDS's limits, and the scheduler that runs every active flow every 12 hours.

Documented (spec §1.13.4, §1.16): runs happen automatically every 12 hours; ``runs/start`` adds an on-demand run,
at most 5 successful ones per 12 hours; an on-demand run makes the next scheduled run be skipped when that is
due within 10 hours. Homeroom's choices where Microsoft documents none: a refused start answers 409 with
``RunStartLimitReached`` (the message says when the next start is allowed), ``RunInProgress`` while a run of the
tenant is running, ``NothingToRun`` when no active flow has validated data (its message names each flow and why:
expired, not ready and why, not yet effective, no validated data); the first scheduled run of a tenant is due one
interval after the tenant was created. Every figure is a setting (``docs/configuration.md``).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from homeroom.errors import NothingToRun, RunError, RunStartLimitReached
from homeroom.model.statuses import SUCCESSFUL_RUN
from homeroom.runs.engine import Runner
from homeroom.runs import pulls
from homeroom.runs.housekeeping import housekeep
from homeroom.runs.readiness import not_ready_reason, readiness_status
from homeroom.settings import Settings
from homeroom.store.models import CLASSIC_PROFILE_KEY, FILE_FLOW, InboundFlow, Run, Tenant, utc, utcnow

log = logging.getLogger(__name__)


def _flows(db: Session, tenant_id: str) -> list[InboundFlow]:
    """The tenant's flows that runs/start and the schedule run: not those of classic profiles, which synchronize
    through their profile's ``start`` with the profile's options (homeroom.classic)."""
    flows = db.scalars(select(InboundFlow).where(InboundFlow.tenant_id == tenant_id).order_by(InboundFlow.display_name))
    return [f for f in flows if not (f.connector.settings or {}).get(CLASSIC_PROFILE_KEY)]


def flows_to_run(db: Session, tenant_id: str, now: datetime | None = None) -> list[tuple[InboundFlow, str | None, str | None]]:
    """Every flow of the tenant that may run now — ready and effective — with its package (None: nothing validated yet)."""
    now = now or utcnow()
    chosen = []
    for flow in _flows(db, tenant_id):
        if readiness_status(flow, now) != "ready" or utc(flow.effective) > now:
            continue
        connector = flow.connector
        if flow.kind != FILE_FLOW:  # a OneRoster API flow pulls in its run: its "package" is the API it reads
            chosen.append((flow, (connector.settings or {}).get("baseUrl"), pulls.format_of(connector)))
            continue
        package = connector.current_package
        if package is not None and not Path(package).is_dir():
            package = None  # removed from the data folder by hand: there is nothing to run
        chosen.append((flow, package, connector.current_package_format if package else None))
    return chosen


def nothing_to_run(db: Session, tenant_id: str, now: datetime | None = None) -> str:
    """Why no flow of the tenant has data to run now: one reason per flow, in words (``NothingToRun``'s message)."""
    now = now or utcnow()
    reasons = []
    for flow in _flows(db, tenant_id):
        name, status = f"inbound flow '{flow.display_name}'", readiness_status(flow, now)
        if status == "expired":
            reasons.append(f"{name} expired at {utc(flow.expiration):%Y-%m-%dT%H:%M:%SZ}")
        elif status == "notReady":
            reasons.append(f"{name} is notReady: {not_ready_reason(flow)}")
        elif utc(flow.effective) > now:
            reasons.append(f"{name} is not effective until {utc(flow.effective):%Y-%m-%dT%H:%M:%SZ}")
        else:
            reasons.append(f"{name} has no validated data: upload files to the upload session of dataConnector "
                           f"'{flow.connector_id}' and validate them")
    if not reasons:
        return "No inbound flow has data to run: the tenant has no inbound flows; create one first."
    return "No inbound flow has data to run: " + "; ".join(reasons) + "."


def check_start_limit(db: Session, tenant_id: str, settings: Settings, now: datetime | None = None) -> None:
    """Refuse a ``runs/start`` beyond the allowed successful on-demand runs in the window."""
    now = now or utcnow()
    since = now - timedelta(hours=settings.run_start_window_hours)
    recent = sorted(utc(r.started) for r in db.scalars(select(Run).where(
        Run.tenant_id == tenant_id, Run.trigger == "onDemand", Run.status.in_(SUCCESSFUL_RUN))) if utc(r.started) > since)
    if len(recent) >= settings.run_start_limit:
        allowed = recent[-settings.run_start_limit] + timedelta(hours=settings.run_start_window_hours)
        raise RunStartLimitReached(
            f"At most {settings.run_start_limit} successful on-demand runs are allowed per {settings.run_start_window_hours:g} "
            f"hours; the next runs/start is allowed at {allowed:%Y-%m-%dT%H:%M:%SZ}. Scheduled runs continue meanwhile.")


def start_run(db: Session, runner: Runner, *, trigger: str, now: datetime | None = None) -> Run:
    """Record a run of every flow that may run now (flows without data get a skipped activity).

    Refused with ``NothingToRun``, or ``RunInProgress`` (from the runner) while another run is running or held."""
    flows = flows_to_run(db, runner.tenant, now)
    if not any(package for _flow, package, _format in flows):
        raise NothingToRun(nothing_to_run(db, runner.tenant, now))
    return runner.start(db, flows, trigger=trigger, started=now)


def next_scheduled(*, anchor: datetime, last_scheduled: datetime | None, last_on_demand: datetime | None,
                   interval: timedelta, skip_window: timedelta) -> datetime:
    """When the next scheduled run is due: one interval after the last (or after ``anchor``), skipping a slot
    that falls within ``skip_window`` after an on-demand run (or that an on-demand run already followed)."""
    due = (last_scheduled or anchor) + interval
    while last_on_demand is not None and due - last_on_demand <= skip_window:
        due += interval
    return due


class Scheduler:
    """Runs every tenant's active flows on the schedule, in a thread of the serving process."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], execute: Callable[[Runner, str], None]):
        self.settings, self.sessions, self.execute = settings, sessions, execute
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, store, now: datetime | None = None) -> list[str]:
        """Destroy expired upload containers, then start and carry out the runs that are due now (none when the
        schedule is off); returns the ids of the runs."""
        now = now or utcnow()
        with self.sessions.begin() as db:
            housekeep(db, self.settings, store, now)
            tenants = list(db.scalars(select(Tenant))) if self.settings.schedule_interval_hours > 0 else []
        interval = timedelta(hours=max(self.settings.schedule_interval_hours, 0))
        skip = timedelta(hours=self.settings.schedule_skip_hours)
        started = []
        for tenant in tenants:
            with self.sessions.begin() as db:
                def last(trigger: str) -> datetime | None:
                    found = db.scalar(select(Run.started).where(Run.tenant_id == tenant.id, Run.trigger == trigger)
                                      .order_by(Run.started.desc()).limit(1))
                    return None if found is None else utc(found)
                due = next_scheduled(anchor=utc(tenant.created), last_scheduled=last("scheduled"),
                                     last_on_demand=last("onDemand"), interval=interval, skip_window=skip)
                if due > now:
                    continue
                runner = Runner(tenant.id, self.settings, self.sessions)
                runner.recover()
                try:
                    run = start_run(db, runner, trigger="scheduled", now=now)
                except RunError as exc:  # nothing to run, or a run still running or held
                    log.debug("scheduled run of tenant %s not started: %s", tenant.id, exc.message)
                    continue
                started.append((runner, run.id))
        for runner, run_id in started:
            self.execute(runner, run_id)
        return [run_id for _runner, run_id in started]

    def start(self, store) -> None:
        """Tick every ``schedule_tick_seconds`` in a daemon thread until ``stop`` (also with the schedule off:
        expired upload containers are still destroyed)."""
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(self.settings.schedule_tick_seconds):
                try:
                    self.tick(store)
                except Exception:  # noqa: BLE001 - the scheduler must outlive one bad tick
                    log.exception("scheduler tick failed")

        self._thread = threading.Thread(target=loop, name="homeroom-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
