"""Homeroom's extension of the industryData surface for directories: the tenant's directory targets (never their
secrets) and each target's match report as a download (JSON or CSV), the same report ``homeroom match report``
prints.

- ``GET /beta/external/industryData/directoryTargets``: IndustryData-DataConnector.Read.All (or ReadWrite.All);
- ``GET /beta/external/industryData/directoryTargets/{name}/matchReport?format=json|csv&sourceSystemId=&year=``:
  IndustryData-Run.Read.All (or Run.Start): counts by role group and outcome, then each person, ambiguous and
  conflicting first.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from homeroom.api.calls import call
from homeroom.api.collections import ERROR_RESPONSES, json_response
from homeroom.api.errors import BadRequest
from homeroom.api.resources import INDUSTRY_DATA
from homeroom.api.responses import GraphJSON

TARGETS_READ = ("IndustryData-DataConnector.Read.All", "IndustryData-DataConnector.ReadWrite.All")
REPORT_READ = ("IndustryData-Run.Read.All", "IndustryData-Run.Start")


def add_directory_routes(router: APIRouter) -> None:
    """The directory targets and their match reports."""
    from homeroom.runs.readers import reader_lake
    from homeroom.match.report import report_csv, report_json, report_links
    from homeroom.targets import service

    async def list_targets(request: Request) -> JSONResponse:
        def work(db, principal):
            rows = service.list_targets(db=db, tenant_id=principal.tenant_id)
            return {"@odata.context": INDUSTRY_DATA.context_url(request, "directoryTargets"),
                    "value": [service.target_json(t) for t in rows]}
        return GraphJSON(await call(request, TARGETS_READ, work))

    async def match_report(request: Request, name: str) -> Response:
        wanted = request.query_params.get("format", "json")

        def work(db, principal):
            if wanted not in ("json", "csv"):
                raise BadRequest(f"Invalid value for query parameter 'format': '{wanted}'; use json or csv.")
            target = service.get_target(db=db, tenant_id=principal.tenant_id, name=name)
            lake = reader_lake(request.app.state.settings, request.app.state.sessions, principal.tenant_id)
            people = report_links(lake, target.name, request.query_params.get("sourceSystemId"), request.query_params.get("year"))
            return target.name, (report_csv(people) if wanted == "csv" else report_json(people))

        target, body = await call(request, REPORT_READ, work)
        kind = "text/csv; charset=utf-8" if wanted == "csv" else "application/json"
        return Response(body, media_type=kind,
                        headers={"Content-Disposition": f'attachment; filename="match-report-{target}.{wanted}"'})

    tag = ["directory"]
    router.add_api_route(f"{INDUSTRY_DATA.base}/directoryTargets", list_targets, methods=["GET"], tags=tag,
                         summary="List directoryTargets", description=f"Homeroom extension. Permissions: {', '.join(TARGETS_READ)}.",
                         responses={**ERROR_RESPONSES, 200: json_response("The tenant's directory targets", {"type": "object"})})
    router.add_api_route(f"{INDUSTRY_DATA.base}/directoryTargets/{{name}}/matchReport", match_report, methods=["GET"], tags=tag,
                         summary="Download a match report",
                         description=f"Homeroom extension. Permissions: {', '.join(REPORT_READ)}. format=json (default) or csv.",
                         responses={**ERROR_RESPONSES, 200: {"description": "The match report", "content": {
                             "application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}}},
                         openapi_extra={"parameters": [
                             {"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": ["json", "csv"]}},
                             {"name": "sourceSystemId", "in": "query", "required": False, "schema": {"type": "string"}},
                             {"name": "year", "in": "query", "required": False, "schema": {"type": "string"}}]})
