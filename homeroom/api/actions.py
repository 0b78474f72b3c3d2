"""industryData actions and functions: getUploadSession, validate, runs/start, approve and discard of held runs,
provisioning flow reset, and the per-run findings download (Homeroom extensions). Each route maps the request to a
``homeroom.runs.jobs`` function and hands long work to the app's executor; its progress is an ``operations/{id}``
resource the client polls.
"""

from __future__ import annotations

from functools import partial
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from homeroom.api.calls import base_url, call
from homeroom.api.errors import BadRequest
from homeroom.api.resources import DATA_CONNECTORS, INBOUND_FLOWS, INDUSTRY_DATA, OUTBOUND_FLOW_SETS, PROVISIONING_FLOWS, RUNS
from homeroom.api.responses import GraphJSON
from homeroom.errors import NotFoundError
from homeroom.findings.reports import concatenated_logs
from homeroom.outbound.export import plan_csv, plan_json, summary
from homeroom.outbound.service import reset_flow
from homeroom.outbound.service import Provisioner
from homeroom.runs import Runner, jobs
from homeroom.runs.folders import findings_path
from homeroom.store.models import API_CONNECTOR, iso, utc
from homeroom.uploads.sas import session_url
from homeroom.uploads.sessions import current_session

UPLOAD = ("IndustryData-DataConnector.Upload", "IndustryData-DataConnector.ReadWrite.All")
_QUALIFIED = f"{INDUSTRY_DATA.namespace}."
#: Microsoft's OpenAPI spelling of the actions and functions (namespace-qualified), by the path routed here. The path
#: canonicaliser (homeroom.api.paths) maps them at request time; the OpenAPI document lists them as aliases.
QUALIFIED_PATHS = {f"{INDUSTRY_DATA.base}/{plain}": f"{INDUSTRY_DATA.base}/{qualified}" for plain, qualified in (
    ("dataConnectors/{key}/validate", f"dataConnectors/{{key}}/{_QUALIFIED}validate"),
    ("dataConnectors/{key}/getUploadSession",
     f"dataConnectors/{{key}}/{_QUALIFIED}azureDataLakeConnector/{_QUALIFIED}getUploadSession()"),
    ("runs/start", f"runs/{_QUALIFIED}start"),
    ("runs/getStatistics", f"runs/{_QUALIFIED}getStatistics()"),
    ("runs/{key}/getStatistics", f"runs/{{key}}/{_QUALIFIED}getStatistics()"),
    ("outboundProvisioningFlowSets/{key}/provisioningFlows/{item}/reset",
     f"outboundProvisioningFlowSets/{{key}}/provisioningFlows/{{item}}/{_QUALIFIED}reset"),
)}


def _flag(value: str | None, name: str) -> bool:
    if value is None or value == "":
        return False
    low = value.strip().strip("'").lower()
    if low not in ("true", "false"):
        raise BadRequest(f"Invalid value for parameter '{name}': expected true or false, not {value!r}.")
    return low == "true"


def _operation_url(request: Request, operation_id: str) -> str:
    return INDUSTRY_DATA.url(request, f"operations/{operation_id}")


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
            session = current_session(db, connector=connector, store=state.blob_store, settings=state.settings, reset=reset)
            base = state.public_url or str(request.base_url).rstrip("/")
            url = session_url(base, session.id, utc(session.session_expires), state.sas_key)
            return {"@odata.context": f"{base_url(request)}/$metadata#microsoft.graph.industryData.fileUploadSession",
                    "containerExpirationDateTime": iso(session.container_expires), "containerId": session.id,
                    "sessionExpirationDateTime": iso(session.session_expires), "sessionUrl": url}
        return GraphJSON(await call(request, UPLOAD, work))

    async def validate(request: Request, key: str) -> Response:
        state = request.app.state

        def work(db, principal):
            connector = DATA_CONNECTORS.get(db=db, tenant_id=principal.tenant_id, key=key)
            location = INDUSTRY_DATA.url(request, f"dataConnectors/{connector.id}")
            if connector.kind == API_CONNECTOR:  # a OneRoster connector's validate checks its credential
                operation = jobs.begin_credential_check(db, connector=connector, location=location)
                return operation.id, partial(jobs.run_credential_check, state.sessions, state.settings,
                                             operation_id=operation.id, connector_id=connector.id)
            operation, session_id = jobs.begin_validation(db, connector=connector, location=location)
            return operation.id, partial(jobs.run_validation, state.sessions, state.blob_store, state.settings,
                                         operation_id=operation.id, connector_id=connector.id, session_id=session_id)
        operation_id, job = await call(request, UPLOAD, work)
        state.executor.submit("validations", job)
        return Response(status_code=202, headers={"Location": _operation_url(request, operation_id)})

    async def validate_flow_connector(request: Request, key: str) -> Response:
        def work(db, principal):
            return INBOUND_FLOWS.get(db=db, tenant_id=principal.tenant_id, key=key).connector_id
        connector_id = await call(request, UPLOAD, work)
        return await validate(request, connector_id)

    async def start(request: Request) -> Response:
        state = request.app.state

        def work(db, principal):
            return jobs.begin_on_demand_run(db, tenant_id=principal.tenant_id, settings=state.settings, sessions=state.sessions,
                                            location=lambda run_id: INDUSTRY_DATA.url(request, f"runs/{run_id}"))
        runner, run_id, operation_id = await call(request, ("IndustryData-Run.Start",), work)
        state.executor.submit("runs", jobs.execute_run, state.sessions, runner, run_id, operation_id)
        return Response(status_code=202, headers={"Location": _operation_url(request, operation_id)})

    async def approve(request: Request, key: str) -> Response:
        state = request.app.state

        def work(db, principal):
            return jobs.begin_approval(db, tenant_id=principal.tenant_id, settings=state.settings, sessions=state.sessions,
                                       run_id=key, location=INDUSTRY_DATA.url(request, f"runs/{key}"))
        runner, run_id, operation_id = await call(request, ("IndustryData-Run.Start",), work)
        state.executor.submit("runs", jobs.approve_run, state.sessions, runner, run_id, operation_id)
        return Response(status_code=202, headers={"Location": _operation_url(request, operation_id)})

    async def discard(request: Request, key: str) -> Response:
        state = request.app.state

        def work(db, principal):
            jobs.held_run(db, tenant_id=principal.tenant_id, run_id=key)
            return Runner(principal.tenant_id, state.settings, state.sessions)
        runner = await call(request, ("IndustryData-Run.Start",), work)
        await run_in_threadpool(runner.discard, key)
        return Response(status_code=204)

    async def reset(request: Request, key: str, item: str) -> Response:
        def work(db, principal):
            owner = OUTBOUND_FLOW_SETS.get(db=db, tenant_id=principal.tenant_id, key=key)
            flow = PROVISIONING_FLOWS.get(db=db, tenant_id=principal.tenant_id, key=item, parent=owner)
            reset_flow(db=db, flow=flow)
        await call(request, PROVISIONING_FLOWS.write, work)
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
                raise NotFoundError(f"Run '{key}' has no findings log (none of its activities validated a package).")
            return files
        files = await call(request, RUNS.read, work)
        media = "text/csv; charset=utf-8" if kind == "csv" else "application/x-ndjson"
        return StreamingResponse(concatenated_logs(files, kind), media_type=media, headers={
            "Content-Disposition": f'attachment; filename="run-{key}-findings.{kind}"'})

    async def plan(request: Request, key: str) -> Response:
        kind = request.query_params.get("format", "json").lower()
        if kind not in ("csv", "json"):
            raise BadRequest(f"Invalid value for parameter 'format': {kind!r}; use csv or json.")
        state = request.app.state

        def work(db, principal):
            RUNS.get(db=db, tenant_id=principal.tenant_id, key=key)  # another tenant's run is not found
            return Provisioner(principal.tenant_id, state.settings, state.sessions).read(key)
        frame = await call(request, OUTBOUND_FLOW_SETS.read, work)
        if kind == "csv":
            return Response(plan_csv(frame), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="run-{key}-plan.csv"'})
        return GraphJSON({"runId": key, "summary": summary(frame).to_dicts(), "value": plan_json(frame)})

    desc = "Permissions: IndustryData-DataConnector.Upload, IndustryData-DataConnector.ReadWrite.All."
    for path in ("getUploadSession", "getUploadSession/{params}"):
        router.add_api_route(f"{INDUSTRY_DATA.base}/dataConnectors/{{key}}/{path}", get_upload_session, methods=["GET"], tags=["dataConnectors"],
                             summary="Get upload session" + (" with parameters" if "params" in path else ""),
                             responses={200: {"description": "fileUploadSession"}},
                             description=desc + " Returns the connector's active upload session, or a new empty one with "
                             "resetSession=true. The sessionUrl is a signed container URL (see docs/automation.md).",
                             openapi_extra={"parameters": [{"name": "resetSession", "in": "query", "required": False,
                                                            "schema": {"type": "boolean"}}]})
    router.add_api_route(f"{INDUSTRY_DATA.base}/dataConnectors/{{key}}/validate", validate, methods=["POST"], tags=["dataConnectors"],
                         summary="Validate the uploaded files", status_code=202, response_class=Response,
                         responses={202: {"description": "Accepted; Location is the fileValidateOperation (for a "
                                                         "oneRosterApiDataConnector, the longRunningOperation of its credential check)"}},
                         description=desc)
    router.add_api_route(f"{INDUSTRY_DATA.base}/inboundFlows/{{key}}/dataConnector/validate", validate_flow_connector, methods=["POST"],
                         tags=["inboundFlows"], summary="Validate the uploaded files of a flow's connector", status_code=202,
                         response_class=Response, responses={202: {"description": "Accepted"}}, description=desc)
    router.add_api_route(f"{INDUSTRY_DATA.base}/runs/start", start, methods=["POST"], tags=["runs"], summary="Start a run",
                         status_code=202, response_class=Response,
                         responses={202: {"description": "Accepted; Location is the run's longRunningOperation"},
                                    409: {"description": "RunStartLimitReached, RunInProgress or NothingToRun"}},
                         description="Permissions: IndustryData-Run.Start. At most run_start_limit (5) successful on-demand "
                         "runs per run_start_window_hours (12).")
    held = ("Homeroom extension, for runs held by the safety net (deactivation threshold or missing file; Graph shows "
            "them as unknownFutureValue with blockingError RunHeld). Permissions: IndustryData-Run.Start.")
    router.add_api_route(f"{INDUSTRY_DATA.base}/runs/{{key}}/approve", approve, methods=["POST"], tags=["runs"], summary="Approve a held run",
                         status_code=202, response_class=Response, description=held + " Writes what the run would change.",
                         responses={202: {"description": "Accepted; Location is a longRunningOperation"},
                                    409: {"description": "RunNotHeld"}})
    router.add_api_route(f"{INDUSTRY_DATA.base}/runs/{{key}}/discard", discard, methods=["POST"], tags=["runs"], summary="Discard a held run",
                         status_code=204, response_class=Response, description=held + " Nothing it would change is written.",
                         responses={204: {"description": "Discarded"}, 409: {"description": "RunNotHeld"}})
    router.add_api_route(f"{INDUSTRY_DATA.base}/runs/{{key}}/findings", findings, methods=["GET"], tags=["runs"],
                         summary="Download a run's findings log",
                         responses={200: {"description": "The findings (CSV or JSON lines)",
                                          "content": {"text/csv": {}, "application/x-ndjson": {}}}},
                         openapi_extra={"parameters": [{"name": "format", "in": "query", "required": False,
                                                        "schema": {"type": "string", "enum": ["csv", "jsonl"]}}]},
                         description="Homeroom extension. Permissions: IndustryData-Run.Read.All, IndustryData-Run.Start.")
    router.add_api_route(f"{INDUSTRY_DATA.base}/runs/{{key}}/plan", plan, methods=["GET"], tags=["runs"],
                         summary="Get a run's provisioning plan",
                         responses={200: {"description": "The plan: a summary by operation and reason, and every operation "
                                                         "(JSON), or the operations as CSV",
                                          "content": {"application/json": {}, "text/csv": {}}},
                                    404: {"description": "No such run, or the run has no plan"}},
                         openapi_extra={"parameters": [{"name": "format", "in": "query", "required": False,
                                                        "schema": {"type": "string", "enum": ["json", "csv"]}}]},
                         description="Homeroom extension (docs/provisioning.md). Permissions: "
                         "IndustryData-OutboundFlow.Read.All, IndustryData-OutboundFlow.ReadWrite.All.")
    router.add_api_route(f"{INDUSTRY_DATA.base}/outboundProvisioningFlowSets/{{key}}/provisioningFlows/{{item}}/reset", reset,
                         methods=["POST"], tags=["outboundProvisioningFlowSets"], summary="Reset a provisioning flow",
                         status_code=202, response_class=Response, responses={202: {"description": "Accepted, no body"}},
                         description="Permissions: IndustryData-OutboundFlow.ReadWrite.All.")

