"""Every exception Homeroom raises on purpose, in one tree; the API and the CLI turn them into answers and messages.

Problems *in roster data* are never exceptions: they are findings (``homeroom.findings``). Exceptions are for
requests Homeroom refuses and for failures of the parts it talks to::

    HomeroomError
    ├── PackageError              a roster package cannot be opened at all (missing path, not a folder or zip)
    ├── ConfigurationError        a setting, option or stored configuration has a value Homeroom cannot use
    ├── NotFoundError             no such thing in the caller's tenant (another tenant's ids are simply not found)
    ├── ConflictError             the request conflicts with the current state
    │   ├── RunError              a run cannot start, or an action on a run is not possible
    │   │   ├── RunInProgress         a run of the tenant is running, or a run of the flow is held
    │   │   ├── RunStartLimitReached  more on-demand runs than allowed in the window
    │   │   ├── NothingToRun          no active flow has data to run
    │   │   └── RunNotHeld            approve or discard of a run that is not held
    │   └── UploadSessionError    an upload session cannot be given or validated for this connector
    ├── AuthError                 the caller cannot be authenticated or is not allowed
    │   ├── InvalidToken              no token, or one Homeroom does not accept (signature, expiry, audience, tenant)
    │   ├── InvalidClient             the token endpoint does not know the client or its secret
    │   ├── OAuthRequestError         a token request is malformed or its grant is refused (RFC 6749 ``error`` code)
    │   │   └── SignInThrottled           too many failed sign-ins of a client or user: retry after ``retry_after``
    │   └── PermissionMissing         the caller is authenticated but lacks the permission
    └── ExternalError             a system Homeroom talks to (a SIS API, a directory) failed
        ├── TransientError            worth retrying, after ``retry_after`` seconds when the system said so (429, 503)
        ├── PermanentError            retrying will not help (bad credentials, a refused write)
        └── IncompletePull            a pull from a SIS API did not get every record (a short or failed page): nothing is written

``homeroom.api.errors`` maps each class to an HTTP status and a Graph error code, in one table; the CLI prints
the message. A message says what is wrong and, where it can, what to do about it.
"""

from __future__ import annotations


class HomeroomError(Exception):
    """Base class of every error Homeroom raises on purpose."""

    def __init__(self, message: str = "", *args: object):
        super().__init__(message, *args)
        self.message = message

    def __str__(self) -> str:
        return self.message


class PackageError(HomeroomError):
    """A roster package cannot be opened at all (the path is missing or not a folder or zip)."""


class ConfigurationError(HomeroomError):
    """A setting, command-line option or stored configuration has a value Homeroom cannot use."""


class NotFoundError(HomeroomError):
    """No such resource in the caller's tenant."""


class ConflictError(HomeroomError):
    """The request conflicts with the current state (a run in progress, a duplicate, a resource still in use)."""


class RunError(ConflictError):
    """A run cannot start, or an action on a run is not possible (the message says why)."""


class RunInProgress(RunError):
    """A run of the tenant is still running, or a run of one of the flows is held for approval."""


class RunStartLimitReached(RunError):
    """More successful on-demand runs than allowed in the window."""


class NothingToRun(RunError):
    """No active inbound flow has data to run."""


class RunNotHeld(RunError):
    """Approve or discard of a run that is not held."""


class UploadSessionError(ConflictError):
    """An upload session cannot be given, or validated, for this connector (the message says why)."""


class AuthError(HomeroomError):
    """The caller cannot be authenticated, or is not allowed to do what it asked."""


class InvalidToken(AuthError):
    """No token, or a token Homeroom does not accept (bad signature, expired, wrong audience or tenant)."""


class InvalidClient(AuthError):
    """The token endpoint does not know the client, or its secret is wrong."""


class OAuthRequestError(AuthError):
    """A token request Homeroom refuses, with its RFC 6749 ``error`` code (``invalid_request``, ``invalid_grant``...)."""

    def __init__(self, error: str, description: str):
        super().__init__(f"{error}: {description}")
        self.error, self.description = error, description


class SignInThrottled(OAuthRequestError):
    """Too many failed sign-ins of one client id or username; ``retry_after`` says when to try again."""

    def __init__(self, description: str, *, retry_after: float):
        super().__init__("invalid_request", description)
        self.retry_after = retry_after


class PermissionMissing(AuthError):
    """The token is valid but does not grant the permission the operation needs."""


class ExternalError(HomeroomError):
    """A system Homeroom talks to (a SIS's API, a directory) failed; ``system`` names it."""

    def __init__(self, message: str, *, system: str | None = None):
        super().__init__(message)
        self.system = system


class TransientError(ExternalError):
    """A failure worth retrying: a timeout, 429 or 5xx; ``retry_after`` is how long the system asked to wait."""

    def __init__(self, message: str, *, system: str | None = None, retry_after: float | None = None):
        super().__init__(message, system=system)
        self.retry_after = retry_after


class PermanentError(ExternalError):
    """A failure that retrying will not mend: bad credentials, a missing permission, a refused write."""


class IncompletePull(ExternalError):
    """A pull from a SIS's API ended without every record: a page that failed after its retries, an empty or short
    page, a total that does not match what arrived. Nothing of the pull may be used (it would deactivate what is
    missing); ``collection`` and ``offset`` say where it broke."""

    def __init__(self, message: str, *, system: str | None = None, collection: str | None = None, offset: int | None = None):
        super().__init__(message, system=system)
        self.collection, self.offset = collection, offset
