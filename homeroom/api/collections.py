"""The generic collection routes of a Graph surface, generated from its resource declarations: one handler per
kind of call (list, count, create, get, update, delete, navigations, contained collections), with OData.

Every handler authenticates, throttles, checks the operation's permission, then calls the resource in a
worker thread with a session of its own (committed when the call succeeds). A second surface (the classic
``education/synchronizationProfiles``) declares its resources and calls the same functions.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from homeroom.api import odata
from homeroom.api.bodies import GraphInput
from homeroom.api.calls import Surface, call, read_body
from homeroom.api.entities import GraphValue, concrete_types, graph_types
from homeroom.api.errors import BadRequest
from homeroom.api.resources import Resource
from homeroom.api.responses import GraphJSON
from homeroom.auth.tokens import Principal
from homeroom.errors import NotFoundError


def options(request: Request) -> odata.QueryOptions:
    """The request's OData options, refused (400) beyond the bounds of ``homeroom.api.odata``."""
    odata.check_query_length(request.url.query)
    return odata.QueryOptions.from_query(dict(request.query_params))


def expansions(principal: Principal, names: list[str], navigations: dict[str, Any], read: Callable[[str], tuple[str, ...]],
               type_name: str) -> list[str]:
    """The navigations ``$expand`` names, each checked; ``*`` is every navigation the caller may read (OData's
    "all navigation properties"), so one the caller lacks the permission for is left out rather than refused."""
    out: list[str] = []
    for name in names:
        if name == "*":
            out += [n for n in navigations if principal.permissions.intersection(read(n)) and n not in out]
            continue
        if name not in navigations:
            raise BadRequest(f"Invalid $expand: '{name}' is not a navigation property of {type_name}.")
        principal.require(*read(name))
        if name not in out:
            out.append(name)
    return out


def _expanded(principal: Principal, surface: Surface, resource: Resource, names: list[str]) -> list[str]:
    return expansions(principal, names, resource.navigations, lambda n: surface.resources[resource.navigations[n].target].read,
                      resource.type_name)


def _expand(db, principal: Principal, surface: Surface, resource: Resource, row: Any, item: dict, names: list[str]) -> dict:
    for name in names:
        nav = resource.navigations[name]
        target = surface.resources[nav.target]
        found = nav.follow(db, principal.tenant_id, row)
        item[name] = [target.to_json(r) for r in found] if nav.many else (None if found is None else target.to_json(found))
    return item


def collection_json(request: Request, db, principal: Principal, surface: Surface, resource: Resource, rows: list[Any],
                    context: str) -> dict:
    """A page of a collection as Graph answers it, with OData's query options applied."""
    opts = options(request)
    pairs = [(resource.to_json(r), r) for r in rows]
    items = odata.filter_and_sort([p[0] for p in pairs], opts, resource.properties)
    by_identity = {id(j): r for j, r in pairs}
    page, next_link = odata.page(items, opts, page_size=request.app.state.settings.api_page_size,
                                 url=str(request.url).split("?")[0], params=dict(request.query_params),
                                 key=request.app.state.skiptoken_key)
    expand = _expanded(principal, surface, resource, opts.expand)
    value = []
    for item in page:
        if expand:
            item = _expand(db, principal, surface, resource, by_identity[id(item)], dict(item), expand)
        value.append(odata.select_properties(item, opts.select, resource.properties | set(expand), expand))
    body: dict[str, Any] = {"@odata.context": surface.context_url(request, context)}
    if opts.count:
        body["@odata.count"] = len(items)
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = value
    return body


def count_of(request: Request, resource: Resource, rows: list[Any]) -> int:
    """How many of ``rows`` the request's ``$filter`` and ``$search`` keep."""
    opts = options(request)
    return len(odata.filter_and_sort([resource.to_json(r) for r in rows], opts, resource.properties))


def entity_json(request: Request, db, principal: Principal, surface: Surface, resource: Resource, row: Any, context: str) -> dict:
    """One entity as Graph answers it, with ``$select`` and ``$expand``."""
    opts = options(request)
    item = resource.to_json(row)
    expand = _expanded(principal, surface, resource, opts.expand)
    if expand:
        item = _expand(db, principal, surface, resource, row, item, expand)
    item = odata.select_properties(item, opts.select, resource.properties | set(expand), expand)
    return {"@odata.context": surface.context_url(request, f"{context}/$entity"), **item}


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


STRING, _INT, _BOOL = {"type": "string"}, {"type": "integer", "minimum": 0}, {"type": "boolean"}
#: The OData options a collection accepts, as OpenAPI parameters.
LIST_OPTIONS = [
    _query("$top", "Page size (at most HOMEROOM_API_PAGE_SIZE); @odata.nextLink follows while more items remain.", _INT),
    _query("$skip", "Number of items to skip.", _INT),
    _query("$count", "Include @odata.count.", _BOOL),
    _query("$filter", "eq ne gt ge lt le, and or not, in (...), startswith/endswith/contains(prop,'text').", STRING),
    _query("$orderby", "Comma-separated properties, each optionally followed by asc or desc.", STRING),
    _query("$select", "Comma-separated properties to return.", STRING),
    _query("$expand", "Comma-separated navigation properties to include; * for every one the caller may read.", STRING),
    _query("$search", "Text that displayName (or code) must contain.", STRING),
    _query("$skiptoken", "Where the next page starts: taken unchanged from an @odata.nextLink.", STRING),
]
ITEM_OPTIONS = [LIST_OPTIONS[5], LIST_OPTIONS[6]]
COUNT_OPTIONS = [LIST_OPTIONS[3], LIST_OPTIONS[7]]
_ENTITY = {"type": "object", "properties": {"@odata.context": STRING, "@odata.type": STRING, "id": STRING},
           "required": ["id"], "additionalProperties": True}
_COLLECTION = {"type": "object", "required": ["value"], "properties": {
    "@odata.context": STRING, "@odata.count": {"type": "integer"}, "@odata.nextLink": STRING,
    "value": {"type": "array", "items": _ENTITY}}}
_GRAPH_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"],
                "properties": {"code": STRING, "message": STRING, "innerError": {"type": "object"}}}}}


def _read_schema(model: type[GraphValue]) -> dict:
    """The schema of a read model's JSON: its component (named by the qualified Graph type, ``@odata.type`` added), by $ref."""
    name = model.qualified_name()
    if name not in BODY_SCHEMAS:
        schema = model.model_json_schema(by_alias=True, mode="serialization", ref_template="#/components/schemas/{model}")
        found = {name: schema, **schema.pop("$defs", {})}
        by_class = {t.__name__: t.qualified_name() for t in graph_types()}
        text = json.dumps(found)
        for short, qualified in by_class.items():
            text = text.replace(f'"#/components/schemas/{short}"', f'"#/components/schemas/{qualified}"')
        for key, value in json.loads(text).items():
            key = by_class.get(key, key)
            value.setdefault("properties", {})["@odata.type"] = STRING
            value.pop("required", None)  # $select answers only some properties
            BODY_SCHEMAS.setdefault(key, value)
    return {"$ref": f"#/components/schemas/{name}"}


def entity_schema(resource: Resource) -> dict:
    """The JSON schema of one item of a resource: its read model, or one of its concrete types when polymorphic."""
    if resource.entity is None:
        return _ENTITY
    concrete = concrete_types(resource.entity)
    return _read_schema(concrete[0]) if concrete == [resource.entity] else {"oneOf": [_read_schema(t) for t in concrete]}


def item_responses(resource: Resource, status: int = 200, description: str = "The entity") -> dict:
    """The responses of a GET (or, with 201, a POST) of one item of a resource, with its full schema."""
    schema = {"allOf": [entity_schema(resource), {"type": "object", "properties": {"@odata.context": STRING}}]}
    return {**ERROR_RESPONSES, status: json_response(description, schema)}


def list_responses(resource: Resource) -> dict:
    """The responses of a GET of a resource's collection, with the full schema of its items."""
    return {**ERROR_RESPONSES, 200: json_response("A page of the collection", {**_COLLECTION, "properties": {
        **_COLLECTION["properties"], "value": {"type": "array", "items": entity_schema(resource)}}})}


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR_RESPONSES = {400: json_response("Bad request", _GRAPH_ERROR), 401: json_response("Missing or invalid token", _GRAPH_ERROR),
           403: json_response("Permission missing", _GRAPH_ERROR), 404: json_response("Not found in the caller's tenant", _GRAPH_ERROR),
           429: json_response("Throttled; retry after Retry-After seconds", _GRAPH_ERROR)}
LIST_RESPONSES = {**ERROR_RESPONSES, 200: json_response("A page of the collection", _COLLECTION)}
ONE_RESPONSES = {**ERROR_RESPONSES, 200: json_response("The entity", _ENTITY)}
COUNT_RESPONSES = {**ERROR_RESPONSES, 200: {"description": "The number of items", "content": {"text/plain": {"schema": {"type": "integer"}}}}}
_NO_CONTENT = {**ERROR_RESPONSES, 204: {"description": "Done"}, 409: json_response("Conflict", _GRAPH_ERROR)}


def _created(resource: Resource) -> dict:
    return {**item_responses(resource, 201, "The created entity; Location gives its URL"), 409: json_response("Conflict", _GRAPH_ERROR)}


def add_collection_routes(router: APIRouter, surface: Surface, resource: Resource) -> None:
    """List, count, create, get, update, delete and navigations of one top-level collection of a surface."""
    path = f"{surface.base}/{resource.name}"
    body_model = resource.body
    tag = [resource.name]
    list_read = resource.list_read or resource.read

    async def list_items(request: Request) -> JSONResponse:
        def work(db, principal):
            return collection_json(request, db, principal, surface, resource, resource.list(db=db, tenant_id=principal.tenant_id), resource.name)
        return GraphJSON(await call(request, list_read, work, cached=True))

    async def count_items(request: Request) -> PlainTextResponse:
        def work(db, principal):
            return count_of(request, resource, resource.list(db=db, tenant_id=principal.tenant_id))
        return PlainTextResponse(str(await call(request, list_read, work, cached=True)))

    async def get_item(request: Request, key: str) -> JSONResponse:
        def work(db, principal):
            row = resource.get(db=db, tenant_id=principal.tenant_id, key=key)
            return entity_json(request, db, principal, surface, resource, row, resource.name)
        return GraphJSON(await call(request, resource.read, work, cached=True))

    router.add_api_route(path, list_items, methods=["GET"], tags=tag, summary=f"List {resource.name}", responses=list_responses(resource),
                         openapi_extra={"parameters": LIST_OPTIONS},
                         description=f"Permissions: {', '.join(list_read)}. OData: $top $skip $count $filter $orderby $select $expand $search.")
    router.add_api_route(f"{path}/$count", count_items, methods=["GET"], tags=tag, summary=f"Count {resource.name}",
                         response_class=PlainTextResponse, responses=COUNT_RESPONSES, openapi_extra={"parameters": COUNT_OPTIONS},
                         description=f"Permissions: {', '.join(list_read)}.")
    if resource.write:
        async def create_item(request: Request) -> JSONResponse:
            raw = await read_body(request)

            def work(db, principal):
                row = resource.create(db=db, tenant_id=principal.tenant_id, raw=raw)
                return entity_json(request, db, principal, surface, resource, row, resource.name)
            body = await call(request, resource.write, work)
            resource.accepted(request.app.state, body["id"])
            location = surface.url(request, f"{resource.name}/{body['id']}")
            return GraphJSON(body, status_code=201, headers={"Location": location})

        router.add_api_route(path, create_item, methods=["POST"], tags=tag, summary=f"Create one of {resource.name}",
                             status_code=201, responses=_created(resource), openapi_extra=_body_schema(body_model),
                             description=f"Permissions: {', '.join(resource.write)}. Answers 201 with the entity and a Location header.")
    router.add_api_route(f"{path}/{{key}}", get_item, methods=["GET"], tags=tag, summary=f"Get one of {resource.name}",
                         responses=item_responses(resource), openapi_extra={"parameters": ITEM_OPTIONS},
                         description=f"Permissions: {', '.join(resource.read)}. OData: $select $expand.")
    if resource.write:
        async def update_item(request: Request, key: str) -> Response:
            raw = await read_body(request)

            def work(db, principal):
                row = resource.get(db=db, tenant_id=principal.tenant_id, key=key)
                resource.update(db=db, tenant_id=principal.tenant_id, row=row, raw=raw)
                return row.id
            resource.accepted(request.app.state, await call(request, resource.write, work))
            return Response(status_code=204)

        async def delete_item(request: Request, key: str) -> Response:
            def work(db, principal):
                row = resource.get(db=db, tenant_id=principal.tenant_id, key=key)
                resource.delete(db=db, tenant_id=principal.tenant_id, row=row)
            await call(request, resource.write, work)
            return Response(status_code=resource.delete_status)

        router.add_api_route(f"{path}/{{key}}", update_item, methods=["PATCH"], tags=tag, summary=f"Update one of {resource.name}",
                             status_code=204, response_class=Response, responses=_NO_CONTENT,
                             openapi_extra=_body_schema(body_model), description=f"Permissions: {', '.join(resource.write)}.")
        router.add_api_route(f"{path}/{{key}}", delete_item, methods=["DELETE"], tags=tag, summary=f"Delete one of {resource.name}",
                             status_code=resource.delete_status, response_class=Response,
                             responses={**_NO_CONTENT, resource.delete_status: {"description": "Done"}},
                             description=f"Permissions: {', '.join(resource.write)} (referenceDefinitions: disables the code).")
    for nav_name, nav in resource.navigations.items():
        if nav.many:
            continue  # collection navigations (runs/{id}/activities) have routes of their own
        target = surface.resources[nav.target]

        def make(nav=nav, target=target, nav_name=nav_name):
            async def follow(request: Request, key: str) -> JSONResponse:
                def work(db, principal):
                    row = resource.get(db=db, tenant_id=principal.tenant_id, key=key)
                    found = nav.follow(db, principal.tenant_id, row)
                    if found is None:
                        raise NotFoundError(f"{resource.type_name} '{key}' has no {nav_name}.")
                    return entity_json(request, db, principal, surface, target, found, target.name)
                return GraphJSON(await call(request, target.read, work, cached=True))
            return follow

        router.add_api_route(f"{path}/{{key}}/{nav_name}", make(), methods=["GET"], tags=tag,
                             summary=f"Get the {nav_name} of one of {resource.name}", responses=item_responses(target),
                             openapi_extra={"parameters": ITEM_OPTIONS},
                             description=f"Permissions: {', '.join(target.read)}.")


def add_contained_routes(router: APIRouter, surface: Surface, parent: Resource, child: Resource) -> None:
    """List, count, create, get, update and delete of a collection contained in an entity (``{set}/provisioningFlows``)."""
    path = f"{surface.base}/{parent.name}/{{key}}/{child.name}"
    body_models = child.body
    tag = [parent.name]
    context = lambda key: f"{parent.name}('{key}')/{child.name}"  # noqa: E731

    async def list_items(request: Request, key: str) -> JSONResponse:
        def work(db, principal):
            owner = parent.get(db=db, tenant_id=principal.tenant_id, key=key)
            rows = child.list(db=db, tenant_id=principal.tenant_id, parent=owner)
            return collection_json(request, db, principal, surface, child, rows, context(key))
        return GraphJSON(await call(request, child.read, work, cached=True))

    async def count_items(request: Request, key: str) -> PlainTextResponse:
        def work(db, principal):
            owner = parent.get(db=db, tenant_id=principal.tenant_id, key=key)
            return count_of(request, child, child.list(db=db, tenant_id=principal.tenant_id, parent=owner))
        return PlainTextResponse(str(await call(request, child.read, work, cached=True)))

    async def create_item(request: Request, key: str) -> JSONResponse:
        raw = await read_body(request)

        def work(db, principal):
            owner = parent.get(db=db, tenant_id=principal.tenant_id, key=key)
            row = child.create(db=db, tenant_id=principal.tenant_id, raw=raw, parent=owner)
            return entity_json(request, db, principal, surface, child, row, context(key))
        body = await call(request, child.write, work)
        location = surface.url(request, f"{parent.name}/{key}/{child.name}/{body['id']}")
        return GraphJSON(body, status_code=201, headers={"Location": location})

    async def get_item(request: Request, key: str, item: str) -> JSONResponse:
        def work(db, principal):
            owner = parent.get(db=db, tenant_id=principal.tenant_id, key=key)
            row = child.get(db=db, tenant_id=principal.tenant_id, key=item, parent=owner)
            return entity_json(request, db, principal, surface, child, row, context(key))
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
                         responses=list_responses(child), openapi_extra={"parameters": LIST_OPTIONS}, description=read)
    router.add_api_route(path, create_item, methods=["POST"], tags=tag, summary=f"Create one of {child.name} in one of {parent.name}",
                         status_code=201, responses=_created(child), openapi_extra=_body_schema(body_models), description=write)
    router.add_api_route(f"{path}/$count", count_items, methods=["GET"], tags=tag, summary=f"Count {child.name} of one of {parent.name}",
                         response_class=PlainTextResponse, responses=COUNT_RESPONSES, openapi_extra={"parameters": COUNT_OPTIONS}, description=read)
    router.add_api_route(f"{path}/{{item}}", get_item, methods=["GET"], tags=tag, summary=f"Get one of {child.name} of one of {parent.name}",
                         responses=item_responses(child), openapi_extra={"parameters": ITEM_OPTIONS}, description=read)
    router.add_api_route(f"{path}/{{item}}", update_item, methods=["PATCH"], tags=tag, status_code=204, response_class=Response,
                         summary=f"Update one of {child.name} of one of {parent.name}", responses=_NO_CONTENT,
                         openapi_extra=_body_schema(body_models), description=write)
    router.add_api_route(f"{path}/{{item}}", delete_item, methods=["DELETE"], tags=tag, status_code=204, response_class=Response,
                         summary=f"Delete one of {child.name} of one of {parent.name}", responses=_NO_CONTENT, description=write)
