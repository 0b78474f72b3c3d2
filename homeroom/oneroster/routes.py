"""The OneRoster routes: ``/ims/oneroster/v1p1/...`` (1.1) and ``/ims/oneroster/rostering/v1p2/...`` (1.2).

Each route authenticates the bearer token (Homeroom's tokens, ``homeroom.auth.tokens``: the tenant is the token's),
throttles per client (its own window: a OneRoster pull pages through thousands of requests), checks the scope
(``homeroom.oneroster.collections``), then answers from the tenant's views in a worker thread. Every refusal is an
``imsx_StatusInfo`` (``homeroom.oneroster.errors``). Collections carry ``X-Total-Count`` and a ``Link`` header
(``first``, ``prev``, ``next``, ``last``, absolute URLs).
"""

from __future__ import annotations

import logging
from typing import Any, Callable
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from homeroom.auth.tokens import Principal
from homeroom.errors import HomeroomError
from homeroom.oneroster.collections import COLLECTIONS, NESTED, ROSTER, Collection, Nested, find, scope_urls, select_page
from homeroom.oneroster.errors import error_answer, imsx
from homeroom.oneroster.query import selected_fields

log = logging.getLogger(__name__)

#: The base path of each version.
BASES = {"1.1": "/ims/oneroster/v1p1", "1.2": "/ims/oneroster/rostering/v1p2"}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _base_url(request: Request, version: str) -> str:
    public = request.app.state.public_url
    return (public or str(request.base_url).rstrip("/")) + BASES[version]


async def _call(request: Request, scopes: tuple[str, ...], work: Callable[[Principal], Response]) -> Response:
    """Authenticate, throttle, check one of ``scopes``, run ``work(principal)``; refusals as ``imsx_StatusInfo``."""
    state = request.app.state

    def run() -> Response:
        with state.sessions() as db:
            principal = state.tokens.verify(db=db, authorization=request.headers.get("authorization"))
            state.oneroster_throttle.check(principal.tenant_id, principal.client_id)
            principal.require(*scopes)
        return work(principal)

    try:
        return await run_in_threadpool(run)
    except HomeroomError as exc:
        status, body, headers = error_answer(exc)
        if status >= 500:
            log.error("%s in %s %s: %s", type(exc).__name__, request.method, request.url.path, exc.message)
        return _json(body, status, headers)
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return _json(imsx("internal_server_error", "An unexpected error occurred; see the server log."), 500)


def _link(request: Request, total: int, limit: int, offset: int) -> str:
    """The ``Link`` header: first, prev (when not on the first page), next (when more follow), last."""
    params = dict(request.query_params)
    url = str(request.url.replace(query=""))

    def at(o: int) -> str:
        return url + "?" + urlencode({**params, "limit": str(limit), "offset": str(o)})

    last = max(0, (total - 1) // limit * limit)
    links = [f'<{at(0)}>; rel="first"']
    if offset > 0:
        links.append(f'<{at(max(0, offset - limit))}>; rel="prev"')
    if offset + limit < total:
        links.append(f'<{at(offset + limit)}>; rel="next"')
    links.append(f'<{at(last)}>; rel="last"')
    return ", ".join(links)


def _list_route(version: str, collection: Collection, nested: Nested | None = None):
    scopes = scope_urls(version, (ROSTER,) if nested else collection.scopes)

    async def route(request: Request) -> Response:
        ids = tuple(request.path_params.values())

        def work(principal: Principal) -> Response:
            state = request.app.state
            tenant = state.oneroster_views.for_tenant(principal.tenant_id)
            page = select_page(tenant, version, collection, request.query_params, max_limit=state.settings.oneroster_max_limit,
                               nested=nested, ids=ids)
            objects = page.view.json_array(page.rows, _base_url(request, version), page.fields)
            return Response(b'{"%s":%s}' % (collection.plural.encode(), objects), media_type="application/json",
                            headers={"X-Total-Count": str(page.total), "Link": _link(request, page.total, page.limit, page.offset)})

        return await _call(request, scopes, work)

    return route


def _get_route(version: str, collection: Collection):
    scopes = scope_urls(version, collection.scopes)

    async def route(request: Request, sourcedId: str) -> Response:  # noqa: N803 - OneRoster's parameter name
        def work(principal: Principal) -> Response:
            views = request.app.state.oneroster_views.for_tenant(principal.tenant_id).views(version)
            view = views[collection.view]
            fields = selected_fields(request.query_params.get("fields"), view.fields)
            row = find(views, collection, sourcedId)
            objects = view.json_array(row, _base_url(request, version), fields)
            return Response(b'{"%s":%s}' % (collection.singular.encode(), objects[1:-1]), media_type="application/json")

        return await _call(request, scopes, work)

    return route


def oneroster_router() -> APIRouter:
    """Every rostering endpoint of both versions (GET only; OneRoster rostering is read-only)."""
    router = APIRouter(include_in_schema=False)
    for version, base in BASES.items():
        for nested in NESTED:
            router.add_api_route(f"{base}/{nested.path}", _list_route(version, COLLECTIONS[nested.target], nested), methods=["GET"],
                                 name=f"oneroster {version} {nested.path}")
        for collection in COLLECTIONS.values():
            router.add_api_route(f"{base}/{collection.path}", _list_route(version, collection), methods=["GET"],
                                 name=f"oneroster {version} {collection.path}")
            router.add_api_route(f"{base}/{collection.path}/{{sourcedId}}", _get_route(version, collection), methods=["GET"],
                                 name=f"oneroster {version} {collection.path}/{{sourcedId}}")

        async def unknown(request: Request, rest: str) -> Response:
            return _json(imsx("unknownobject", f"{request.url.path} is not an endpoint of the OneRoster rostering service."), 404)

        router.add_api_route(f"{base}/{{rest:path}}", unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                             name=f"oneroster {version} unknown")
    return router
