"""The dashboard's routes under ``/admin``: thin handlers over ``queries`` and the runs' jobs, rendering templates.

Every page needs a signed-in user (``signin``) and checks the same permissions as the API route that reads or
changes the same thing; everything is read within the user's tenant, so another tenant's ids are not found (404).
Every POST checks the CSRF token. Long work (validation, runs, approvals) goes to the app's executor, as the API's
actions do, and its page polls with htmx until it has finished.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
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
from homeroom.runs import Runner, holds, jobs
from homeroom.runs.folders import findings_path
from homeroom.store.models import DataConnector, InboundFlow, Run, iso, utc
from homeroom.uploads.sessions import current_session
from homeroom.web import matching, plans, queries
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


@router.post("/runs/{run_id}/approve")
async def approve(request: Request, run_id: str):
    state = request.app.state
    viewer = await run_in_threadpool(_in_db, request, lambda db, v: v)
    await _form(request, viewer)

    def work(db, viewer):
        run = _run_or_404(db, viewer, run_id)
        viewer.require(START, "approve a held run")
        return jobs.begin_approval(db, tenant_id=viewer.tenant_id, settings=state.settings, sessions=state.sessions,
                                   run_id=run.id, location=_api_url(request, f"runs/{run.id}"))
    runner, found_id, operation_id = await run_in_threadpool(_in_db, request, work, write=True)
    state.executor.submit("runs", jobs.approve_run, state.sessions, runner, found_id, operation_id)
    return _see_other(f"/admin/runs/{found_id}?approval={operation_id}")


@router.post("/runs/{run_id}/discard")
async def discard(request: Request, run_id: str):
    state = request.app.state
    viewer = await run_in_threadpool(_in_db, request, lambda db, v: v)
    await _form(request, viewer)

    def work(db, viewer):
        run = _run_or_404(db, viewer, run_id)
        viewer.require(START, "discard a held run")
        jobs.held_run(db, tenant_id=viewer.tenant_id, run_id=run.id)
        return run.id
    found_id = await run_in_threadpool(_in_db, request, work)
    await run_in_threadpool(Runner(viewer.tenant_id, state.settings, state.sessions).discard, found_id)
    return _see_other(f"/admin/runs/{found_id}")


@router.post("/runs/start")
async def start_run(request: Request):
    state = request.app.state
    viewer = await run_in_threadpool(_in_db, request, lambda db, v: v)
    await _form(request, viewer)

    def work(db, viewer):
        viewer.require(START, "start a run")
        return jobs.begin_on_demand_run(db, tenant_id=viewer.tenant_id, settings=state.settings, sessions=state.sessions,
                                        location=lambda run_id: _api_url(request, f"runs/{run_id}"))
    runner, run_id, operation_id = await run_in_threadpool(_in_db, request, work, write=True)
    state.executor.submit("runs", jobs.execute_run, state.sessions, runner, run_id, operation_id)
    return _see_other(f"/admin/runs/{run_id}")


# --- the match report and provisioning plans (their data comes from other stages) -----------------------------------
def _lake_report(request: Request, page: str | None, *, accepted: tuple[str, ...], what: str, read: Callable,
                 template: str, table: str, rows: str, total: str) -> Response:
    """A page over a lake table another stage writes (``None`` from ``read``: not configured yet), one page of rows."""
    settings = request.app.state.settings

    def work(db, viewer):
        viewer.require(accepted, what)
        number = queries.page_number(page)
        report = read(reader_lake(settings, request.app.state.sessions, viewer.tenant_id), offset=(number - 1) * queries.PAGE_SIZE,
                      limit=queries.PAGE_SIZE)
        listed = None if report is None else queries.Page(getattr(report, rows), number, queries.PAGE_SIZE,
                                                           getattr(report, total))
        return render(request, template, viewer, report=report, listed=listed, table=table)
    return _in_db(request, work)  # lake tables other stages write: not tied to the tenant's revision


@router.get("/matching", response_class=HTMLResponse)
def match_report(request: Request, page: str | None = None):
    return _lake_report(request, page, accepted=RUNS.read, what="see the match report", read=matching.match_report,
                        template="matching.html", table=matching.MATCH_TABLE, rows="cases", total="cases_total")


@router.get("/plans", response_class=HTMLResponse)
def provisioning_plans(request: Request, page: str | None = None):
    return _lake_report(request, page, accepted=OUTBOUND_FLOW_SETS.read, what="see provisioning plans", read=plans.plan_report,
                        template="plans.html", table=plans.PLAN_TABLE, rows="operations", total="total")


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
        return render(request, "flows.html", viewer, flows=queries.flows_with_last_activity(db, viewer.tenant_id),
                      default_threshold=request.app.state.settings.deactivation_threshold)
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

