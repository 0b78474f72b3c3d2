"""The dashboard: server-rendered pages under ``/admin`` of the app ``homeroom serve`` runs (docs/dashboard.md).

Jinja2 templates, htmx for progressive enhancement (paging without reloads, polling a validation or a run) and uPlot
for the trends, both vendored under ``static/vendor`` with their licences: no build step and no CDN. Every page
works without JavaScript except the plots, which have a table beside them.

``install_dashboard(app)`` adds the routes, the static files, the HTML error pages and the security headers; the
modules: ``signin`` (sessions, CSRF), ``queries`` (what pages read), ``views`` (the routes), ``matching`` (the match
report from the lake), ``plans`` (runs' provisioning plans as the lake keeps them) and ``targets`` (directory target
forms derived from each kind's settings model; secrets write-only).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from homeroom.api.cache import ReadCache
from homeroom.api.errors import status_and_code
from homeroom.errors import HomeroomError
from homeroom.web.signin import PageError, SessionCookies, SignInRequired, session_key, viewer_of
from homeroom.web.views import render, router

STATIC = Path(__file__).parent / "static"
PREFIX = "/admin"
#: Scripts and styles come from the app only; no frames, no form posts elsewhere.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
_STATUS_TITLES = {400: "The request could not be used", 401: "Sign in", 403: "Not allowed", 404: "Not found",
                  405: "Not allowed", 409: "Conflict", 413: "Too large", 429: "Too many attempts"}


class DashboardHeaders:
    """ASGI middleware: the security headers of every ``/admin`` answer (pages are never cached)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            return await self.app(scope, receive, send)
        static = scope["path"].startswith(f"{PREFIX}/static/")

        async def with_headers(message):
            if message["type"] == "http.response.start":
                extra = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()), (b"x-frame-options", b"DENY"),
                         (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
                if not static:
                    extra.append((b"cache-control", b"no-store"))
                message = dict(message, headers=[*message.get("headers", []), *extra])
            await send(message)

        await self.app(scope, receive, with_headers)


def _is_dashboard(request: Request) -> bool:
    return request.url.path == PREFIX or request.url.path.startswith(f"{PREFIX}/")


def error_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    """An error as a page of the dashboard, with the signed-in user's navigation when there is one."""
    viewer = None
    try:
        with request.app.state.sessions() as db:
            viewer = viewer_of(request, db)
    except Exception:  # noqa: BLE001 - an error page must render even when the database does not answer
        viewer = None
    response = render(request, "error.html", viewer, status=status, title=_STATUS_TITLES.get(status, "Something went wrong"),
                      message=message, code=status)
    response.headers.update(headers or {})
    return response


def install_dashboard(app: FastAPI) -> None:
    """Serve the dashboard from ``app`` under ``/admin`` (after the API's error handlers are installed)."""
    state = app.state
    state.dashboard_cookies = SessionCookies(session_key(state.sas_key),
                                             secure_always=bool(state.public_url and state.public_url.startswith("https://")))
    state.dashboard_pages = ReadCache()  # pages per session and tenant revision (homeroom.web.views._page)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.include_router(router)
    previous_http = app.exception_handlers[StarletteHTTPException]
    previous_homeroom = app.exception_handlers[HomeroomError]

    async def page_error(request: Request, exc: PageError):
        return error_page(request, exc.status, exc.message, exc.headers)

    async def sign_in_required(request: Request, exc: SignInRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):  # an htmx fragment: send the whole window to the sign-in page
            return HTMLResponse("", status_code=401, headers={"HX-Redirect": "/admin/sign-in"})
        return RedirectResponse(f"/admin/sign-in?next={target if request.method == 'GET' else '/admin/'}", status_code=303)

    async def http_error(request: Request, exc: StarletteHTTPException):
        if not _is_dashboard(request):
            return await previous_http(request, exc)
        messages = {404: f"There is no page at {request.url.path}.", 405: f"{request.method} is not supported here."}
        return error_page(request, exc.status_code, messages.get(exc.status_code, str(exc.detail)))

    async def homeroom_error(request: Request, exc: HomeroomError):
        if not _is_dashboard(request):
            return await previous_homeroom(request, exc)
        status, _code, headers = status_and_code(exc)
        return error_page(request, status, exc.message, headers)

    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(HomeroomError, homeroom_error)
    app.add_middleware(DashboardHeaders)


__all__ = ["install_dashboard"]
