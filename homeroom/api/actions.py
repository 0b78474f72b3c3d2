"""industryData actions and functions: getUploadSession, validate, runs/start, provisioning flow reset, and the
per-run findings download (a Homeroom extension). Long work runs in the app's job threads; its progress is an
``operations/{id}`` resource the client polls.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from homeroom.api.errors import BadRequest, Conflict, NotFound
from homeroom.api.resources import DATA_CONNECTORS, INBOUND_FLOWS, OUTBOUND_FLOW_SETS, PROVISIONING_FLOWS, RUNS, iso
from homeroom.api.responses import GraphJSON
from homeroom.api.routes import BASE, _base_url, _call
from homeroom.api.scheduling import check_start_limit, start_run
from homeroom.runs.engine import Runner, _owner, _owner_alive, findings_path
from homeroom.store.models import Operation, Run, utcnow
from homeroom.uploads.sas import session_url
from homeroom.uploads.sessions import UploadError, aware, begin_validation, current_session, run_validation

log = logging.getLogger(__name__)
UPLOAD = ("IndustryData-DataConnector.Upload", "IndustryData-DataConnector.ReadWrite.All")


class RunNotHeld(Conflict):
    """Approve or discard of a run that is not held."""

    code = "RunNotHeld"


class Jobs:
    """The app's background work: validations and runs, in worker threads of the serving process."""

    def __init__(self, state: Any):
        self.state = state
        # Validations are light (names and headers) and may go side by side; a run of a large district takes
        # gigabytes, so runs, of every tenant and from every trigger, go one at a time.
        self.validations = ThreadPoolExecutor(max_workers=2, thread_name_prefix="homeroom-validate")
        self.runs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="homeroom-run")

    def validate(self, *, operation_id: str, connector_id: str, session_id: str | None) -> Future:
        s = self.state
        return self.validations.submit(run_validation, s.sessions, s.blob_store, s.settings, operation_id=operation_id,
                                       connector_id=connector_id, session_id=session_id)

    def run(self, runner: Runner, run_id: str, operation_id: str | None = None) -> Future:
        return self.runs.submit(self.execute, runner, run_id, operation_id)

    def execute(self, runner: Runner, run_id: str, operation_id: str | None = None) -> None:
        """Carry out a started run, then finish its operation (if it has one)."""
        detail = None
        try:
            runner.execute(run_id)
        except Exception as exc:  # noqa: BLE001 - the run and its operation record the failure
            log.exception("run %s failed", run_id)
            detail = f"{type(exc).__name__}: {exc}"
        if operation_id is None:
            return
        with self.state.sessions.begin() as db:
            run, operation = db.get(Run, run_id), db.get(Operation, operation_id)
            operation.status = "failed" if run.status == "failed" else "succeeded"
            operation.status_detail = detail or f"The run ended with status {run.status}."
            operation.last_action, operation.owner = utcnow(), None

    def approve(self, runner: Runner, run_id: str, operation_id: str) -> Future:
        """Apply a held run in the run queue, then finish its operation."""
        def work() -> None:
            detail, status = None, "succeeded"
            try:
                runner.approve(run_id)
            except Exception as exc:  # noqa: BLE001 - the operation records the failure
                log.exception("approving run %s failed", run_id)
                detail, status = f"{type(exc).__name__}: {exc}", "failed"
            with self.state.sessions.begin() as db:
                run, operation = db.get(Run, run_id), db.get(Operation, operation_id)
                operation.status, operation.last_action, operation.owner = status, utcnow(), None
                operation.status_detail = detail or f"The run was approved and ended with status {run.status}."
        return self.runs.submit(work)

    def recover(self) -> None:
        """Operations left running by a process that is gone end ``failed`` (their run is recovered by its runner)."""
        with self.state.sessions.begin() as db:
            for operation in db.scalars(select(Operation).where(Operation.status.in_(("notStarted", "running")))):
                if not _owner_alive(operation.owner):
                    operation.status, operation.last_action, operation.owner = "failed", utcnow(), None
                    operation.status_detail = "The server stopped before the operation finished; start it again."

    def shutdown(self) -> None:
        self.validations.shutdown(wait=True)
        self.runs.shutdown(wait=True)


def _flag(value: str | None, name: str) -> bool:
    if value is None or value == "":
        return False
    low = value.strip().strip("'").lower()
    if low not in ("true", "false"):
        raise BadRequest(f"Invalid value for parameter '{name}': expected true or false, not {value!r}.")
    return low == "true"


def _operation_url(request: Request, operation_id: str) -> str:
    return f"{_base_url(request)}/external/industryData/operations/{operation_id}"


def add_action_routes(router: APIRouter) -> None:
    """The actions' routes (before the generic ``/{collection}/{key}`` routes)."""

    async def get_upload_session(request: Request, key: str, params: str | None = None) -> JSONResponse:
        reset = _flag(request.query_params.get("resetSession"), "resetSession")
        if params:  # OData function syntax: getUploadSession(resetSession=true)
            name, _, value = params.partition("=")
            if name.strip().lower() != "resetsession":
                raise BadRequest(f"getUploadSession has no parameter '{name.strip()}'; its only parameter is resetSession.")
            reset = _flag(value, "resetSession")
        state = request.app.state

        def work(db, principal):
            connector = DATA_CONNECTORS.get(db=db, tenant_id=principal.tenant_id, key=key)
            try:
                session = current_session(db, connector=connector, store=state.blob_store, settings=state.settings, reset=reset)
            except UploadError as exc:
                raise BadRequest(str(exc)) from exc
            base = state.public_url or str(request.base_url).rstrip("/")
            url = session_url(base, session.id, aware(session.session_expires), state.sas_key)
            return {"@odata.context": f"{_base_url(request)}/$metadata#microsoft.graph.industryData.fileUploadSession",
                    "containerExpirationDateTime": iso(session.container_expires), "containerId": session.id,
                    "sessionExpirationDateTime": iso(session.session_expires), "sessionUrl": url}
        return GraphJSON(await _call(request, UPLOAD, work))

    async def validate(request: Request, key: str) -> Response:
        state = request.app.state

        def work(db, principal):
            connector = DATA_CONNECTORS.get(db=db, tenant_id=principal.tenant_id, key=key)
            location = f"{_base_url(request)}/external/industryData/dataConnectors/{connector.id}"
            if connector.kind != "azureDataLakeConnector":
                raise BadRequest(f"dataConnector '{connector.id}' is a {connector.kind}: Homeroom validates the uploads of "
                                 "azureDataLakeConnector connectors; OneRoster API connectors are checked when a run reads them.")
            operation, session_id = begin_validation(db, connector=connector, location=location, owner=_owner())
            return operation.id, connector.id, session_id
        operation_id, connector_id, session_id = await _call(request, UPLOAD, work)
        state.jobs.validate(operation_id=operation_id, connector_id=connector_id, session_id=session_id)
        return Response(status_code=202, headers={"Location": _operation_url(request, operation_id)})

    async def validate_flow_connector(request: Request, key: str) -> Response:
        def work(db, principal):
            return INBOUND_FLOWS.get(db=db, tenant_id=principal.tenant_id, key=key).connector_id
        connector_id = await _call(request, UPLOAD, work)
        return await validate(request, connector_id)

    async def start(request: Request) -> Response:
        state = request.app.state

        def work(db, principal):
            runner = Runner(principal.tenant_id, state.settings, state.sessions)
            runner.recover()
            check_start_limit(db, principal.tenant_id, state.settings)
            run = start_run(db, runner, trigger="onDemand")
            operation = Operation(tenant_id=principal.tenant_id, kind="longRunningOperation", status="running", owner=_owner(),
                                  resource_location=f"{_base_url(request)}/external/industryData/runs/{run.id}")
            db.add(operation)
            db.flush()
            return runner, run.id, operation.id
        runner, run_id, operation_id = await _call(request, ("IndustryData-Run.Start",), work)
        state.jobs.run(runner, run_id, operation_id)
        return Response(status_code=202, headers={"Location": _operation_url(request, operation_id)})

    def _held_run(db, principal, key: str) -> Run:
        run = RUNS.get(db=db, tenant_id=principal.tenant_id, key=key)
        if run.status != "held":
            raise RunNotHeld(f"Run '{key}' is {run.status}, not held; only a held run can be approved or discarded.")
        return run

    async def approve(request: Request, key: str) -> Response:
        state = request.app.state

        def work(db, principal):
            run = _held_run(db, principal, key)
            operation = Operation(tenant_id=principal.tenant_id, kind="longRunningOperation", status="running", owner=_owner(),
                                  resource_location=f"{_base_url(request)}/external/industryData/runs/{run.id}")
            db.add(operation)
            db.flush()
            return Runner(principal.tenant_id, state.settings, state.sessions), run.id, operation.id
        runner, run_id, operation_id = await _call(request, ("IndustryData-Run.Start",), work)
        state.jobs.approve(runner, run_id, operation_id)
        return Response(status_code=202, headers={"Location": _operation_url(request, operation_id)})

    async def discard(request: Request, key: str) -> Response:
        state = request.app.state

        def work(db, principal):
            return Runner(principal.tenant_id, state.settings, state.sessions), _held_run(db, principal, key).id
        runner, run_id = await _call(request, ("IndustryData-Run.Start",), work)
        await run_in_threadpool(runner.discard, run_id)
        return Response(status_code=204)

    async def reset(request: Request, key: str, item: str) -> Response:
        def work(db, principal):
            owner = OUTBOUND_FLOW_SETS.get(db=db, tenant_id=principal.tenant_id, key=key)
            flow = PROVISIONING_FLOWS.get(db=db, tenant_id=principal.tenant_id, key=item, parent=owner)
            PROVISIONING_FLOWS.reset(flow)
        await _call(request, PROVISIONING_FLOWS.write, work)
        return Response(status_code=202)

    async def findings(request: Request, key: str) -> StreamingResponse:
        kind = request.query_params.get("format", "csv").lower()
        if kind not in ("csv", "jsonl"):
            raise BadRequest(f"Invalid value for parameter 'format': {kind!r}; use csv or jsonl.")
        state = request.app.state

        def work(db, principal):
            run = RUNS.get(db=db, tenant_id=principal.tenant_id, key=key)
            files = [findings_path(state.settings, principal.tenant_id, run.id, a.id, kind) for a in run.activities]
            files = [f for f in files if f.exists()]
            if not files:
                raise NotFound(f"Run '{key}' has no findings log (none of its activities validated a package).")
            return files
        files = await _call(request, RUNS.read, work)
        media = "text/csv; charset=utf-8" if kind == "csv" else "application/x-ndjson"
        return StreamingResponse(_concatenated(files, kind), media_type=media, headers={
            "Content-Disposition": f'attachment; filename="run-{key}-findings.{kind}"'})

    desc = "Permissions: IndustryData-DataConnector.Upload, IndustryData-DataConnector.ReadWrite.All."
    for path in ("getUploadSession", "getUploadSession/{params}"):
        router.add_api_route(f"{BASE}/dataConnectors/{{key}}/{path}", get_upload_session, methods=["GET"], tags=["dataConnectors"],
                             summary="Get upload session" + (" with parameters" if "params" in path else ""),
                             responses={200: {"description": "fileUploadSession"}},
                             description=desc + " Returns the connector's active upload session, or a new empty one with "
                             "resetSession=true. The sessionUrl is a signed container URL (see docs/automation.md).",
                             openapi_extra={"parameters": [{"name": "resetSession", "in": "query", "required": False,
                                                            "schema": {"type": "boolean"}}]})
    router.add_api_route(f"{BASE}/dataConnectors/{{key}}/validate", validate, methods=["POST"], tags=["dataConnectors"],
                         summary="Validate the uploaded files", status_code=202, response_class=Response,
                         responses={202: {"description": "Accepted; Location is the fileValidateOperation"}}, description=desc)
    router.add_api_route(f"{BASE}/inboundFlows/{{key}}/dataConnector/validate", validate_flow_connector, methods=["POST"],
                         tags=["inboundFlows"], summary="Validate the uploaded files of a flow's connector", status_code=202,
                         response_class=Response, responses={202: {"description": "Accepted"}}, description=desc)
    router.add_api_route(f"{BASE}/runs/start", start, methods=["POST"], tags=["runs"], summary="Start a run",
                         status_code=202, response_class=Response,
                         responses={202: {"description": "Accepted; Location is the run's longRunningOperation"},
                                    409: {"description": "RunStartLimitReached, RunInProgress or NothingToRun"}},
                         description="Permissions: IndustryData-Run.Start. At most run_start_limit (5) successful on-demand "
                         "runs per run_start_window_hours (12).")
    held = ("Homeroom extension, for runs held by the safety net (deactivation threshold or missing file; Graph shows "
            "them as unknownFutureValue with blockingError RunHeld). Permissions: IndustryData-Run.Start.")
    router.add_api_route(f"{BASE}/runs/{{key}}/approve", approve, methods=["POST"], tags=["runs"], summary="Approve a held run",
                         status_code=202, response_class=Response, description=held + " Writes what the run would change.",
                         responses={202: {"description": "Accepted; Location is a longRunningOperation"},
                                    409: {"description": "RunNotHeld"}})
    router.add_api_route(f"{BASE}/runs/{{key}}/discard", discard, methods=["POST"], tags=["runs"], summary="Discard a held run",
                         status_code=204, response_class=Response, description=held + " Nothing it would change is written.",
                         responses={204: {"description": "Discarded"}, 409: {"description": "RunNotHeld"}})
    router.add_api_route(f"{BASE}/runs/{{key}}/findings", findings, methods=["GET"], tags=["runs"],
                         summary="Download a run's findings log",
                         responses={200: {"description": "The findings (CSV or JSON lines)",
                                          "content": {"text/csv": {}, "application/x-ndjson": {}}}},
                         openapi_extra={"parameters": [{"name": "format", "in": "query", "required": False,
                                                        "schema": {"type": "string", "enum": ["csv", "jsonl"]}}]},
                         description="Homeroom extension. Permissions: IndustryData-Run.Read.All, IndustryData-Run.Start.")
    router.add_api_route(f"{BASE}/outboundProvisioningFlowSets/{{key}}/provisioningFlows/{{item}}/reset", reset,
                         methods=["POST"], tags=["outboundProvisioningFlowSets"], summary="Reset a provisioning flow",
                         status_code=202, response_class=Response, responses={202: {"description": "Accepted, no body"}},
                         description="Permissions: IndustryData-OutboundFlow.ReadWrite.All.")


def _concatenated(files: list[Path], kind: str) -> Iterator[bytes]:
    """The findings of several activities as one file: CSV keeps the first file's BOM and header only."""
    for i, path in enumerate(files):
        with path.open("rb") as fh:
            if i and kind == "csv":
                fh.readline()  # BOM and header of a later activity's file
            while chunk := fh.read(1 << 20):
                yield chunk

