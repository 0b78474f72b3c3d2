"""The FastAPI application: Graph's industryData API, the per-tenant token endpoint, errors in Graph's shape, and the
dashboard under ``/admin`` (``homeroom.web``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import uuid
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from urllib.parse import parse_qsl, unquote_plus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from homeroom.api.actions import QUALIFIED_PATHS
from homeroom.api.blobs import install_blob_routes
from homeroom.api.cache import ReadCache
from homeroom.api.classic.resources import EDUCATION_SYNC
from homeroom.api.classic.routes import classic_router
from homeroom.api.calls import PreferenceApplied
from homeroom.api.errors import status_and_code
from homeroom.api.fairness import FairShare, FairShareMiddleware
from homeroom.api.paths import GraphPaths
from homeroom.api.calls import MAX_FORM_BYTES, read_body
from homeroom.api.collections import BODY_SCHEMAS
from homeroom.api.industry_data import industry_data_router
from homeroom.api.resources import INDUSTRY_DATA
from homeroom.api.responses import GraphJSON
from homeroom.api.throttle import Throttle
from homeroom.auth.keys import load_signing_key
from homeroom.auth.lockout import SignInGuard
from homeroom.auth.permissions import PERMISSIONS
from homeroom.auth.tokens import ExternalIssuer, TokenService
from homeroom.errors import HomeroomError, InvalidClient, OAuthRequestError
from homeroom.lake.tables import Lake
from homeroom.oneroster.lake_views import LakeViews
from homeroom.oneroster.routes import oneroster_router
from homeroom.runs.executors import ThreadExecutor
from homeroom.runs.jobs import execute_run
from homeroom.runs.engine import recover_runs
from homeroom.runs.operations import recover_operations
from homeroom.runs.scheduler import Scheduler
from homeroom.settings import Settings, get_settings
from homeroom.store.database import open_database
from homeroom.uploads.sas import CONTAINER_ACCOUNT, load_sas_key
from homeroom.uploads.sessions import recover_sessions
from homeroom.uploads.storage import open_blob_store
from homeroom.web import install_dashboard

log = logging.getLogger(__name__)

#: The surfaces this app serves through the generic collection routes.
SURFACES = (INDUSTRY_DATA, EDUCATION_SYNC)
#: Types of Graph's hierarchy that appear only as casts in URLs (``.../microsoft.graph.industryData.fileDataConnector``).
_CAST_ONLY_TYPES = {"industryDataConnector", "inboundFlow", "fileDataConnector", "apiDataConnector", "provisioningFlow"}


def _path_segments(routes: list) -> set[str]:
    """Every literal segment of these routes: what Graph's case-insensitive paths are canonicalised to."""
    return {seg for route in routes if not getattr(route, "path", "").startswith("/ims/")  # OneRoster's paths are exact
            for seg in getattr(route, "path", "").split("/") if seg and not seg.startswith("{")}


def _type_names() -> set[str]:
    """Every type a URL may cast to: the surfaces' resource types, their concrete types and Graph's abstract ones."""
    names = set(_CAST_ONLY_TYPES)
    for surface in SURFACES:
        for resource in surface.resources.values():
            names |= {resource.type_name, *resource.concrete_types}
    return names


class RedactSignatures(logging.Filter):
    """Keeps upload URLs' signatures (``sig=``, a credential until it expires) out of the access log."""

    _SIG = re.compile(r"(?i)([?&]sig=)[^&\s]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._SIG.sub(r"\1REDACTED", a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = self._SIG.sub(r"\1REDACTED", record.msg)
        return True


def _redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSignatures) for f in access.filters):
        access.addFilter(RedactSignatures())


class RequestIds:
    """Gives each request a ``request-id`` (echoed with the client's ``client-request-id``) in headers and errors."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        state = scope.setdefault("state", {})
        state["request_id"] = str(uuid.uuid4())
        state["client_request_id"] = headers.get(b"client-request-id", b"").decode("latin-1") or None

        async def with_ids(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [] if b"request-id" in names else [(b"request-id", state["request_id"].encode())]
                if state["client_request_id"] and b"client-request-id" not in names:
                    extra.append((b"client-request-id", state["client_request_id"].encode("latin-1")))
                message = dict(message, headers=[*message.get("headers", []), *extra])
            await send(message)

        await self.app(scope, receive, with_ids)


def _error_response(request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    state = request.scope.get("state", {})
    request_id = state.get("request_id") or str(uuid.uuid4())
    inner = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"), "request-id": request_id,
             "client-request-id": state.get("client_request_id") or request_id}
    all_headers = {"request-id": request_id, **(headers or {})}
    return GraphJSON({"error": {"code": code, "message": message, "innerError": inner}}, status_code=status, headers=all_headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HomeroomError)
    async def homeroom_error(request: Request, exc: HomeroomError) -> JSONResponse:
        status, code, headers = status_and_code(exc)
        if status == 401:
            headers.setdefault("WWW-Authenticate", 'Bearer error="invalid_token"')
        if status >= 500:
            log.error("%s in %s %s: %s", type(exc).__name__, request.method, request.url.path, exc.message)
        return _error_response(request, status, code, exc.message, headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: ("ResourceNotFound", f"Resource not found for the segment in '{request.url.path}'."),
                 405: ("MethodNotAllowed", f"{request.method} is not supported on '{request.url.path}'.")}
        code, message = codes.get(exc.status_code, ("BadRequest", str(exc.detail)))
        return _error_response(request, exc.status_code, code, message, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error_response(request, 400, "BadRequest", f"Invalid request ({where}): {first.get('msg')}.")

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # A uniqueness or reference rule the checks before the write did not catch (e.g. two concurrent creates).
        return _error_response(request, 409, "Conflict", "The request conflicts with the current state of the resource.")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return _error_response(request, 500, "generalException", "An unexpected error occurred; see the server log.")


def _basic_client(authorization: str | None) -> dict[str, str]:
    """The client id and secret of HTTP Basic client authentication (RFC 6749 §2.3.1, as the 1EdTech security
    framework and OneRoster consumers send them); nothing when the header is absent or not Basic."""
    if not authorization or not authorization[:6].lower() == "basic ":
        return {}
    try:
        client_id, _, secret = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        raise InvalidClient("The Authorization header's Basic credentials are not base64 of 'client_id:client_secret'.") from None
    return {"client_id": unquote_plus(client_id), "client_secret": unquote_plus(secret)}


def _install_token_endpoint(app: FastAPI) -> None:
    @app.post("/{tenant}/oauth2/v2.0/token", tags=["auth"], summary="OAuth 2.0 token endpoint", operation_id="getToken",
              openapi_extra={"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                  "type": "object", "required": ["grant_type", "client_id"],
                  "properties": {"grant_type": {"type": "string", "enum": ["client_credentials", "password", "refresh_token"]},
                                 "client_id": {"type": "string"},
                                 "client_secret": {"type": "string", "format": "password",
                                                   "description": "Required for client_credentials; checked when given."},
                                 "scope": {"type": "string", "example": "https://graph.microsoft.com/.default"},
                                 "username": {"type": "string", "description": "password grant"},
                                 "password": {"type": "string", "format": "password", "description": "password grant"},
                                 "refresh_token": {"type": "string", "description": "refresh_token grant"}}}}}}},
              responses={400: {"description": "invalid_request, unsupported_grant_type, invalid_scope or invalid_grant"},
                         401: {"description": "invalid_client"}})
    async def token(tenant: str, request: Request) -> JSONResponse:
        """Exchange an app's credentials (client credentials) or a user's (password, refresh token) for an access token.

        ``/common/...`` (or ``/organizations/...``) stands for the tenant of the client id. ``/{tenant}/oauth2/token``
        is Entra's v1 endpoint: ``resource`` instead of ``scope``."""
        form = dict(parse_qsl((await read_body(request, limit=MAX_FORM_BYTES, json=False)).decode("utf-8", "replace")))
        state = request.app.state
        v1 = not request.url.path.endswith("/v2.0/token")

        def issue() -> dict:
            form.update(_basic_client(request.headers.get("authorization")))
            with state.sessions() as db:
                return state.tokens.token(db=db, tenant_id=tenant, form=form, v1=v1)

        try:
            body = await run_in_threadpool(issue)
        except (OAuthRequestError, InvalidClient) as exc:
            # OAuth clients (MSAL, azure-identity) expect RFC 6749 error bodies here, not Graph's.
            error, description = (exc.error, exc.description) if isinstance(exc, OAuthRequestError) else ("invalid_client", exc.message)
            status, _code, headers = status_and_code(exc)
            return GraphJSON({"error": error, "error_description": description}, status_code=status,
                             headers={"Cache-Control": "no-store", **headers})
        return GraphJSON(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    v2 = next(r for r in app.router.routes if getattr(r, "path", "") == "/{tenant}/oauth2/v2.0/token")
    extra = json.loads(json.dumps(v2.openapi_extra))
    extra["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]["resource"] = {
        "type": "string", "example": "https://graph.microsoft.com", "description": "v1: the audience, instead of scope"}
    app.add_api_route("/{tenant}/oauth2/token", token, methods=["POST"], tags=["auth"], operation_id="getTokenV1",
                      summary="OAuth 2.0 token endpoint (Entra v1 form)", openapi_extra=extra, responses=v2.responses)


def _openapi_with_security(app: FastAPI) -> dict:
    """FastAPI's document, plus the OAuth 2.0 client-credentials scheme that every industryData route requires."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(BODY_SCHEMAS)
        schema["components"]["securitySchemes"] = {"graphToken": {
            "type": "oauth2", "description": "Bearer JWT from /{tenant}/oauth2/v2.0/token; permissions in the roles "
            "(application) or scp (delegated) claim.",
            "flows": {"clientCredentials": {"tokenUrl": "/{tenant}/oauth2/v2.0/token", "scopes": {}},
                      "password": {"tokenUrl": "/{tenant}/oauth2/v2.0/token", "refreshUrl": "/{tenant}/oauth2/v2.0/token",
                                   "scopes": {p: p for p in sorted(PERMISSIONS)}}}}}
        for plain, qualified in QUALIFIED_PATHS.items():  # Microsoft's qualified spellings, as documented aliases
            schema["paths"][qualified] = {method: {**operation, "operationId": f"{operation['operationId']}Qualified"}
                                          for method, operation in schema["paths"][plain].items()}
        for path, operations in schema["paths"].items():
            if path.startswith("/beta/") and path not in ("/beta/", "/beta/$metadata"):  # those two need no token
                for operation in operations.values():
                    operation["security"] = [{"graphToken": []}]
        app.openapi_schema = schema
    return app.openapi_schema


@asynccontextmanager
async def _lifespan(app: FastAPI):
    """Serving: finish what a stopped server left running, run the scheduler; on shutdown, let jobs finish."""
    recover_operations(app.state.sessions)
    with app.state.sessions.begin() as db:
        recover_sessions(db)
    await run_in_threadpool(recover_runs, app.state.settings, app.state.sessions)
    app.state.scheduler.start(app.state.blob_store)
    yield
    app.state.scheduler.stop()
    app.state.executor.shutdown()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API application for these settings (default: the environment's)."""
    settings = settings or get_settings()
    app = FastAPI(title="Homeroom Graph-compatible API", version="0.1.0", lifespan=_lifespan,
                  description="Microsoft Graph beta `industryData`-compatible API served by Homeroom. See docs/api.md.")
    app.state.settings = settings
    _redact_access_log()
    app.state.sessions = open_database(settings)
    app.state.tokens = TokenService(load_signing_key(settings.data_dir), audience=settings.api_audience,
                                    lifetime_seconds=settings.api_token_lifetime_seconds,
                                    external_issuers=[ExternalIssuer.from_setting(i) for i in settings.api_oidc_issuers],
                                    sign_in_guard=SignInGuard(settings.api_sign_in_max_failures, settings.api_sign_in_window_seconds))
    app.state.throttle = Throttle(settings.api_throttle_calls, settings.api_throttle_window_seconds)
    app.state.read_cache = ReadCache()
    app.state.public_url = settings.api_public_url.rstrip("/") if settings.api_public_url else None
    app.state.executor = ThreadExecutor()
    # Scheduled runs go through the same one-at-a-time run queue as on-demand runs; the scheduler waits for each.
    app.state.scheduler = Scheduler(settings, app.state.sessions, lambda runner, run_id: app.state.executor.submit(
        "runs", execute_run, app.state.sessions, runner, run_id).result())
    # Upload storage (Azure Blob compatible, docs/api.md): where session URLs point.
    app.state.blob_store = open_blob_store(settings)
    app.state.sas_key = load_sas_key(settings.data_dir)
    # NextLinks' $skiptoken is signed with a key of its own, derived from the data folder's, so that tokens survive
    # restarts and every process serving the same data folder accepts them (homeroom.api.odata.page).
    app.state.skiptoken_key = hmac.new(app.state.sas_key, b"odata $skiptoken", hashlib.sha256).digest()
    # The OneRoster provider: the lake served to learning apps (docs/oneroster.md).
    app.state.oneroster_views = LakeViews(lambda tenant: Lake.from_settings(settings, tenant), app.state.sessions,
                                          tenants=settings.oneroster_cached_tenants)
    app.state.oneroster_throttle = Throttle(settings.oneroster_throttle_calls, settings.api_throttle_window_seconds)
    app.include_router(oneroster_router())
    install_blob_routes(app)
    _install_error_handlers(app)
    _install_token_endpoint(app)
    graph = industry_data_router()
    app.include_router(graph)
    classic = classic_router()
    app.include_router(classic)
    install_dashboard(app)  # /admin: the pages of docs/dashboard.md
    app.openapi = lambda: _openapi_with_security(app)  # type: ignore[method-assign]
    app.add_middleware(GraphPaths, segments=_path_segments([*app.router.routes, *graph.routes, *classic.routes]), type_names=_type_names(),
                       namespaces=tuple(s.namespace for s in SURFACES), untouched_prefixes=(f"/{CONTAINER_ACCOUNT}/", "/ims/", "/admin"))
    # Outermost but for request ids: a call waits for its tenant's turn before its body is even read.
    app.add_middleware(FairShareMiddleware, share=FairShare(settings.api_tenant_concurrency, settings.api_tenant_queue),
                       tokens=app.state.tokens, exempt_prefixes=(f"/{CONTAINER_ACCOUNT}/", "/admin"))
    app.add_middleware(RequestIds)
    app.add_middleware(PreferenceApplied)
    return app
