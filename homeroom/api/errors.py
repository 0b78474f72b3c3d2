"""How errors reach an API client: Graph's error body (``{"error": {"code", "message", "innerError"}}``).

``GraphError`` and its subclasses are the transport's own refusals (a malformed request, a body too large,
throttling). Every other ``HomeroomError`` (``homeroom.errors``) is mapped to a status and a Graph code by
``STATUS_AND_CODE``, the one table of it: the first class of an exception's MRO found there decides.
"""

from __future__ import annotations

import math

from homeroom import errors
from homeroom.errors import HomeroomError


class GraphError(HomeroomError):
    """An error of the HTTP layer itself, answered with its own HTTP status and Graph error code."""

    status = 400
    code = "BadRequest"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.headers = headers or {}


class BadRequest(GraphError):
    """The request is malformed: unknown property, wrong type, bad query option."""


class MethodNotAllowed(GraphError):
    """The resource exists but does not support the method."""

    status = 405
    code = "MethodNotAllowed"


class PayloadTooLarge(GraphError):
    """The request body is larger than any industryData resource needs."""

    status = 413
    code = "RequestEntityTooLarge"


class Throttled(GraphError):
    """Too many calls from one client of one tenant."""

    status = 429
    code = "TooManyRequests"


#: The HTTP status and Graph error code of each domain error (``homeroom.errors``).
STATUS_AND_CODE: dict[type[HomeroomError], tuple[int, str]] = {
    errors.NotFoundError: (404, "ResourceNotFound"),
    errors.RunInProgress: (409, "RunInProgress"),
    errors.RunStartLimitReached: (409, "RunStartLimitReached"),
    errors.NothingToRun: (409, "NothingToRun"),
    errors.RunNotHeld: (409, "RunNotHeld"),
    errors.ConflictError: (409, "Conflict"),
    errors.UploadSessionError: (400, "BadRequest"),
    errors.ConfigurationError: (400, "BadRequest"),
    errors.InvalidToken: (401, "InvalidAuthenticationToken"),
    errors.InvalidClient: (401, "invalid_client"),
    errors.SignInThrottled: (429, "TooManyRequests"),
    errors.OAuthRequestError: (400, "BadRequest"),
    errors.PermissionMissing: (403, "Authorization_RequestDenied"),
    errors.TransientError: (503, "ServiceUnavailable"),
    errors.PermanentError: (502, "BadGateway"),
    errors.IncompletePull: (502, "BadGateway"),
}


def status_and_code(exc: HomeroomError) -> tuple[int, str, dict[str, str]]:
    """The HTTP status, Graph code and extra headers with which ``exc`` is answered."""
    if isinstance(exc, GraphError):
        return exc.status, exc.code, dict(exc.headers)
    headers: dict[str, str] = {}
    retry_after = getattr(exc, "retry_after", None)  # TransientError, SignInThrottled
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    for cls in type(exc).__mro__:
        if cls in STATUS_AND_CODE:
            status, code = STATUS_AND_CODE[cls]
            return status, code, headers
    return 500, "generalException", headers
