"""Shared access signatures for upload containers, shaped like Azure's service SAS.

A session URL carries ``sv``, ``sr=c``, ``sp`` (permissions), ``se`` (expiry) and ``sig``, an HMAC-SHA256 with
the data folder's upload key over the version, resource type, container, permissions and expiry. The container
is signed, so a signature for one container is worthless for another. The key never leaves the server: this is
Homeroom's own signature, not Azure's account-key algorithm, and only Homeroom verifies it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from homeroom.secretfiles import create_private_file
from homeroom.uploads.errors import SasError

CONTAINER_ACCOUNT = "homeroomuploads"
SAS_VERSION = "2023-11-03"
PERMISSIONS = "racwdl"
KEY_FILE = "upload-sas-key"

_EXPIRY_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_AUTH_FAILED = ("Server failed to authenticate the request. Make sure the value of the sig query parameter "
                "is formed correctly including the signature.")


def load_sas_key(data_dir: Path) -> bytes:
    """The data folder's 32-byte upload signing key, created (random, mode 0600) if it does not exist yet."""
    path = data_dir / KEY_FILE
    if not path.exists():
        create_private_file(path, secrets.token_bytes(32))
    key = path.read_bytes()
    if len(key) != 32:
        raise SasError(500, "InternalError", f"{path} does not hold a 32-byte key.")
    return key


def _expiry_text(expires: datetime) -> str:
    if expires.tzinfo is None:
        raise ValueError("expires must be timezone-aware")
    return expires.astimezone(timezone.utc).strftime(_EXPIRY_FORMAT)


def _signature(version: str, resource: str, container: str, permissions: str, expiry: str, key: bytes) -> str:
    text = "\n".join((version, resource, container, permissions, expiry)).encode("utf-8")
    return base64.urlsafe_b64encode(hmac.new(key, text, hashlib.sha256).digest()).rstrip(b"=").decode("ascii")


def sign(container: str, permissions: str, expires: datetime, key: bytes) -> str:
    """The SAS query string (without ``?``) granting ``permissions`` (letters of ``racwdl``) on ``container`` until ``expires``."""
    if not permissions or set(permissions) - set(PERMISSIONS):
        raise ValueError(f"permissions must be letters of {PERMISSIONS!r}, not {permissions!r}")
    expiry = _expiry_text(expires)
    sig = _signature(SAS_VERSION, "c", container, permissions, expiry, key)
    return urlencode({"sv": SAS_VERSION, "sr": "c", "sp": permissions, "se": expiry, "sig": sig})


def session_url(base_url: str, container: str, expires: datetime, key: bytes, permissions: str = PERMISSIONS) -> str:
    """The container SAS URL an upload session hands out: ``{base_url}/homeroomuploads/{container}?{sas}``."""
    return f"{base_url.rstrip('/')}/{CONTAINER_ACCOUNT}/{container}?{sign(container, permissions, expires, key)}"


def verify(query: Mapping[str, str], container: str, needed: str, key: bytes, now: datetime) -> None:
    """Accept a request's SAS query for ``container``, or raise ``SasError`` (403).

    ``needed`` lists the permission letters that allow the operation; any one of them is enough (``"wc"`` for a
    write); an empty ``needed`` checks only the signature and the expiry.
    """
    fields = {name: query.get(name) for name in ("sv", "sr", "sp", "se", "sig")}
    if any(value is None for value in fields.values()):
        missing = ", ".join(name for name, value in fields.items() if value is None)
        raise SasError(403, "AuthenticationFailed", f"{_AUTH_FAILED} The SAS query lacks {missing}.")
    sv, sr, sp, se, sig = (str(fields[name]) for name in ("sv", "sr", "sp", "se", "sig"))
    expected = _signature(sv, sr, container, sp, se, key)
    if not hmac.compare_digest(expected.encode("ascii"), sig.encode("utf-8", "replace")) or sr != "c":
        raise SasError(403, "AuthenticationFailed", f"{_AUTH_FAILED} Signature did not match.")
    try:
        expiry = datetime.strptime(se, _EXPIRY_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise SasError(403, "AuthenticationFailed", f"{_AUTH_FAILED} The signed expiry {se!r} is not a valid time.") from None
    if now >= expiry:
        raise SasError(403, "AuthenticationFailed", f"{_AUTH_FAILED} Signature expired at {se}.")
    if needed and not set(needed) & set(sp):
        raise SasError(403, "AuthorizationPermissionMismatch",
                       "This request is not authorized to perform this operation using this permission.")
