"""OneRoster's error payload, ``imsx_StatusInfo``, and the errors of its query parameters.

Every refusal of a OneRoster route is answered in this shape: the domain errors of ``homeroom.errors`` with the
statuses ``STATUS`` gives them (those of the Graph API), transport refusals (throttling) with their own status,
each with the codeMinor OneRoster 1.2 gives that status.
"""

from __future__ import annotations

import math

from homeroom import errors
from homeroom.errors import HomeroomError


class OneRosterError(HomeroomError):
    """A request the OneRoster API refuses with its own status and codeMinor."""

    status = 400
    code_minor = "invaliddata"


class InvalidFilter(OneRosterError):
    """A ``filter`` that does not parse, names an unknown field or compares a field with a value of another type."""

    code_minor = "invalid_filter_field"


class InvalidSelection(OneRosterError):
    """A ``fields`` or ``sort`` naming a field the collection does not have."""

    code_minor = "invalid_selection_field"


class InvalidData(OneRosterError):
    """A ``limit``, ``offset`` or ``orderBy`` that is not what OneRoster allows."""


class UnknownObject(OneRosterError):
    """No object with this sourcedId in the collection (for this tenant)."""

    status = 404
    code_minor = "unknownobject"


#: The codeMinor of each HTTP status.
_CODE_MINOR = {400: "invaliddata", 401: "unauthorisedrequest", 403: "forbidden", 404: "unknownobject", 429: "server_busy"}
#: The HTTP status of the domain errors a OneRoster request can meet (the first class of an error's MRO decides).
STATUS: dict[type[HomeroomError], int] = {
    errors.InvalidToken: 401, errors.InvalidClient: 401, errors.PermissionMissing: 403, errors.NotFoundError: 404,
    errors.SignInThrottled: 429, errors.ConfigurationError: 400, errors.TransientError: 503,
}


def imsx(code_minor: str, description: str) -> dict:
    """An ``imsx_StatusInfo`` body for a failed request."""
    return {"imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": description,
            "imsx_CodeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem",
                                                        "imsx_codeMinorFieldValue": code_minor}]}}


def error_answer(exc: HomeroomError) -> tuple[int, dict, dict[str, str]]:
    """The status, ``imsx_StatusInfo`` body and headers with which ``exc`` is answered."""
    if isinstance(exc, OneRosterError):
        return exc.status, imsx(exc.code_minor, exc.message), {}
    # Transport refusals (homeroom.api.errors.GraphError: throttling) carry their status and headers.
    status = getattr(exc, "status", None)
    headers = dict(getattr(exc, "headers", None) or {})
    if not isinstance(status, int):
        status = next((STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS), 500)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return status, imsx(_CODE_MINOR.get(status, "internal_server_error"), exc.message), headers
