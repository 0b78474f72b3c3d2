"""Graph's industryData API: its root, the runs' own routes (statistics, activities), its actions and its
collections, assembled into one router over the generic collection routes (``homeroom.api.collections``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from homeroom.api.actions import add_action_routes
from homeroom.api.calls import call
from homeroom.api.directory import add_directory_routes
from homeroom.api.collections import (
    COUNT_OPTIONS,
    COUNT_RESPONSES,
    ERROR_RESPONSES,
    ONE_RESPONSES,
    STRING,
    ITEM_OPTIONS,
    LIST_OPTIONS,
    add_collection_routes,
    add_contained_routes,
    collection_json,
    count_of,
    entity_json,
    expansions,
    item_responses,
    json_response,
    list_responses,
    options,
)
from homeroom.api.errors import BadRequest
from homeroom.api.metadata import add_metadata_routes
from homeroom.api.resources import COLLECTIONS, INDUSTRY_DATA, OUTBOUND_FLOW_SETS, PROVISIONING_FLOWS, RUN_ACTIVITIES, RUNS
from homeroom.api.responses import GraphJSON
from homeroom.api.statistics import run_statistics
from homeroom.errors import NotFoundError

STATISTICS_RESPONSES = {**ERROR_RESPONSES, 200: json_response("industryDataRunStatistics", {"type": "object", "required": ["runId", "status"], "properties": {
    "runId": STRING, "status": STRING, "activityStatistics": {"type": "array"}, "inboundTotals": {"type": "object"}}})}


def add_run_routes(router: APIRouter) -> None:
    """Runs' own routes: statistics and activities."""
    perms = RUNS.read
    tag = ["runs"]

    async def latest_statistics(request: Request) -> JSONResponse:
        def work(db, principal):
            runs = RUNS.list(db=db, tenant_id=principal.tenant_id)
            if not runs:
                raise NotFoundError("The tenant has no runs yet.")
            return {"@odata.context": INDUSTRY_DATA.context_url(request, "microsoft.graph.industryData.industryDataRunStatistics"), **run_statistics(runs[0])}
        return GraphJSON(await call(request, perms, work, cached=True))

    async def statistics(request: Request, key: str) -> JSONResponse:
        def work(db, principal):
            run = RUNS.get(db=db, tenant_id=principal.tenant_id, key=key)
            return {"@odata.context": INDUSTRY_DATA.context_url(request, "microsoft.graph.industryData.industryDataRunStatistics"), **run_statistics(run)}
        return GraphJSON(await call(request, perms, work, cached=True))

    def _activity(db, principal, key: str, activity: str):
        run = RUNS.get(db=db, tenant_id=principal.tenant_id, key=key)
        for a in run.activities:
            if a.id == activity:
                return a
        raise NotFoundError(f"inboundFlowActivity '{activity}' was not found in run '{key}'.")

    async def activities(request: Request, key: str) -> JSONResponse:
        def work(db, principal):
            run = RUNS.get(db=db, tenant_id=principal.tenant_id, key=key)
            return collection_json(request, db, principal, INDUSTRY_DATA, RUN_ACTIVITIES, list(run.activities), f"runs('{key}')/activities")
        return GraphJSON(await call(request, perms, work, cached=True))

    async def count_activities(request: Request, key: str) -> PlainTextResponse:
        def work(db, principal):
            return count_of(request, RUN_ACTIVITIES, list(RUNS.get(db=db, tenant_id=principal.tenant_id, key=key).activities))
        return PlainTextResponse(str(await call(request, perms, work, cached=True)))

    async def get_activity(request: Request, key: str, activity: str) -> JSONResponse:
        def work(db, principal):
            return entity_json(request, db, principal, INDUSTRY_DATA, RUN_ACTIVITIES, _activity(db, principal, key, activity), f"runs('{key}')/activities")
        return GraphJSON(await call(request, perms, work, cached=True))

    async def activity_flow(request: Request, key: str, activity: str) -> JSONResponse:
        flows = INDUSTRY_DATA.resources["inboundFlows"]

        def work(db, principal):
            principal.require(*flows.read)
            flow = RUN_ACTIVITIES.navigations["activity"].follow(db, principal.tenant_id, _activity(db, principal, key, activity))
            return entity_json(request, db, principal, INDUSTRY_DATA, flows, flow, "inboundFlows")
        return GraphJSON(await call(request, perms, work, cached=True))

    desc = f"Permissions: {', '.join(perms)}."
    router.add_api_route(f"{INDUSTRY_DATA.base}/runs/getStatistics", latest_statistics, methods=["GET"], tags=tag, responses=STATISTICS_RESPONSES,
                         summary="Statistics of the latest run", description=desc)
    for suffix, handler, summary, responses, options in (
        ("getStatistics", statistics, "Statistics of a run", STATISTICS_RESPONSES, []),
        ("activities", activities, "List a run's activities", list_responses(RUN_ACTIVITIES), LIST_OPTIONS),
        ("activities/$count", count_activities, "Count a run's activities", COUNT_RESPONSES, COUNT_OPTIONS),
        ("activities/{activity}", get_activity, "Get one activity of a run", item_responses(RUN_ACTIVITIES), ITEM_OPTIONS),
        ("activities/{activity}/activity", activity_flow, "Get the inbound flow an activity ran",
         item_responses(INDUSTRY_DATA.resources["inboundFlows"]), ITEM_OPTIONS),
    ):
        extra = {"response_class": PlainTextResponse} if suffix.endswith("$count") else {}
        router.add_api_route(f"{INDUSTRY_DATA.base}/runs/{{key}}/{suffix}", handler, methods=["GET"], tags=tag, responses=responses,
                             summary=summary, description=desc, openapi_extra={"parameters": options}, **extra)


def add_root_route(router: APIRouter) -> None:
    """``GET /external/industryData``: the root, with ``$expand`` of its collections (``*``: all the caller may read)."""

    async def root(request: Request) -> JSONResponse:
        def work(db, principal):
            opts = options(request)
            body = {"@odata.context": INDUSTRY_DATA.context_url(request, "$entity"),
                    "@odata.type": INDUSTRY_DATA.odata_type("industryDataRoot"), "id": principal.tenant_id}
            for name in expansions(principal, opts.expand, COLLECTIONS, lambda n: COLLECTIONS[n].read, "industryDataRoot"):
                body[name] = COLLECTIONS[name].json_list(db=db, tenant_id=principal.tenant_id)
            return body
        return GraphJSON(await call(request, tuple(sorted(INDUSTRY_DATA.permissions)), work))

    router.add_api_route(INDUSTRY_DATA.base, root, methods=["GET"], tags=["root"], summary="The industryData root", responses=ONE_RESPONSES,
                         openapi_extra={"parameters": [LIST_OPTIONS[6]]},
                         description="Any industryData permission. $expand of its collections needs each collection's read permission.")


def industry_data_router() -> APIRouter:
    """Every industryData route."""
    router = APIRouter()
    add_metadata_routes(router)
    add_root_route(router)
    add_run_routes(router)  # before the generic /runs/{key} so that /runs/getStatistics is not taken for a key
    add_action_routes(router)
    add_directory_routes(router)  # Homeroom's extension: directory targets and match reports
    for resource in COLLECTIONS.values():
        add_collection_routes(router, INDUSTRY_DATA, resource)
    add_contained_routes(router, INDUSTRY_DATA, OUTBOUND_FLOW_SETS, PROVISIONING_FLOWS)
    for route in router.routes:  # stable operation ids from the summaries: "List sourceSystems" -> listSourceSystems
        words = "".join(c if c.isalnum() else " " for c in route.summary).split()
        route.operation_id = words[0].lower() + "".join(w[:1].upper() + w[1:] for w in words[1:])
    return router

