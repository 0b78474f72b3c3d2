"""The subset of Azure Blob Storage's REST protocol that upload clients use, served at ``/homeroomuploads/{container}``.

A session URL (``getUploadSession``'s ``sessionUrl``) is ``{base}/homeroomuploads/{container}?{sas}``; for an IP or
``localhost`` host, ``azure-storage-blob`` reads it path-style (account ``homeroomuploads``), and sends the SAS
query back on every call, which is the only credential (spec §1.10.8 and Appendix E). Supported: Put Blob, Put Block,
Put Block List, List Blobs, Get Container Properties, Get Blob (with ranges), Get Blob Properties, Delete Blob.
Errors are Azure's XML body with the ``x-ms-error-code`` header. Request bodies are streamed to the store, and
the store's blocking I/O runs in worker threads.
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import Awaitable
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree

import anyio
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URLPath
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Match, NoMatchFound, get_route_path, request_response
from starlette.types import Receive, Scope, Send

from homeroom.uploads.errors import UploadError
from homeroom.uploads.sas import CONTAINER_ACCOUNT, SAS_VERSION, verify
from homeroom.uploads.storage import CHUNK_BYTES, BlobProperties, BlobStore, BlobUpload

log = logging.getLogger(__name__)

_PREFIX = f"/{CONTAINER_ACCOUNT}/"
_WRITE = "wc"  # Homeroom treats create like write: a session may replace the files it uploaded
_MAX_BLOCK_LIST_BYTES = 8 * 1024 * 1024
_MAX_RESULTS = 5000


def install_blob_routes(app: FastAPI) -> None:
    """Serve the upload endpoint on ``app`` (ahead of every other route); it uses ``app.state.blob_store`` and ``app.state.sas_key``.

    It is not part of the OpenAPI document: this is Azure's protocol, described in docs/api.md.
    """
    app.router.routes.insert(0, _UploadRoute())


class _UploadRoute(BaseRoute):
    """Every path under ``/homeroomuploads/``, matched by prefix: Starlette's path patterns stop at a newline, and
    any path here, however malformed, must get Azure's answer rather than Graph's."""

    def __init__(self) -> None:
        self.app = request_response(_endpoint)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and get_route_path(scope).startswith(_PREFIX):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def _endpoint(request: Request) -> Response:
    store: BlobStore = request.app.state.blob_store
    container, is_blob, name = get_route_path(request.scope)[len(_PREFIX):].partition("/")
    if is_blob:
        return await _answer(request, _blob_operation(request, store, container, name))
    return await _answer(request, _container_operation(request, store, container))


# -- answers --------------------------------------------------------------------------------------------------------

def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


def _xml(root: ElementTree.Element) -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(root, encoding="utf-8", xml_declaration=False)


def _error_response(request: Request, exc: UploadError, request_id: str) -> Response:
    headers = {"x-ms-error-code": exc.code, **exc.headers}
    if request.method == "HEAD":
        return Response(status_code=exc.status, headers=headers)
    root = ElementTree.Element("Error")
    ElementTree.SubElement(root, "Code").text = exc.code
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ElementTree.SubElement(root, "Message").text = f"{exc.message}\nRequestId:{request_id}\nTime:{now}"
    return Response(_xml(root), status_code=exc.status, media_type="application/xml", headers=headers)


async def _answer(request: Request, operation: Awaitable[Response]) -> Response:
    """Await an operation; errors become Azure's XML; every answer carries Azure's request headers."""
    request_id = request.scope.get("state", {}).get("request_id") or str(uuid.uuid4())
    try:
        response = await operation
    except UploadError as exc:
        response = _error_response(request, exc, request_id)
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is listening; what was received is already discarded
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        response = _error_response(request, UploadError(500, "InternalError", "The server encountered an internal error."), request_id)
    response.headers["x-ms-request-id"] = request_id
    response.headers["x-ms-version"] = request.headers.get("x-ms-version") or SAS_VERSION
    if client_request_id := request.headers.get("x-ms-client-request-id"):
        response.headers["x-ms-client-request-id"] = client_request_id
    return response


def _blob_headers(properties: BlobProperties) -> dict[str, str]:
    return {"ETag": f'"{properties.etag}"', "Last-Modified": _http_date(properties.last_modified)}


def _authorize(request: Request, container: str, needed: str) -> None:
    """Return if the request's SAS allows the operation on ``container``; raise ``SasError`` if not."""
    verify(request.query_params, container, needed, request.app.state.sas_key, datetime.now(timezone.utc))


def _invalid_uri() -> UploadError:
    return UploadError(400, "InvalidUri", "The requested URI does not represent any resource on the server.")


# -- container ------------------------------------------------------------------------------------------------------

async def _container_operation(request: Request, store: BlobStore, container: str) -> Response:
    query = request.query_params
    if not container or query.get("restype") != "container":
        raise _invalid_uri()
    if request.method in ("GET", "HEAD") and query.get("comp") == "list":
        _authorize(request, container, "l")
        return await _list_blobs(request, store, container)
    if request.method in ("GET", "HEAD") and "comp" not in query:
        _authorize(request, container, "rl")
        properties = await run_in_threadpool(store.container_properties, container)
        return Response(status_code=200, headers={**_blob_headers(properties), "x-ms-lease-status": "unlocked",
                                                  "x-ms-lease-state": "available", "x-ms-has-immutability-policy": "false",
                                                  "x-ms-has-legal-hold": "false"})
    _authorize(request, container, "")
    # Containers belong to upload sessions: getUploadSession creates them, validation consumes them.
    raise UploadError(403, "AuthorizationPermissionMismatch",
                      "This request is not authorized to perform this operation using this permission.")


async def _list_blobs(request: Request, store: BlobStore, container: str) -> Response:
    query = request.query_params
    prefix, marker = query.get("prefix") or "", query.get("marker") or ""
    try:
        max_results = int(query.get("maxresults") or _MAX_RESULTS)
    except ValueError:
        max_results = 0
    if not 1 <= max_results <= _MAX_RESULTS:
        raise UploadError(400, "OutOfRangeQueryParameterValue",
                          "One of the query parameters specified in the request URI is outside the permissible range: maxresults.")
    blobs = [b for b in await run_in_threadpool(store.list_blobs, container) if b.name.startswith(prefix) and b.name >= marker]
    page, rest = blobs[:max_results], blobs[max_results:]
    endpoint = f"{request.url.scheme}://{request.url.netloc}/{CONTAINER_ACCOUNT}/"
    root = ElementTree.Element("EnumerationResults", ServiceEndpoint=endpoint, ContainerName=container)
    for tag, value in (("Prefix", prefix), ("Marker", marker), ("MaxResults", query.get("maxresults"))):
        if value:
            ElementTree.SubElement(root, tag).text = value
    listed = ElementTree.SubElement(root, "Blobs")
    for blob in page:
        item = ElementTree.SubElement(listed, "Blob")
        ElementTree.SubElement(item, "Name").text = blob.name
        properties = ElementTree.SubElement(item, "Properties")
        modified = _http_date(blob.last_modified)
        for tag, value in (("Creation-Time", modified), ("Last-Modified", modified), ("Etag", blob.etag),
                           ("Content-Length", str(blob.size)), ("Content-Type", "application/octet-stream"),
                           ("BlobType", "BlockBlob"), ("LeaseStatus", "unlocked"), ("LeaseState", "available"),
                           ("ServerEncrypted", "true")):
            ElementTree.SubElement(properties, tag).text = value
    ElementTree.SubElement(root, "NextMarker").text = rest[0].name if rest else None
    body = b"" if request.method == "HEAD" else _xml(root)
    return Response(body, status_code=200, media_type="application/xml")


# -- blob -----------------------------------------------------------------------------------------------------------

async def _blob_operation(request: Request, store: BlobStore, container: str, name: str) -> Response:
    comp = request.query_params.get("comp")
    operations = {("PUT", None): (_WRITE, _put_blob), ("PUT", "block"): (_WRITE, _put_block),
                  ("PUT", "blocklist"): (_WRITE, _put_block_list), ("GET", None): ("r", _get_blob),
                  ("HEAD", None): ("r", _get_blob), ("DELETE", None): ("d", _delete_blob)}
    if (request.method, comp) not in operations:
        if request.method not in ("GET", "HEAD", "PUT", "DELETE"):
            raise UploadError(405, "UnsupportedHttpVerb", f"The resource doesn't support the specified HTTP verb {request.method}.")
        raise UploadError(400, "UnsupportedQueryParameter",
                          f"One of the query parameters specified in the request URI is not supported: comp={comp}.")
    needed, operation = operations[(request.method, comp)]
    _authorize(request, container, needed)
    return await operation(request, store, container, name)


def _content_md5(request: Request) -> bytes | None:
    value = request.headers.get("content-md5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise UploadError(400, "InvalidMd5",
                          "The MD5 value specified in the request is invalid. The MD5 value must be 128 bits and Base64-encoded.")
    return digest


def _check_declared_length(request: Request, store: BlobStore) -> None:
    """Refuse at once a body declared larger than a blob may be (the bytes are counted anyway)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > store.limits.max_blob_bytes:
        raise UploadError(413, "RequestBodyTooLarge",
                          f"The request body is too large and exceeds the maximum permissible limit of {store.limits.max_blob_bytes} bytes.")


async def _receive(request: Request, upload: BlobUpload):
    """Stream the request body into ``upload`` in chunks of about 1 MiB, then commit it; abort on any failure."""
    try:
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) >= CHUNK_BYTES:
                await run_in_threadpool(upload.write, bytes(buffer))
                buffer.clear()
        if buffer:
            await run_in_threadpool(upload.write, bytes(buffer))
        return await run_in_threadpool(upload.commit)
    finally:
        if not upload.done:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(upload.abort)


async def _put_blob(request: Request, store: BlobStore, container: str, name: str) -> Response:
    blob_type = request.headers.get("x-ms-blob-type")
    if blob_type is None:
        raise UploadError(400, "MissingRequiredHeader",
                          "An HTTP header that's mandatory for this request is not specified: x-ms-blob-type.")
    if blob_type != "BlockBlob":
        raise UploadError(400, "InvalidHeaderValue",
                          "The value for one of the HTTP headers is not in the correct format: "
                          f"x-ms-blob-type {blob_type!r} (only BlockBlob is supported).")
    md5 = _content_md5(request)
    _check_declared_length(request, store)
    upload = await run_in_threadpool(lambda: store.begin_blob(container, name, content_md5=md5))
    properties = await _receive(request, upload)
    headers = {**_blob_headers(properties), "x-ms-request-server-encrypted": "true"}
    if md5 is not None:
        headers["Content-MD5"] = base64.b64encode(md5).decode("ascii")
    return Response(status_code=201, headers=headers)


async def _put_block(request: Request, store: BlobStore, container: str, name: str) -> Response:
    block_id = request.query_params.get("blockid")
    if not block_id:
        raise UploadError(400, "MissingRequiredQueryParameter",
                          "A query parameter that's mandatory for this request is not specified: blockid.")
    md5 = _content_md5(request)
    _check_declared_length(request, store)
    upload = await run_in_threadpool(lambda: store.begin_block(container, name, block_id, content_md5=md5))
    await _receive(request, upload)
    headers = {"x-ms-request-server-encrypted": "true"}
    if md5 is not None:
        headers["Content-MD5"] = base64.b64encode(md5).decode("ascii")
    return Response(status_code=201, headers=headers)


def _block_ids(body: bytes) -> list[str]:
    """The ids of a ``<BlockList>`` document, in order.

    ``Committed``, ``Uncommitted`` and ``Latest`` are alike: the store keeps only staged blocks."""
    invalid = UploadError(400, "InvalidXmlDocument", "XML specified is not syntactically valid.")
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise invalid
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise invalid from None
    if root.tag != "BlockList" or any(child.tag not in ("Committed", "Uncommitted", "Latest") for child in root):
        raise invalid
    return [(child.text or "").strip() for child in root]


async def _put_block_list(request: Request, store: BlobStore, container: str, name: str) -> Response:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_BLOCK_LIST_BYTES:
            raise UploadError(413, "RequestBodyTooLarge", "The block list is larger than the maximum permissible limit.")
    block_ids = _block_ids(bytes(body))
    properties = await run_in_threadpool(store.put_block_list, container, name, block_ids)
    return Response(status_code=201, headers={**_blob_headers(properties), "x-ms-request-server-encrypted": "true"})


def _byte_range(request: Request, size: int) -> tuple[int, int] | None:
    """The (first, last) byte of an ``x-ms-range``/``Range`` header, or None to send the whole blob; 416 past the end."""
    header = request.headers.get("x-ms-range") or request.headers.get("range")
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes="):].partition("-")
    if not first.isdigit() or not (last.isdigit() or last == ""):
        return None
    start, end = int(first), int(last) if last else size - 1
    if start >= size or end < start:
        raise UploadError(416, "InvalidRange", "The range specified is invalid for the current size of the resource.",
                          headers={"Content-Range": f"bytes */{size}"})
    return start, min(end, size - 1)


async def _get_blob(request: Request, store: BlobStore, container: str, name: str) -> Response:
    reader = await run_in_threadpool(store.open_blob, container, name)
    size = reader.properties.size
    try:
        byte_range = _byte_range(request, size)
    except UploadError:
        await run_in_threadpool(reader.close)
        raise
    start, end = byte_range or (0, size - 1)
    headers = {**_blob_headers(reader.properties), "Content-Length": str(end - start + 1), "Content-Type": "application/octet-stream",
               "Accept-Ranges": "bytes", "x-ms-blob-type": "BlockBlob", "x-ms-server-encrypted": "true",
               "x-ms-creation-time": _http_date(reader.properties.last_modified), "x-ms-lease-state": "available",
               "x-ms-lease-status": "unlocked"}
    if byte_range:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if request.method == "HEAD":
        await run_in_threadpool(reader.close)
        return Response(status_code=200, headers={**headers, "Content-Length": str(size)})
    return StreamingResponse(reader.chunks(start, end - start + 1), status_code=206 if byte_range else 200, headers=headers)


async def _delete_blob(request: Request, store: BlobStore, container: str, name: str) -> Response:
    await run_in_threadpool(store.delete_blob, container, name)
    return Response(status_code=202, headers={"x-ms-delete-type-permanent": "true"})
