"""The upload endpoint's exceptions; each is answered as Azure Storage's XML error with its HTTP status and code."""

from __future__ import annotations

from homeroom.errors import HomeroomError


class UploadError(HomeroomError):
    """An error answered to an Azure Blob client: HTTP status, Azure error code (``x-ms-error-code``) and message."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class SasError(UploadError):
    """The SAS query is missing, tampered with, for another container, expired, or lacks a permission."""


class BlobError(UploadError):
    """A storage request Homeroom refuses: a bad blob name, an unknown container or blob, a limit exceeded."""
