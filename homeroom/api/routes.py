"""The industryData routes, generated from the resource declarations: one generic handler per kind of call.

Every handler authenticates, throttles, checks the operation's permission, then calls the resource in a
worker thread with a session of its own (committed when the call succeeds).
"""

from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from homeroom.api import odata
from homeroom.api.actions import add_action_routes
from homeroom.api.bodies import GraphInput
from homeroom.api.calls import BASE, base_url, call, context_url, read_body
from homeroom.api.errors import BadRequest
from homeroom.api.resources import (
    COLLECTIONS,
    OUTBOUND_FLOW_SETS,
    PROVISIONING_FLOWS,
    PROVISIONING_TYPES,
    RESOURCES,
    RUN_ACTIVITIES,
    RUNS,
    Resource,
    odata_type,
)
from homeroom.api.responses import GraphJSON
from homeroom.api.statistics import run_statistics
from homeroom.auth.tokens import Principal
from homeroom.errors import NotFoundError

_ALL_PERMISSIONS = tuple(sorted({p for r in RESOURCES.values() for p in (*r.read, *(r.write or ()))}))


def _options(request: Request) -> odata.QueryOptions:
    return odata.QueryOptions.from_query(dict(request.query_params))


def _expand(db, principal: Principal, resource: Resource, row: Any, item: dict, names: list[str]) -> dict:
    for name in names:
        nav = resource.navigations.get(name)
        if nav is None:
            raise BadRequest(f"Invalid $expand: '{name}' is not a navigation property of {resource.type_name}.")
        target = RESOURCES[nav.target]
        principal.require(*target.read)
        found = nav.follow(db, principal.tenant_id, row)
        item[name] = [target.to_json(r) for r in found] if nav.many else (None if found is None else target.to_json(found))
    return item


def _collection_json(request: Request, db, principal: Principal, resource: Resource, rows: list[Any], context: str) -> dict:
    opts = _options(request)
    pairs = [(resource.to_json(r), r) for r in rows]
    items = odata.filter_and_sort([p[0] for p in pairs], opts, resource.properties)
    by_identity = {id(j): r for j, r in pairs}
    page, next_link = odata.page(items, opts, page_size=request.app.state.settings.api_page_size,
                                 url=str(request.url).split("?")[0], params=dict(request.query_params))
    value = []
    for item in page:
        if opts.expand:
            item = _expand(db, principal, resource, by_identity[id(item)], dict(item), opts.expand)
        value.append(odata.select_properties(item, opts.select, resource.properties | set(opts.expand)))
    body: dict[str, Any] = {"@odata.context": context_url(request, context)}
    if opts.count:
        body["@odata.count"] = len(items)
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = value
    return body


def _count(request: Request, resource: Resource, rows: list[Any]) -> int:
    opts = _options(request)
    return len(odata.filter_and_sort([resource.to_json(r) for r in rows], opts, resource.properties))


def _entity_json(request: Request, db, principal: Principal, resource: Resource, row: Any, context: str) -> dict:
    opts = _options(request)
    item = resource.to_json(row)
    if opts.expand:
        item = _expand(db, principal, resource, row, item, opts.expand)
    item = odata.select_properties(item, opts.select, resource.properties | set(opts.expand))
    return {"@odata.context": context_url(request, f"{context}/$entity"), **item}


#: JSON schemas that request bodies refer to, for the OpenAPI document's components.
BODY_SCHEMAS: dict[str, dict] = {}


def _schema_of(model: type[GraphInput]) -> dict:
    schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    BODY_SCHEMAS.update(schema.pop("$defs", {}))
    BODY_SCHEMAS[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _body_schema(model: type[GraphInput] | tuple[type[GraphInput], ...] | None) -> dict:
    if model is None:
        return {}
    schema = {"oneOf": [_schema_of(m) for m in model]} if isinstance(model, tuple) else _schema_of(model)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _query(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_STRING, _INT, _BOOL = {"type": "string"}, {"type": "integer", "minimum": 0}, {"type": "boolean"}
#: The OData options a collection accepts, as OpenAPI parameters.
LIST_OPTIONS = [
    _query("$top", "Largest number of items to return (pages of at most HOMEROOM_API_PAGE_SIZE).", _INT),
    _query("$skip", "Number of items to skip.", _INT),
    _query("$count", "Include @odata.count.", _BOOL),
    _query("$filter", "eq ne gt ge lt le, and or not, in (...), startswith/endswith/contains(prop,'text').", _STRING),
    _query("$orderby", "Comma-separated properties, each optionally followed by asc or desc.", _STRING),
    _query("$select", "Comma-separated properties to return.", _STRING),
    _query("$expand", "Comma-separated navigation properties to include.", _STRING),
    _query("$search", "Text that displayName (or code) must contain.", _STRING),
]
ITEM_OPTIONS = [LIST_OPTIONS[5], LIST_OPTIONS[6]]
COUNT_OPTIONS = [LIST_OPTIONS[3], LIST_OPTIONS[7]]
_ENTITY = {"type": "object", "properties": {"@odata.context": _STRING, "@odata.type": _STRING, "id": _STRING},
           "required": ["id"], "additionalProperties": True}
_COLLECTION = {"type": "object", "required": ["value"], "properties": {
    "@odata.context": _STRING, "@odata.count": {"type": "integer"}, "@odata.nextLink": _STRING,
    "value": {"type": "array", "items": _ENTITY}}}
_GRAPH_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"],
                "properties": {"code": _STRING, "message": _STRING, "innerError": {"type": "object"}}}}}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {400: _json("Bad request", _GRAPH_ERROR), 401: _json("Missing or invalid token", _GRAPH_ERROR),
           403: _json("Permission missing", _GRAPH_ERROR), 404: _json("Not found in the caller's tenant", _GRAPH_ERROR),
           429: _json("Throttled; retry after Retry-After seconds", _GRAPH_ERROR)}
_LIST = {**_ERRORS, 200: _json("A page of the collection", _COLLECTION)}
_ONE = {**_ERRORS, 200: _json("The entity", _ENTITY)}
_COUNT = {**_ERRORS, 200: {"description": "The number of items", "content": {"text/plain": {"schema": {"type": "integer"}}}}}
_CREATED = {**_ERRORS, 201: _json("The created entity; Location gives its URL", _ENTITY), 409: _json("Conflict", _GRAPH_ERROR)}
_STATISTICS = {**_ERRORS, 200: _json("industryDataRunStatistics", {"type": "object", "required": ["runId", "status"], "properties": {
    "runId": _STRING, "status": _STRING, "activityStatistics": {"type": "array"}, "inboundTotals": {"type": "object"}}})}
_NO_CONTENT = {**_ERRORS, 204: {"description": "Done"}, 409: _json("Conflict", _GRAPH_ERROR)}


def add_collection_routes(router: APIRouter, resource: Resource, body_model: type[GraphInput] | None) -> None:
    """List, count, create, get, update, delete and navigations of one top-level collection."""
    path = f"{BASE}/{resource.name}"
    tag = [resource.name]

    async def list_items(request: Request) -> JSONResponse:
        def work(db, principal):
            return _collection_json(request, db, principal, resource, resource.list(db=db, tenant_id=principal.tenant_id), resource.name)
        return GraphJSON(await call(request, resource.read, work, cached=True))

    async def count_items(request: Request) -> PlainTextResponse:
        def work(db, principal):
            return _count(request, resource, resource.list(db=db, tenant_id=principal.tenant_id))
        return PlainTextResponse(str(await call(request, resource.read, work, cached=True)))

    async def get_item(request: Request, key: str) -> JSONResponse:
        def work(db, principal):
            row = resource.get(db=db, tenant_id=principal.tenant_id, key=key)
            return _entity_json(request, db, principal, resource, row, resource.name)
        return GraphJSON(await call(request, resource.read, work, cached=True))

    router.add_api_route(path, list_items, methods=["GET"], tags=tag, summary=f"List {resource.name}", responses=_LIST,
                         openapi_extra={"parameters": LIST_OPTIONS},
                         description=f"Permissions: {', '.join(resource.read)}. OData: $top $skip $count $filter $orderby $select $expand $search.")
    router.add_api_route(f"{path}/$count", count_items, methods=["GET"], tags=tag, summary=f"Count {resource.name}",
                         response_class=PlainTextResponse, responses=_COUNT, openapi_extra={"parameters": COUNT_OPTIONS},
                         description=f"Permissions: {', '.join(resource.read)}.")
    if resource.write:
        async def create_item(request: Request) -> JSONResponse:
            raw = await read_body(request)

            def work(db, principal):
                row = resource.create(db=db, tenant_id=principal.tenant_id, raw=raw)
                return _entity_json(request, db, principal, resource, row, resource.name)
            body = await call(request, resource.write, work)
            location = f"{base_url(request)}/external/industryData/{resource.name}/{body['id']}"
            return GraphJSON(body, status_code=201, headers={"Location": location})

        router.add_api_route(path, create_item, methods=["POST"], tags=tag, summary=f"Create one of {resource.name}",
                             status_code=201, responses=_CREATED, openapi_extra=_body_schema(body_model),
                             description=f"Permissions: {', '.join(resource.write)}. Answers 201 with the entity and a Location header.")
    router.add_api_route(f"{path}/{{key}}", get_item, methods=["GET"], tags=tag, summary=f"Get one of {resource.name}",
                         responses=_ONE, openapi_extra={"parameters": ITEM_OPTIONS},
                         description=f"Permissions: {', '.join(resource.read)}. OData: $select $expand.")
    if resource.write:
        async def update_item(request: Request, key: str) -> Response:
            raw = await read_body(request)

            def work(db, principal):
                row = resource.get(db=db, tenant_id=principal.tenant_id, key=key)
                resource.update(db=db, tenant_id=principal.tenant_id, row=row, raw=raw)
            await call(request, resource.write, work)
            return Response(status_code=204)

        async def delete_item(request: Request, key: str) -> Response:
            def work(db, principal):
                row = resource.get(db=db, tenant_id=principal.tenant_id, key=key)
                resource.delete(db=db, tenant_id=principal.tenant_id, row=row)
            await call(request, resource.write, work)
            return Response(status_code=204)

        router.add_api_route(f"{path}/{{key}}", update_item, methods=["PATCH"], tags=tag, summary=f"Update one of {resource.name}",
                             status_code=204, response_class=Response, responses=_NO_CONTENT,
                             openapi_extra=_body_schema(body_model), description=f"Permissions: {', '.join(resource.write)}.")
        router.add_api_route(f"{path}/{{key}}", delete_item, methods=["DELETE"], tags=tag, summary=f"Delete one of {resource.name}",
                             status_code=204, response_class=Response, responses=_NO_CONTENT,
                             description=f"Permissions: {', '.join(resource.write)} (referenceDefinitions: disables the code).")
    for nav_name, nav in resource.navigations.items():
        if nav.many:
            continue  # collection navigations (runs/{id}/activities) have routes of their own
        target = RESOURCES[nav.target]

        def make(nav=nav, target=target, nav_name=nav_name):
            async def follow(request: Request, key: str) -> JSONResponse:
                def work(db, principal):
                    row = resource.get(db=db, tenant_id=principal.tenant_id, key=key)
                    found = nav.follow(db, principal.tenant_id, row)
                    if found is None:
                        raise NotFoundError(f"{resource.type_name} '{key}' has no {nav_name}.")
                    return _entity_json(request, db, principal, target, found, target.name)
                return GraphJSON(await call(request, target.read, work, cached=True))
            return follow

        router.add_api_route(f"{path}/{{key}}/{nav_name}", make(), methods=["GET"], tags=tag,
                             summary=f"Get the {nav_name} of one of {resource.name}", responses=_ONE,
                             openapi_extra={"parameters": ITEM_OPTIONS},
                             description=f"Permissions: {', '.join(target.read)}.")


def add_contained_routes(router: APIRouter, parent: Resource, child: Resource, body_models: tuple[type[GraphInput], ...]) -> None:
    """List, count, create, get, update and delete of a collection contained in an entity (``{set}/provisioningFlows``)."""
    path = f"{BASE}/{parent.name}/{{key}}/{child.name}"
    tag = [parent.name]
    context = lambda key: f"{parent.name}('{key}')/{child.name}"  # noqa: E731

    async def list_items(request: Request, key: str) -> JSONResponse:
        def work(db, principal):
            owner = parent.get(db=db, tenant_id=principal.tenant_id, key=key)
            rows = child.list(db=db, tenant_id=principal.tenant_id, parent=owner)
            return _collection_json(request, db, principal, child, rows, context(key))
        return GraphJSON(await call(request, child.read, work, cached=True))

    async def count_items(request: Request, key: str) -> PlainTextResponse:
        def work(db, principal):
            owner = parent.get(db=db, tenant_id=principal.tenant_id, key=key)
            return _count(request, child, child.list(db=db, tenant_id=principal.tenant_id, parent=owner))
        return PlainTextResponse(str(await call(request, child.read, work, cached=True)))

    async def create_item(request: Request, key: str) -> JSONResponse:
        raw = await read_body(request)

        def work(db, principal):
            owner = parent.get(db=db, tenant_id=principal.tenant_id, key=key)
            row = child.create(db=db, tenant_id=principal.tenant_id, raw=raw, parent=owner)
            return _entity_json(request, db, principal, child, row, context(key))
        body = await call(request, child.write, work)
        location = f"{base_url(request)}/external/industryData/{parent.name}/{key}/{child.name}/{body['id']}"
        return GraphJSON(body, status_code=201, headers={"Location": location})

    async def get_item(request: Request, key: str, item: str) -> JSONResponse:
        def work(db, principal):
            owner = parent.get(db=db, tenant_id=principal.tenant_id, key=key)
            row = child.get(db=db, tenant_id=principal.tenant_id, key=item, parent=owner)
            return _entity_json(request, db, principal, child, row, context(key))
        return GraphJSON(await call(request, child.read, work, cached=True))

    async def update_item(request: Request, key: str, item: str) -> Response:
        raw = await read_body(request)

        def work(db, principal):
            owner = parent.get(db=db, tenant_id=principal.tenant_id, key=key)
            row = child.get(db=db, tenant_id=principal.tenant_id, key=item, parent=owner)
            child.update(db=db, tenant_id=principal.tenant_id, row=row, raw=raw)
        await call(request, child.write, work)
        return Response(status_code=204)

    async def delete_item(request: Request, key: str, item: str) -> Response:
        def work(db, principal):
            owner = parent.get(db=db, tenant_id=principal.tenant_id, key=key)
            child.delete(db=db, tenant_id=principal.tenant_id, row=child.get(db=db, tenant_id=principal.tenant_id, key=item, parent=owner))
        await call(request, child.write, work)
        return Response(status_code=204)

    read, write = f"Permissions: {', '.join(child.read)}.", f"Permissions: {', '.join(child.write or ())}."
    router.add_api_route(path, list_items, methods=["GET"], tags=tag, summary=f"List {child.name} of one of {parent.name}",
                         responses=_LIST, openapi_extra={"parameters": LIST_OPTIONS}, description=read)
    router.add_api_route(path, create_item, methods=["POST"], tags=tag, summary=f"Create one of {child.name} in one of {parent.name}",
                         status_code=201, responses=_CREATED, openapi_extra=_body_schema(body_models), description=write)
    router.add_api_route(f"{path}/$count", count_items, methods=["GET"], tags=tag, summary=f"Count {child.name} of one of {parent.name}",
                         response_class=PlainTextResponse, responses=_COUNT, openapi_extra={"parameters": COUNT_OPTIONS}, description=read)
    router.add_api_route(f"{path}/{{item}}", get_item, methods=["GET"], tags=tag, summary=f"Get one of {child.name} of one of {parent.name}",
                         responses=_ONE, openapi_extra={"parameters": ITEM_OPTIONS}, description=read)
    router.add_api_route(f"{path}/{{item}}", update_item, methods=["PATCH"], tags=tag, status_code=204, response_class=Response,
                         summary=f"Update one of {child.name} of one of {parent.name}", responses=_NO_CONTENT,
                         openapi_extra=_body_schema(body_models), description=write)
    router.add_api_route(f"{path}/{{item}}", delete_item, methods=["DELETE"], tags=tag, status_code=204, response_class=Response,
                         summary=f"Delete one of {child.name} of one of {parent.name}", responses=_NO_CONTENT, description=write)


def add_run_routes(router: APIRouter) -> None:
    """Runs' own routes: statistics and activities."""
    perms = RUNS.read
    tag = ["runs"]

    async def latest_statistics(request: Request) -> JSONResponse:
        def work(db, principal):
            runs = RUNS.list(db=db, tenant_id=principal.tenant_id)
            if not runs:
                raise NotFoundError("The tenant has no runs yet.")
            return {"@odata.context": context_url(request, "microsoft.graph.industryData.industryDataRunStatistics"), **run_statistics(runs[0])}
        return GraphJSON(await call(request, perms, work, cached=True))

    async def statistics(request: Request, key: str) -> JSONResponse:
        def work(db, principal):
            run = RUNS.get(db=db, tenant_id=principal.tenant_id, key=key)
            return {"@odata.context": context_url(request, "microsoft.graph.industryData.industryDataRunStatistics"), **run_statistics(run)}
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
            return _collection_json(request, db, principal, RUN_ACTIVITIES, list(run.activities), f"runs('{key}')/activities")
        return GraphJSON(await call(request, perms, work, cached=True))

    async def count_activities(request: Request, key: str) -> PlainTextResponse:
        def work(db, principal):
            return _count(request, RUN_ACTIVITIES, list(RUNS.get(db=db, tenant_id=principal.tenant_id, key=key).activities))
        return PlainTextResponse(str(await call(request, perms, work, cached=True)))

    async def get_activity(request: Request, key: str, activity: str) -> JSONResponse:
        def work(db, principal):
            return _entity_json(request, db, principal, RUN_ACTIVITIES, _activity(db, principal, key, activity), f"runs('{key}')/activities")
        return GraphJSON(await call(request, perms, work, cached=True))

    async def activity_flow(request: Request, key: str, activity: str) -> JSONResponse:
        flows = RESOURCES["inboundFlows"]

        def work(db, principal):
            principal.require(*flows.read)
            flow = RUN_ACTIVITIES.navigations["activity"].follow(db, principal.tenant_id, _activity(db, principal, key, activity))
            return _entity_json(request, db, principal, flows, flow, "inboundFlows")
        return GraphJSON(await call(request, perms, work, cached=True))

    desc = f"Permissions: {', '.join(perms)}."
    router.add_api_route(f"{BASE}/runs/getStatistics", latest_statistics, methods=["GET"], tags=tag, responses=_STATISTICS,
                         summary="Statistics of the latest run", description=desc)
    for suffix, handler, summary, responses, options in (
        ("getStatistics", statistics, "Statistics of a run", _STATISTICS, []),
        ("activities", activities, "List a run's activities", _LIST, LIST_OPTIONS),
        ("activities/$count", count_activities, "Count a run's activities", _COUNT, COUNT_OPTIONS),
        ("activities/{activity}", get_activity, "Get one activity of a run", _ONE, ITEM_OPTIONS),
        ("activities/{activity}/activity", activity_flow, "Get the inbound flow an activity ran", _ONE, ITEM_OPTIONS),
    ):
        extra = {"response_class": PlainTextResponse} if suffix.endswith("$count") else {}
        router.add_api_route(f"{BASE}/runs/{{key}}/{suffix}", handler, methods=["GET"], tags=tag, responses=responses,
                             summary=summary, description=desc, openapi_extra={"parameters": options}, **extra)


def add_root_route(router: APIRouter) -> None:
    """``GET /external/industryData``: the root, with ``$expand`` of its collections."""

    async def root(request: Request) -> JSONResponse:
        def work(db, principal):
            opts = _options(request)
            body = {"@odata.context": f"{base_url(request)}/$metadata#external/industryData/$entity",
                    "@odata.type": odata_type("industryDataRoot"), "id": principal.tenant_id}
            for name in opts.expand:
                resource = COLLECTIONS.get(name)
                if resource is None:
                    raise BadRequest(f"Invalid $expand: '{name}' is not a navigation property of industryDataRoot.")
                principal.require(*resource.read)
                body[name] = resource.json_list(db=db, tenant_id=principal.tenant_id)
            return body
        return GraphJSON(await call(request, _ALL_PERMISSIONS, work))

    router.add_api_route(BASE, root, methods=["GET"], tags=["root"], summary="The industryData root", responses=_ONE,
                         openapi_extra={"parameters": [LIST_OPTIONS[6]]},
                         description="Any industryData permission. $expand of its collections needs each collection's read permission.")


def industry_data_router(body_models: dict[str, type[GraphInput]]) -> APIRouter:
    """Every industryData route."""
    router = APIRouter()
    add_root_route(router)
    add_run_routes(router)  # before the generic /runs/{key} so that /runs/getStatistics is not taken for a key
    add_action_routes(router)
    for resource in COLLECTIONS.values():
        add_collection_routes(router, resource, body_models.get(resource.name))
    add_contained_routes(router, OUTBOUND_FLOW_SETS, PROVISIONING_FLOWS, tuple(PROVISIONING_TYPES.values()))
    for route in router.routes:  # stable operation ids from the summaries: "List sourceSystems" -> listSourceSystems
        words = "".join(c if c.isalnum() else " " for c in route.summary).split()
        route.operation_id = words[0].lower() + "".join(w[:1].upper() + w[1:] for w in words[1:])
    return router

