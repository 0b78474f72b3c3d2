"""The dashboard's routes under ``/admin``: thin handlers over ``queries`` and the runs' jobs, rendering templates.

Every page needs a signed-in user (``signin``) and checks the same permissions as the API route that reads or
changes the same thing; everything is read within the user's tenant, so another tenant's ids are not found (404).
Every POST checks the CSRF token. Long work (validation, runs, approvals) goes to the app's executor, as the API's
actions do, and its page polls with htmx until it has finished.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from homeroom.api.actions import UPLOAD
from homeroom.api.resources import DATA_CONNECTORS, INBOUND_FLOWS, INDUSTRY_DATA, OUTBOUND_FLOW_SETS, RUNS
from homeroom.api.statistics import run_statistics
from homeroom.errors import HomeroomError, SignInThrottled
from homeroom.findings.reports import concatenated_logs
from homeroom.findings.rules import RULES
from homeroom.inbound.formats import FORMATS
from homeroom.runs.readers import reader_lake
from homeroom.model.entities import ENTITIES
from homeroom.model.statuses import FINISHED_OPERATION, OperationStatus, RunStatus
from homeroom.outbound.config import parse_options
from homeroom.outbound.service import Provisioner
from homeroom.runs import Runner, holds, jobs
from homeroom.runs.folders import findings_path
from homeroom.store.models import (DataConnector, DirectoryTarget, InboundFlow, OutboundFlowSet, ProvisioningFlow, Run,
                                   SourceSystem, iso, utc, utcnow)
from homeroom.targets import kind_of
from homeroom.targets import service as target_service
from homeroom.uploads.sessions import current_session
from homeroom.web import matching, plans, queries
from homeroom.web import targets as web_targets
from homeroom.web.signin import (CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, PageError, SignInRequired, Viewer, check_csrf,
                                 viewer_of)

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES)
START = ("IndustryData-Run.Start",)
OPERATIONS_READ = ("IndustryData.ReadBasic.All", *UPLOAD, *RUNS.read)
LOG_KINDS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
router = APIRouter(prefix="/admin", include_in_schema=False)


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else ("" if value is None else str(value))


def _when(value) -> str:
    value = utc(value)
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


templates.env.filters["number"] = _number
templates.env.filters["when"] = _when
templates.env.filters["iso"] = iso
templates.env.filters["value"] = lambda v: "" if v is None else (v if isinstance(v, str) else json.dumps(v))
templates.env.globals["rule_summary"] = lambda code: RULES[code].summary if code in RULES else ""


# --- plumbing -----------------------------------------------------------------------------------------------------
def _in_db(request: Request, work: Callable, *, write: bool = False):
    """``work(db, viewer)`` in a session (committed when ``write``), for a signed-in user; else sign in first."""
    with request.app.state.sessions() as db:
        viewer = viewer_of(request, db)
        if viewer is None:
            raise SignInRequired()
        result = work(db, viewer)
        if write:
            db.commit()
        return result


#: Headers of a page kept with it in the page cache.
_KEPT_HEADERS = ("hx-refresh",)


def _page(request: Request, work: Callable) -> Response:
    """A GET page: ``work(db, viewer)``, or the same page rendered earlier for the same session while the tenant's
    data revision is the one it was rendered at (and for at most a few seconds: ``homeroom.api.cache.ReadCache``).
    A page view then costs one light query, like an API read of unchanged data."""
    cache = request.app.state.dashboard_pages
    with request.app.state.sessions() as db:
        viewer = viewer_of(request, db)
        if viewer is None:
            raise SignInRequired()
        key = (viewer.tenant_id, viewer.user_id, viewer.csrf, str(request.url), bool(request.headers.get("hx-request")))
        if (kept := cache.get(key, viewer.revision)) is not None:
            body, status, headers = kept
            return HTMLResponse(body, status_code=status, headers=headers)
        response = work(db, viewer)
    if isinstance(response, HTMLResponse) and response.status_code == 200:
        cache.put(key, viewer.revision, (bytes(response.body), response.status_code,
                                         {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}))
    return response


async def _form(request: Request, viewer: Viewer | None = None, expected: str | None = None):
    """The posted form, its CSRF token checked against the session's (or the visitor's) nonce."""
    form = await request.form(max_files=64, max_fields=200)
    check_csrf(request, form.get(CSRF_FIELD) if isinstance(form.get(CSRF_FIELD), str) else None,
               expected if expected is not None else viewer.csrf)
    return form


def render(request: Request, name: str, viewer: Viewer | None, *, status: int = 200, csrf: str | None = None, **context) -> HTMLResponse:
    """A page with the signed-in user, the CSRF token and what the navigation needs."""
    return templates.TemplateResponse(request, name, {
        "viewer": viewer, "csrf": csrf if csrf is not None else (viewer.csrf if viewer else ""),
        "may_start": bool(viewer and viewer.may(START)), "may_runs": bool(viewer and viewer.may(RUNS.read)),
        "may_flows": bool(viewer and viewer.may(INBOUND_FLOWS.read)), "path": request.url.path, **context},
        status_code=status)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _run_or_404(db, viewer: Viewer, run_id: str) -> Run:
    viewer.require(RUNS.read, "see runs")
    run = queries.run_of(db, viewer.tenant_id, run_id)
    if run is None:
        raise PageError(404, f"There is no run {run_id} in tenant {viewer.tenant_id}.")
    return run


def _api_url(request: Request, path: str) -> str:
    return INDUSTRY_DATA.url(request, path)


# --- sign-in ------------------------------------------------------------------------------------------------------
@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = "/admin/"):
    cookies = request.app.state.dashboard_cookies
    nonce, new_cookie = cookies.anonymous_nonce(request)
    response = render(request, "sign_in.html", None, csrf=nonce, next=_local(next), error=None, tenant="", username="")
    if new_cookie:
        cookies.set(response, request, CSRF_COOKIE, new_cookie, same_site="strict")
    return response


def _local(url: str) -> str:
    """A redirect target within the dashboard only (no open redirects)."""
    return url if url.startswith("/admin") and not url.startswith("//") and "\\" not in url else "/admin/"


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request):
    state = request.app.state
    nonce, _ = state.dashboard_cookies.anonymous_nonce(request)
    form = await _form(request, expected=nonce if request.cookies.get(CSRF_COOKIE) else "")
    tenant, username, password = (str(form.get(k) or "").strip() for k in ("tenant", "username", "password"))
    target = _local(str(form.get("next") or "/admin/"))

    def refuse(status: int, message: str, headers: dict | None = None) -> HTMLResponse:
        response = render(request, "sign_in.html", None, status=status, csrf=nonce, next=target, error=message,
                          tenant=tenant, username=username)
        response.headers.update(headers or {})
        return response

    if not (tenant and username and password):
        return refuse(400, "Enter the tenant, your user name and your password.")

    def check():
        with state.sessions() as db:
            user = state.tokens.sign_in_user(db=db, tenant_id=tenant, username=username, password=password)
            return None if user is None else (user.tenant_id, user.id)
    try:
        found = await run_in_threadpool(check)
    except SignInThrottled as exc:
        return refuse(429, f"Too many failed sign-ins for this user name: {exc.message}",
                      {"Retry-After": str(exc.retry_after)})
    if found is None:
        return refuse(401, "The tenant, user name or password is incorrect.")
    value, _csrf = state.dashboard_cookies.new_session(*found)
    response = _see_other(target)
    state.dashboard_cookies.set(response, request, SESSION_COOKIE, value)
    response.delete_cookie(CSRF_COOKIE, path="/admin")
    return response


@router.post("/sign-out")
async def sign_out(request: Request):
    viewer = await run_in_threadpool(_in_db, request, lambda db, v: v)
    await _form(request, viewer)
    response = _see_other("/admin/sign-in")
    request.app.state.dashboard_cookies.clear(response, request)
    return response


# --- overview, runs, trends -----------------------------------------------------------------------------------------
@router.get("", include_in_schema=False)
def admin_root():
    return _see_other("/admin/")


@router.get("/", response_class=HTMLResponse)
def overview(request: Request):
    settings = request.app.state.settings

    def work(db, viewer):
        flows = queries.flows_with_last_activity(db, viewer.tenant_id) if viewer.may(INBOUND_FLOWS.read) else None
        if viewer.may(RUNS.read):
            runs = {"last": queries.latest_run(db, viewer.tenant_id), "held": queries.held_runs(db, viewer.tenant_id)}
        else:
            runs = None
        return render(request, "overview.html", viewer, flows=flows, runs=runs,
                      next_run=queries.next_scheduled_run(db, viewer.tenant_id, settings))
    return _page(request, work)


@router.get("/runs", response_class=HTMLResponse)
def runs_list(request: Request, page: str | None = None):
    def work(db, viewer):
        viewer.require(RUNS.read, "see runs")
        return render(request, "runs.html", viewer, page=queries.runs_page(db, viewer.tenant_id, queries.page_number(page)))
    return _page(request, work)


def _settling(db, viewer: Viewer, run: Run, approval: str | None) -> bool:
    """Whether the run page should keep polling: the run is running, or its approval has not finished yet."""
    if run.status == RunStatus.running:
        return True
    operation = queries.operation_of(db, viewer.tenant_id, approval) if approval else None
    return operation is not None and operation.status not in FINISHED_OPERATION


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str, page: str | None = None, level: str | None = None, approval: str | None = None):
    settings = request.app.state.settings

    def work(db, viewer):
        run = _run_or_404(db, viewer, run_id)
        level_filter = level if level in ("catastrophic", "error", "warning", "info") else None
        return render(request, "run.html", viewer, run=run, graph=run_statistics(run), approval=approval,
                      settling=_settling(db, viewer, run, approval),
                      findings=queries.findings_by_rule(db, run, queries.page_number(page), level_filter), level=level_filter,
                      has_log=queries.has_log(settings, run), entities=[e.name for e in ENTITIES])
    return _page(request, work)


@router.get("/runs/{run_id}/status", response_class=HTMLResponse)
def run_status(request: Request, run_id: str, approval: str | None = None):
    """The run's status badge, polled while it runs (or its approval is waiting to start); once it has finished, the
    page reloads to show the results."""
    def work(db, viewer):
        run = _run_or_404(db, viewer, run_id)
        settling = _settling(db, viewer, run, approval)
        response = render(request, "_run_status.html", viewer, run=run, approval=approval, settling=settling)
        if not settling:
            response.headers["HX-Refresh"] = "true"
        return response
    return _page(request, work)


@router.get("/runs/{run_id}/findings", response_class=HTMLResponse)
def findings_list(request: Request, run_id: str, rule: str | None = None, file: str | None = None, page: str | None = None):
    settings = request.app.state.settings

    def work(db, viewer):
        run = _run_or_404(db, viewer, run_id)
        listed = queries.findings_page(settings, run, queries.page_number(page), rule=rule or None, file=file or None)
        name = "_findings_table.html" if request.headers.get("hx-request") else "findings.html"
        return render(request, name, viewer, run=run, rule=rule or "", file=file or "", listed=listed,
                      total=queries.rule_total(db, run, rule or None, file or None),
                      filters="".join(f"&{urlencode({k: v})}" for k, v in (("rule", rule), ("file", file)) if v))
    return _page(request, work)


@router.get("/runs/{run_id}/line", response_class=HTMLResponse)
def finding_line(request: Request, run_id: str, activity: str, file: str, line: int):
    def work(db, viewer):
        run = _run_or_404(db, viewer, run_id)
        found = next((a for a in run.activities if a.id == activity), None)
        if found is None:
            raise PageError(404, f"Run {run.id} has no activity {activity}.")
        source = queries.source_line(found, file, line)
        return render(request, "line.html", viewer, run=run, activity=found, file=file, number=line, source=source)
    return _page(request, work)


@router.get("/runs/{run_id}/log.{kind}")
def findings_log(request: Request, run_id: str, kind: str):
    settings = request.app.state.settings
    if kind not in LOG_KINDS:
        raise PageError(404, f"There is no log in the {kind} format; use csv or jsonl.")

    def work(db, viewer):
        run = _run_or_404(db, viewer, run_id)
        files = [findings_path(settings, run.tenant_id, run.id, a.id, kind) for a in run.activities]
        return run.id, [f for f in files if f.exists()]
    found_id, files = _in_db(request, work)
    if not files:
        raise PageError(404, f"Run {found_id} has no findings log: none of its activities validated a package.")
    return StreamingResponse(concatenated_logs(files, kind), media_type=LOG_KINDS[kind], headers={
        "Content-Disposition": f'attachment; filename="run-{found_id}-findings.{kind}"'})


@router.get("/trends", response_class=HTMLResponse)
def trends(request: Request):
    def work(db, viewer):
        viewer.require(RUNS.read, "see runs")
        series = queries.trend_series(db, viewer.tenant_id)
        return render(request, "trends.html", viewer, series=series, labels=queries.STATISTIC_LABELS,
                      rows=list(zip(*[series[k] for k in series])) if series["runId"] else [], keys=list(series))
    return _page(request, work)


# --- held runs: approve or discard ----------------------------------------------------------------------------------
@router.get("/held", response_class=HTMLResponse)
def held(request: Request):
    def work(db, viewer):
        viewer.require(RUNS.read, "see runs")
        return render(request, "held.html", viewer, runs=queries.held_runs(db, viewer.tenant_id))
    return _page(request, work)


async def _post(request: Request, work: Callable, *, write: bool = False):
    """A form's action: the signed-in user, the form's CSRF token checked, then ``work(db, viewer, form)`` in a
    session (committed when ``write``); returns the viewer and what ``work`` returned."""
    viewer = await run_in_threadpool(_in_db, request, lambda db, v: v)
    form = await _form(request, viewer)
    return viewer, await run_in_threadpool(_in_db, request, lambda db, v: work(db, v, form), write=write)


@router.post("/runs/{run_id}/approve")
async def approve(request: Request, run_id: str):
    state = request.app.state

    def work(db, viewer, _form):
        run = _run_or_404(db, viewer, run_id)
        viewer.require(START, "approve a held run")
        return jobs.begin_approval(db, tenant_id=viewer.tenant_id, settings=state.settings, sessions=state.sessions,
                                   run_id=run.id, location=_api_url(request, f"runs/{run.id}"))
    _viewer, (runner, found_id, operation_id) = await _post(request, work, write=True)
    state.executor.submit("runs", jobs.approve_run, state.sessions, runner, found_id, operation_id)
    return _see_other(f"/admin/runs/{found_id}?approval={operation_id}")


@router.post("/runs/{run_id}/discard")
async def discard(request: Request, run_id: str):
    state = request.app.state

    def work(db, viewer, _form):
        run = _run_or_404(db, viewer, run_id)
        viewer.require(START, "discard a held run")
        return jobs.held_run(db, tenant_id=viewer.tenant_id, run_id=run.id).id
    viewer, found_id = await _post(request, work)
    await run_in_threadpool(Runner(viewer.tenant_id, state.settings, state.sessions).discard, found_id)
    return _see_other(f"/admin/runs/{found_id}")


@router.post("/runs/start")
async def start_run(request: Request):
    state = request.app.state

    def work(db, viewer, _form):
        viewer.require(START, "start a run")
        return jobs.begin_on_demand_run(db, tenant_id=viewer.tenant_id, settings=state.settings, sessions=state.sessions,
                                        location=lambda run_id: _api_url(request, f"runs/{run_id}"))
    _viewer, (runner, run_id, operation_id) = await _post(request, work, write=True)
    state.executor.submit("runs", jobs.execute_run, state.sessions, runner, run_id, operation_id)
    return _see_other(f"/admin/runs/{run_id}")


# --- the match report (its data comes from matching) ----------------------------------------------------------------
@router.get("/matching", response_class=HTMLResponse)
def match_report(request: Request, page: str | None = None):
    settings = request.app.state.settings

    def work(db, viewer):
        viewer.require(RUNS.read, "see the match report")
        number = queries.page_number(page)
        report = matching.match_report(reader_lake(settings, request.app.state.sessions, viewer.tenant_id),
                                       offset=(number - 1) * queries.PAGE_SIZE, limit=queries.PAGE_SIZE)
        listed = None if report is None else queries.Page(report.cases, number, queries.PAGE_SIZE, report.cases_total)
        return render(request, "matching.html", viewer, report=report, listed=listed, table=matching.MATCH_TABLE)
    return _in_db(request, work)  # a lake table matching writes: not tied to the tenant's revision


# --- provisioning plans: the preview of every change, approve or discard a held plan ----------------------------------
PLANS_WRITE = OUTBOUND_FLOW_SETS.write


def _plan_or_404(db, viewer: Viewer, run_id: str) -> plans.PlannedRun:
    viewer.require(OUTBOUND_FLOW_SETS.read, "see provisioning plans")
    run = queries.run_of(db, viewer.tenant_id, run_id)
    found = None if run is None else plans.planned_run(run)
    if found is None:
        raise PageError(404, f"There is no provisioning plan of run {run_id} in tenant {viewer.tenant_id}.")
    return found


@router.get("/plans", response_class=HTMLResponse)
def provisioning_plans(request: Request, page: str | None = None):
    def work(db, viewer):
        viewer.require(OUTBOUND_FLOW_SETS.read, "see provisioning plans")
        number = queries.page_number(page)
        rows, total = plans.planned_runs(db, viewer.tenant_id, offset=(number - 1) * queries.PAGE_SIZE, limit=queries.PAGE_SIZE)
        return render(request, "plans.html", viewer, listed=queries.Page(rows, number, queries.PAGE_SIZE, total))
    return _page(request, work)


def _plan_status(db, viewer: Viewer, found: plans.PlannedRun, approval: str | None) -> dict:
    """The plan's state and, after an approval from the dashboard, its operation; ``settling`` while it applies."""
    operation = queries.operation_of(db, viewer.tenant_id, approval) if approval else None
    settling = found.state.code == "applying" or (operation is not None and operation.status not in FINISHED_OPERATION)
    return {"planned": found, "run": found.run, "approval": operation, "settling": settling}


@router.get("/plans/{run_id}", response_class=HTMLResponse)
def plan_page(request: Request, run_id: str, kind: str | None = None, page: str | None = None, approval: str | None = None):
    settings = request.app.state.settings

    def work(db, viewer):
        found = _plan_or_404(db, viewer, run_id)
        number, chosen = queries.page_number(page), kind if kind in plans.KINDS else None
        ops = plans.operations(reader_lake(settings, request.app.state.sessions, viewer.tenant_id), found.run.id, kind=chosen,
                               offset=(number - 1) * queries.PAGE_SIZE, limit=queries.PAGE_SIZE)
        return render(request, "plan.html", viewer, ops=ops, kind=chosen, kinds=plans.KINDS,
                      listed=queries.Page(ops.rows, number, queries.PAGE_SIZE, ops.total),
                      may_decide=viewer.may(PLANS_WRITE), **_plan_status(db, viewer, found, approval))
    return _in_db(request, work)  # the apply records results in the lake as it goes: not tied to the revision


@router.get("/plans/{run_id}/status", response_class=HTMLResponse)
def plan_status(request: Request, run_id: str, approval: str | None = None):
    def work(db, viewer):
        context = _plan_status(db, viewer, _plan_or_404(db, viewer, run_id), approval)
        response = render(request, "_plan_status.html", viewer, **context)
        if not context["settling"]:
            response.headers["HX-Refresh"] = "true"
        return response
    return _in_db(request, work)


@router.post("/plans/{run_id}/approve")
async def approve_plan(request: Request, run_id: str):
    state = request.app.state

    def work(db, viewer, _form):
        found = _plan_or_404(db, viewer, run_id)
        viewer.require(PLANS_WRITE, "approve a provisioning plan")
        return found.run.id, jobs.begin_plan_approval(db, tenant_id=viewer.tenant_id, run_id=found.run.id,
                                                      location=_api_url(request, f"runs/{found.run.id}/plan"))
    viewer, (found_id, operation_id) = await _post(request, work, write=True)
    provisioner = Provisioner(viewer.tenant_id, state.settings, state.sessions)
    state.executor.submit("runs", jobs.approve_plan, state.sessions, provisioner, found_id, operation_id)
    return _see_other(f"/admin/plans/{found_id}?approval={operation_id}")


@router.post("/plans/{run_id}/discard")
async def discard_plan(request: Request, run_id: str):
    state = request.app.state

    def work(db, viewer, _form):
        found = _plan_or_404(db, viewer, run_id)
        viewer.require(PLANS_WRITE, "discard a provisioning plan")
        return jobs.held_run(db, tenant_id=viewer.tenant_id, run_id=found.run.id).id
    viewer, found_id = await _post(request, work)
    await run_in_threadpool(Provisioner(viewer.tenant_id, state.settings, state.sessions).discard, found_id)
    return _see_other(f"/admin/plans/{found_id}")


# --- flows, connectors, thresholds ------------------------------------------------------------------------------------
def _flow_or_404(db, viewer: Viewer, flow_id: str) -> InboundFlow:
    flow = db.get(InboundFlow, flow_id)
    if flow is None or flow.tenant_id != viewer.tenant_id:
        raise PageError(404, f"There is no inbound flow {flow_id} in tenant {viewer.tenant_id}.")
    return flow


def _connector_or_404(db, viewer: Viewer, connector_id: str) -> DataConnector:
    connector = db.get(DataConnector, connector_id)
    if connector is None or connector.tenant_id != viewer.tenant_id:
        raise PageError(404, f"There is no data connector {connector_id} in tenant {viewer.tenant_id}.")
    return connector


@router.get("/flows", response_class=HTMLResponse)
def flows(request: Request):
    def work(db, viewer):
        viewer.require(INBOUND_FLOWS.read, "see inbound flows")
        flow_sets = (list(db.scalars(select(OutboundFlowSet).where(OutboundFlowSet.tenant_id == viewer.tenant_id)
                                     .order_by(OutboundFlowSet.display_name)))
                     if viewer.may(OUTBOUND_FLOW_SETS.read) else None)
        return render(request, "flows.html", viewer, flows=queries.flows_with_last_activity(db, viewer.tenant_id),
                      default_threshold=request.app.state.settings.deactivation_threshold, flow_sets=flow_sets)
    return _page(request, work)


def _flow_page(request: Request, viewer: Viewer, flow: InboundFlow, *, status: int = 200, error: str | None = None,
               saved: bool = False) -> HTMLResponse:
    return render(request, "flow.html", viewer, status=status, flow=flow, error=error, saved=saved,
                  entities=[e.name for e in ENTITIES], default_threshold=request.app.state.settings.deactivation_threshold,
                  may_edit=viewer.may(INBOUND_FLOWS.write), may_upload=viewer.may(UPLOAD),
                  may_connector=viewer.may(DATA_CONNECTORS.read))


@router.get("/flows/{flow_id}", response_class=HTMLResponse)
def flow_page(request: Request, flow_id: str, saved: str | None = None):
    def work(db, viewer):
        viewer.require(INBOUND_FLOWS.read, "see inbound flows")
        return _flow_page(request, viewer, _flow_or_404(db, viewer, flow_id), saved=bool(saved))
    return _page(request, work)


def _percent(value: str, name: str) -> float | None:
    """A threshold typed as a percentage (blank: not set)."""
    value = value.strip().rstrip("%").strip()
    if not value:
        return None
    try:
        share = float(value) / 100
    except ValueError:
        raise PageError(400, f"The threshold for {name} must be a percentage from 0 to 100, not {value!r}.") from None
    if not 0 <= share <= 1:
        raise PageError(400, f"The threshold for {name} must be a percentage from 0 to 100, not {value}.")
    return share


@router.post("/flows/{flow_id}", response_class=HTMLResponse)
async def edit_flow(request: Request, flow_id: str):
    viewer = await run_in_threadpool(_in_db, request, lambda db, v: v)
    form = await _form(request, viewer)

    def work(db, viewer):
        viewer.require(INBOUND_FLOWS.write, "change an inbound flow")
        flow = _flow_or_404(db, viewer, flow_id)
        try:
            thresholds = {name: share for name in ("default", *(e.name for e in ENTITIES))
                          if (share := _percent(str(form.get(f"threshold-{name}") or ""), name)) is not None}
            holds.check_thresholds(thresholds, (e.name for e in ENTITIES))
            patch: dict[str, Any] = {"displayName": str(form.get("displayName") or "").strip()}
            expiration = str(form.get("expirationDateTime") or "").strip()
            patch["expirationDateTime"] = f"{expiration}:00Z" if len(expiration) == 16 else (expiration or None)
            INBOUND_FLOWS.update(db=db, tenant_id=viewer.tenant_id, row=flow, raw=json.dumps(patch).encode())
            flow.thresholds = thresholds
            db.commit()
        except (HomeroomError, PageError) as exc:
            db.rollback()
            message = exc.message
            return _flow_page(request, viewer, _flow_or_404(db, viewer, flow_id), status=400, error=message)
        return _see_other(f"/admin/flows/{flow.id}?saved=1")
    return await run_in_threadpool(_in_db, request, work)


def _connector_page(request: Request, viewer: Viewer, connector: DataConnector, *, status: int = 200,
                    error: str | None = None, saved: bool = False) -> HTMLResponse:
    codes = sorted({fmt.file_format_code for fmt in FORMATS.values() if fmt.file_format_code})
    return render(request, "connector.html", viewer, status=status, connector=connector, json=DATA_CONNECTORS.to_json(connector),
                  error=error, saved=saved, codes=codes, may_edit=viewer.may(DATA_CONNECTORS.write))


@router.get("/connectors/{connector_id}", response_class=HTMLResponse)
def connector_page(request: Request, connector_id: str, saved: str | None = None):
    def work(db, viewer):
        viewer.require(DATA_CONNECTORS.read, "see data connectors")
        return _connector_page(request, viewer, _connector_or_404(db, viewer, connector_id), saved=bool(saved))
    return _page(request, work)


@router.post("/connectors/{connector_id}", response_class=HTMLResponse)
async def edit_connector(request: Request, connector_id: str):
    viewer = await run_in_threadpool(_in_db, request, lambda db, v: v)
    form = await _form(request, viewer)

    def work(db, viewer):
        viewer.require(DATA_CONNECTORS.write, "change a data connector")
        connector = _connector_or_404(db, viewer, connector_id)
        patch: dict[str, Any] = {"displayName": str(form.get("displayName") or "").strip()}
        if connector.kind == "azureDataLakeConnector":
            code = str(form.get("fileFormat") or "")
            patch["fileFormat"] = {"code": code} if code else None
        try:
            DATA_CONNECTORS.update(db=db, tenant_id=viewer.tenant_id, row=connector, raw=json.dumps(patch).encode())
            db.commit()
        except HomeroomError as exc:
            db.rollback()
            return _connector_page(request, viewer, _connector_or_404(db, viewer, connector_id), status=400, error=exc.message)
        return _see_other(f"/admin/connectors/{connector.id}?saved=1")
    return await run_in_threadpool(_in_db, request, work)


# --- outbound flow sets: the thresholds that hold a provisioning plan ------------------------------------------------
#: The limits of a flow set's thresholds, as the form names them: (field, what it limits).
PLAN_LIMITS = (("creates", "accounts created"), ("disables", "accounts disabled"),
               ("memberRemovals", "memberships removed"))


def _flow_set_or_404(db, viewer: Viewer, set_id: str) -> OutboundFlowSet:
    viewer.require(OUTBOUND_FLOW_SETS.read, "see outbound flow sets")
    row = db.get(OutboundFlowSet, set_id)
    if row is None or row.tenant_id != viewer.tenant_id:
        raise PageError(404, f"There is no outbound flow set {set_id} in tenant {viewer.tenant_id}.")
    return row


def _flow_set_page(request: Request, db, viewer: Viewer, row: OutboundFlowSet, *, status: int = 200,
                   error: str | None = None, saved: bool = False) -> HTMLResponse:
    try:
        options = parse_options(row.options, f"flow set {row.display_name!r}")
    except HomeroomError as exc:  # stored options a newer or older version wrote: shown, not fatal
        options, error = parse_options({}, ""), error or exc.message
    flows = db.scalars(select(ProvisioningFlow).where(ProvisioningFlow.tenant_id == viewer.tenant_id,
                                                      ProvisioningFlow.flow_set_id == row.id))
    return render(request, "flow_set.html", viewer, status=status, flow_set=row, thresholds=options.thresholds,
                  renames=options.renames, limits=PLAN_LIMITS, flows=sorted(f.kind for f in flows), error=error,
                  saved=saved, may_edit=viewer.may(OUTBOUND_FLOW_SETS.write))


@router.get("/flow-sets/{set_id}", response_class=HTMLResponse)
def flow_set_page(request: Request, set_id: str, saved: str | None = None):
    def work(db, viewer):
        return _flow_set_page(request, db, viewer, _flow_set_or_404(db, viewer, set_id), saved=bool(saved))
    return _page(request, work)


def _whole(value: str, name: str) -> int | None:
    """An absolute limit typed as a whole number (blank: none)."""
    value = value.strip().replace(",", "")
    if not value:
        return None
    if not value.isdigit():
        raise PageError(400, f"The absolute limit of {name} must be a whole number from 0, not {value!r}.")
    return int(value)


@router.post("/flow-sets/{set_id}", response_class=HTMLResponse)
async def edit_flow_set(request: Request, set_id: str):
    def work(db, viewer, form):
        row = _flow_set_or_404(db, viewer, set_id)
        viewer.require(OUTBOUND_FLOW_SETS.write, "change an outbound flow set")
        def text(name: str) -> str:
            return str(form.get(name) or "")

        try:
            thresholds: dict[str, Any] = {}
            for name, what in PLAN_LIMITS:
                thresholds[name] = {"share": _percent(text(f"{name}-share"), what),
                                    "absolute": _whole(text(f"{name}-absolute"), what)}
            for name, what in (("perOrgDisables", "one organization's people disabled"),
                               ("directoryShrink", "accounts missing from a snapshot")):
                if (share := _percent(text(name), what)) is not None:
                    thresholds[name] = share
            options = {**(row.options or {}), "thresholds": thresholds, "renames": text("renames") or "approval"}
            parse_options(options, f"flow set {row.display_name!r}")  # the planner's own check
            row.options, row.last_modified = options, utcnow()
            db.commit()
        except (HomeroomError, PageError) as exc:
            db.rollback()
            return _flow_set_page(request, db, viewer, _flow_set_or_404(db, viewer, set_id), status=400, error=exc.message)
        return _see_other(f"/admin/flow-sets/{row.id}?saved=1")
    _viewer, answer = await _post(request, work)
    return answer


# --- directory targets: settings, and secrets replaced but never shown ---------------------------------------------
TARGETS_READ, TARGETS_WRITE = OUTBOUND_FLOW_SETS.read, OUTBOUND_FLOW_SETS.write


def _target_or_404(db, viewer: Viewer, target_id: str) -> DirectoryTarget:
    viewer.require(TARGETS_READ, "see directory targets")
    target = db.get(DirectoryTarget, target_id)
    if target is None or target.tenant_id != viewer.tenant_id:
        raise PageError(404, f"There is no directory target {target_id} in tenant {viewer.tenant_id}.")
    return target


@router.get("/targets", response_class=HTMLResponse)
def targets_page(request: Request):
    def work(db, viewer):
        viewer.require(TARGETS_READ, "see directory targets")
        return render(request, "targets.html", viewer, targets=[(t, target_service.target_json(t), kind_of(t.kind))
                                                                 for t in target_service.list_targets(db=db, tenant_id=viewer.tenant_id)])
    return _page(request, work)


def _target_page(request: Request, db, viewer: Viewer, target: DirectoryTarget, *, status: int = 200,
                 error: str | None = None, saved: bool = False, fields: list | None = None) -> HTMLResponse:
    shown = target_service.target_json(target)
    sources = {s.id: s.display_name for s in db.scalars(select(SourceSystem).where(SourceSystem.tenant_id == viewer.tenant_id))}
    return render(request, "target.html", viewer, status=status, target=target, kind=kind_of(target.kind), shown=shown,
                  fields=fields or web_targets.setting_fields(target), sources=[sources.get(i, i) for i in shown["sourceSystemIds"]],
                  error=error, saved=saved, may_edit=viewer.may(TARGETS_WRITE))


@router.get("/targets/{target_id}", response_class=HTMLResponse)
def target_page(request: Request, target_id: str, saved: str | None = None):
    def work(db, viewer):
        return _target_page(request, db, viewer, _target_or_404(db, viewer, target_id), saved=bool(saved))
    return _page(request, work)


@router.post("/targets/{target_id}", response_class=HTMLResponse)
async def edit_target(request: Request, target_id: str):
    def work(db, viewer, form):
        target = _target_or_404(db, viewer, target_id)
        viewer.require(TARGETS_WRITE, "change a directory target")
        settings = web_targets.settings_from_form(target, form)
        try:
            # an empty secret field keeps the stored secret: only the typed ones are given
            typed_secrets = {k: v for k, v in web_targets.secrets_from_form(target, form).items() if v}
            target_service.update_target(db=db, tenant_id=viewer.tenant_id, target=target, settings=settings,
                                         secrets=typed_secrets, replace_settings=True)
            db.commit()
        except HomeroomError as exc:
            db.rollback()
            target = _target_or_404(db, viewer, target_id)
            # the form as it was posted, so that the admin corrects it rather than typing it again (never a secret)
            typed = [replace(f, value=(f.name in settings and settings[f.name]) if f.kind == "bool" else
                             str(form.get(f"setting-{f.name}") or "")) for f in web_targets.setting_fields(target)]
            return _target_page(request, db, viewer, target, status=400, error=exc.message, fields=typed)
        return _see_other(f"/admin/targets/{target.id}?saved=1")
    _viewer, answer = await _post(request, work)
    return answer


# --- upload a package and watch it validate and run ---------------------------------------------------------------
@router.get("/flows/{flow_id}/upload", response_class=HTMLResponse)
def upload_page(request: Request, flow_id: str):
    def work(db, viewer):
        viewer.require(UPLOAD, "upload files")
        return render(request, "upload.html", viewer, flow=_flow_or_404(db, viewer, flow_id), error=None)
    return _page(request, work)


@router.post("/flows/{flow_id}/upload", response_class=HTMLResponse)
async def upload(request: Request, flow_id: str):
    state = request.app.state
    viewer = await run_in_threadpool(_in_db, request, lambda db, v: v)
    form = await _form(request, viewer)
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]

    def work(db, viewer):
        viewer.require(UPLOAD, "upload files")
        flow = _flow_or_404(db, viewer, flow_id)
        if not files:
            return render(request, "upload.html", viewer, status=400, flow=flow, error="Choose the CSV files to upload.")
        names = [Path(f.filename.replace("\\", "/")).name for f in files]
        try:
            session = current_session(db, connector=flow.connector, store=state.blob_store, settings=state.settings, reset=True)
            db.commit()  # the session exists before its files arrive, as with getUploadSession
            for name, upload_file in zip(names, files):
                upload_file.file.seek(0)
                state.blob_store.put_blob(session.id, name, iter(partial(upload_file.file.read, 1 << 20), b""))
            location = _api_url(request, f"dataConnectors/{flow.connector_id}")
            operation, session_id = jobs.begin_validation(db, connector=flow.connector, location=location)
            db.commit()
        except HomeroomError as exc:
            db.rollback()
            return render(request, "upload.html", viewer, status=400, flow=flow, error=exc.message)
        return operation.id, partial(jobs.run_validation, state.sessions, state.blob_store, state.settings,
                                     operation_id=operation.id, connector_id=flow.connector_id, session_id=session_id)
    answer = await run_in_threadpool(_in_db, request, work)
    if isinstance(answer, Response):
        return answer
    operation_id, job = answer
    state.executor.submit("validations", job)
    return _see_other(f"/admin/operations/{operation_id}?flow={quote(flow_id)}")


def _operation_context(db, viewer: Viewer, operation_id: str) -> dict:
    viewer.require(OPERATIONS_READ, "see operations")
    operation = queries.operation_of(db, viewer.tenant_id, operation_id)
    if operation is None:
        raise PageError(404, f"There is no operation {operation_id} in tenant {viewer.tenant_id}.")
    finished = operation.status in FINISHED_OPERATION
    runnable = (finished and operation.status == OperationStatus.succeeded and not operation.errors
                and operation.kind == "fileValidateOperation")
    return {"operation": operation, "finished": finished, "runnable": runnable}


@router.get("/operations/{operation_id}", response_class=HTMLResponse)
def operation_page(request: Request, operation_id: str, flow: str | None = None):
    def work(db, viewer):
        return render(request, "operation.html", viewer, flow_id=flow, **_operation_context(db, viewer, operation_id))
    return _page(request, work)


@router.get("/operations/{operation_id}/status", response_class=HTMLResponse)
def operation_status(request: Request, operation_id: str):
    def work(db, viewer):
        context = _operation_context(db, viewer, operation_id)
        response = render(request, "_operation_status.html", viewer, **context)
        if context["finished"]:
            response.headers["HX-Refresh"] = "true"
        return response
    return _page(request, work)

