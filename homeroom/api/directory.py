"""Homeroom's extension of the industryData surface for directories: the tenant's directory targets (never their
secrets) and each target's match report as a download (JSON or CSV), the same report ``homeroom match report``
prints.

- ``GET /beta/external/industryData/directoryTargets`` and ``GET .../directoryTargets/{name}``:
  IndustryData-DataConnector.Read.All (or ReadWrite.All);
- ``POST .../directoryTargets`` (201), ``PATCH .../directoryTargets/{name}`` (204), ``DELETE`` (204) and
  ``POST .../directoryTargets/{name}/check`` (connect and sign in; 200 with the outcome):
  IndustryData-DataConnector.ReadWrite.All. Secrets are accepted, never answered (``secretsSet`` names them);
- ``GET /beta/external/industryData/directoryTargets/{name}/matchReport?format=json|csv&sourceSystemId=&year=``:
  IndustryData-Run.Read.All (or Run.Start): counts by role group and outcome, then each person, ambiguous and
  conflicting first.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from homeroom.api.bodies import GraphInput, parse_body
from homeroom.api.calls import call, read_body
from homeroom.api.collections import ERROR_RESPONSES, json_response
from homeroom.api.errors import BadRequest
from homeroom.api.resources import INDUSTRY_DATA
from homeroom.api.responses import GraphJSON

TARGETS_READ = ("IndustryData-DataConnector.Read.All", "IndustryData-DataConnector.ReadWrite.All")
TARGETS_WRITE = ("IndustryData-DataConnector.ReadWrite.All",)
NAMESPACE = "homeroom"


class DirectoryTargetIn(GraphInput):
    """A new target: its kind's settings (docs/directory.md) and secrets (write-only)."""

    name: str | None = None  # required (parse_body names it when missing)
    kind: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    source_system_ids: list[str] = Field(default_factory=list)


class DirectoryTargetPatch(GraphInput):
    """A change: settings merged (null removes one), secrets replaced (null or "" clears one), sources replaced."""

    settings: dict[str, Any] | None = None
    secrets: dict[str, str | None] | None = None
    source_system_ids: list[str] | None = None
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

    async def get_target(request: Request, name: str) -> JSONResponse:
        def work(db, principal):
            row = service.get_target(db=db, tenant_id=principal.tenant_id, name=name)
            return {"@odata.context": INDUSTRY_DATA.context_url(request, "directoryTargets/$entity"), **service.target_json(row)}
        return GraphJSON(await call(request, TARGETS_READ, work))

    async def create_target(request: Request) -> JSONResponse:
        raw = await read_body(request)
        body = parse_body(DirectoryTargetIn, raw, required=("name", "kind"), type_name="directoryTarget", namespace=NAMESPACE)

        def work(db, principal):
            row = service.add_target(db=db, tenant_id=principal.tenant_id, name=body.name, kind=body.kind,
                                     settings=body.settings, secrets=body.secrets, source_systems=body.source_system_ids)
            return {"@odata.context": INDUSTRY_DATA.context_url(request, "directoryTargets/$entity"), **service.target_json(row)}
        answer = await call(request, TARGETS_WRITE, work)
        return GraphJSON(answer, status_code=201,
                         headers={"Location": INDUSTRY_DATA.url(request, f"directoryTargets/{answer['name']}")})

    async def update_target(request: Request, name: str) -> Response:
        raw = await read_body(request)
        body = parse_body(DirectoryTargetPatch, raw, type_name="directoryTarget", namespace=NAMESPACE)

        def work(db, principal):
            row = service.get_target(db=db, tenant_id=principal.tenant_id, name=name)
            service.update_target(db=db, tenant_id=principal.tenant_id, target=row, settings=body.settings,
                                  secrets=body.secrets, source_systems=body.source_system_ids)
        await call(request, TARGETS_WRITE, work)
        return Response(status_code=204)

    async def delete_target(request: Request, name: str) -> Response:
        def work(db, principal):
            service.delete_target(db=db, tenant_id=principal.tenant_id,
                                  target=service.get_target(db=db, tenant_id=principal.tenant_id, name=name))
        await call(request, TARGETS_WRITE, work)
        return Response(status_code=204)

    async def check_target(request: Request, name: str) -> JSONResponse:
        from homeroom.errors import ExternalError

        def work(db, principal):
            row = service.get_target(db=db, tenant_id=principal.tenant_id, name=name)
            try:
                target = service.connect(row)
            except ExternalError as exc:
                return {"name": row.name, "kind": row.kind, "connected": False, "message": str(exc)}
            try:
                target.check()
            except ExternalError as exc:
                return {"name": row.name, "kind": row.kind, "connected": False, "message": str(exc)}
            finally:
                target.close()
            return {"name": row.name, "kind": row.kind, "connected": True, "message": None}
        return GraphJSON(await call(request, TARGETS_WRITE, work))

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
    one = f"{INDUSTRY_DATA.base}/directoryTargets/{{name}}"
    write = f"Homeroom extension. Permissions: {', '.join(TARGETS_WRITE)}."
    router.add_api_route(f"{INDUSTRY_DATA.base}/directoryTargets", create_target, methods=["POST"], tags=tag, status_code=201,
                         summary="Add a directoryTarget", description=write + " Answers 201 with the target (secrets named, never shown).",
                         responses={**ERROR_RESPONSES, 201: json_response("The new target", {"type": "object"})})
    router.add_api_route(one, get_target, methods=["GET"], tags=tag, summary="Get a directoryTarget",
                         description=f"Homeroom extension. Permissions: {', '.join(TARGETS_READ)}.",
                         responses={**ERROR_RESPONSES, 200: json_response("The target", {"type": "object"})})
    router.add_api_route(one, update_target, methods=["PATCH"], tags=tag, status_code=204, summary="Update a directoryTarget",
                         description=write, responses={**ERROR_RESPONSES, 204: {"description": "Updated"}})
    router.add_api_route(one, delete_target, methods=["DELETE"], tags=tag, status_code=204, summary="Delete a directoryTarget",
                         description=write + " Refused (409) while an outbound flow set provisions into it.",
                         responses={**ERROR_RESPONSES, 204: {"description": "Deleted"}})
    router.add_api_route(f"{one}/check", check_target, methods=["POST"], tags=tag, summary="Check a directoryTarget's connection",
                         description=write + " Connects and signs in; answers 200 with connected and what to fix.",
                         responses={**ERROR_RESPONSES, 200: json_response("The outcome", {"type": "object"})})
    router.add_api_route(f"{INDUSTRY_DATA.base}/directoryTargets/{{name}}/matchReport", match_report, methods=["GET"], tags=tag,
                         summary="Download a match report",
                         description=f"Homeroom extension. Permissions: {', '.join(REPORT_READ)}. format=json (default) or csv.",
                         responses={**ERROR_RESPONSES, 200: {"description": "The match report", "content": {
                             "application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}}},
                         openapi_extra={"parameters": [
                             {"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": ["json", "csv"]}},
                             {"name": "sourceSystemId", "in": "query", "required": False, "schema": {"type": "string"}},
                             {"name": "year", "in": "query", "required": False, "schema": {"type": "string"}}]})
