"""``GET /beta/$metadata`` (the CSDL of what Homeroom implements) and ``GET /beta/`` (the service document).

Like Graph, both answer without a token: they describe the API, not a tenant's data.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from homeroom.api.calls import VERSION, base_url
from homeroom.api.csdl import SERVICE_ROOTS, metadata_document
from homeroom.api.resources import INDUSTRY_DATA
from homeroom.api.responses import GraphJSON


@lru_cache(maxsize=1)
def _document() -> bytes:
    return metadata_document(INDUSTRY_DATA)


def add_metadata_routes(router: APIRouter) -> None:
    """The metadata and service documents' routes."""

    async def metadata(request: Request) -> Response:
        return Response(_document(), media_type="application/xml")

    async def service_document(request: Request) -> JSONResponse:
        return GraphJSON({"@odata.context": f"{base_url(request)}/$metadata", "value": list(SERVICE_ROOTS)})

    router.add_api_route(f"/{VERSION}/$metadata", metadata, methods=["GET"], tags=["metadata"], summary="The metadata document",
                         response_class=Response, responses={200: {"description": "OData v4 CSDL (XML)",
                                                                   "content": {"application/xml": {"schema": {"type": "string"}}}}},
                         description="No token needed. Entity, complex and enumeration types, navigations, actions and "
                         "functions of the industryData API as Homeroom serves it.")
    for path in (f"/{VERSION}/", f"/{VERSION}"):
        router.add_api_route(path, service_document, methods=["GET"], tags=["metadata"], summary="The service document",
                             include_in_schema=path.endswith("/"),
                             responses={200: {"description": "The service's entity sets and singletons"}},
                             description="No token needed.")
