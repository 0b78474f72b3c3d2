"""The API's exceptions; each becomes Graph's error body (``{"error": {"code", "message", "innerError"}}``)."""

from __future__ import annotations

from homeroom.errors import HomeroomError


class GraphError(HomeroomError):
    """An error answered to the client with an HTTP status and a Graph error code."""

    status = 400
    code = "BadRequest"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(GraphError):
    """The request is malformed: unknown property, wrong type, bad query option."""


class AuthError(GraphError):
    """No token, or a token Homeroom does not accept (bad signature, expired, wrong audience or tenant)."""

    status = 401
    code = "InvalidAuthenticationToken"


class InvalidClient(GraphError):
    """The token endpoint does not know the client or its secret."""

    status = 401
    code = "invalid_client"


class PermissionDenied(GraphError):
    """The token is valid but does not grant the permission the operation needs."""

    status = 403
    code = "Authorization_RequestDenied"


class NotFound(GraphError):
    """No such resource in the caller's tenant."""

    status = 404
    code = "ResourceNotFound"


class MethodNotAllowed(GraphError):
    """The resource exists but does not support the method."""

    status = 405
    code = "MethodNotAllowed"


class Conflict(GraphError):
    """The request conflicts with existing data (a duplicate, or a resource still in use)."""

    status = 409
    code = "Conflict"


class PayloadTooLarge(GraphError):
    """The request body is larger than any industryData resource needs."""

    status = 413
    code = "RequestEntityTooLarge"


class Throttled(GraphError):
    """Too many calls from one client of one tenant."""

    status = 429
    code = "TooManyRequests"
