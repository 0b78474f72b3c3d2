"""A typed client of the CSV upload loop that School Data Sync clients run, against Homeroom (or Graph's shapes).

The loop (docs/automation.md): a token from the tenant's token endpoint, the connector's upload session, the CSV files
put into the session's container with the Azure Blob protocol, ``validate`` and its operation polled to the end, then,
optionally, ``runs/start``, the run polled to the end, its statistics and its findings log::

    with GraphClient("https://homeroom.example.org", "contoso", client_id, secret) as graph:
        connector = graph.find_connector("CSV connector")
        session = graph.upload_session(connector["id"], reset=True)
        graph.upload_files(session.session_url, [Path("export")])
        operation = graph.wait(graph.validate(connector["id"]))
        run = graph.wait_run(graph.start_run())
        totals = graph.statistics(run["id"])["inboundTotals"]

Every failure is a ``ClientError`` whose text is one line naming the call, the HTTP status, the error code and the
server's message (Graph's JSON errors, the token endpoint's OAuth errors and Azure Storage's XML errors alike).
Files are streamed from disk, never read whole; a file above ``block_threshold`` is sent as blocks (Put Block, a few
in parallel threads) and committed with Put Block List, as ``azure-storage-blob`` does with large files.
"""

from __future__ import annotations

import base64
import math
import re
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

import httpx

from homeroom.errors import HomeroomError

__all__ = ["ClientError", "GraphClient", "UploadSession", "UploadedFile", "package_files"]

GRAPH_BASE = "/beta/external/industryData"
CONNECTOR_TYPE = "#microsoft.graph.industryData.azureDataLakeConnector"
SCOPE = "https://graph.microsoft.com/.default"
MIB = 1024 * 1024
#: Files larger than this are uploaded as blocks (Put Block + Put Block List) instead of one Put Blob.
BLOCK_THRESHOLD = 256 * MIB
BLOCK_SIZE = 64 * MIB
PARALLEL_BLOCKS = 4
#: SDS asks clients to poll an operation no more often than every 5 seconds.
POLL_SECONDS = 5.0
BLOB_VERSION = "2023-11-03"
PENDING = ("notStarted", "running")
_STREAM_CHUNK = MIB
_SAS_SIGNATURE = re.compile(r"(sig=)[^&\s]+", re.IGNORECASE)

Progress = Callable[[str, int, int], None]
"""Called as bytes are sent: ``progress(file_name, bytes_sent, file_size)``."""
RetryNotice = Callable[[str, float], None]
"""Called before waiting out a 429/503: ``on_retry(call, seconds)``."""


class ClientError(HomeroomError):
    """A call of the upload loop failed; ``str()`` is one line naming the call, status, code and message."""

    def __init__(self, call: str, message: str, *, status: int | None = None, code: str | None = None, hint: str = ""):
        self.call, self.status, self.code = call, status, code
        self.message = _one_line(message)
        self.hint = _one_line(hint)
        where = f"HTTP {status} " if status is not None else ""
        text = f"{call}: {where}{code + ': ' if code else ''}{self.message}"
        super().__init__(f"{text} ({self.hint})" if self.hint else text)

    def to_json(self) -> dict[str, Any]:
        """The error as data, for ``--json`` output."""
        return {"call": self.call, "status": self.status, "code": self.code, "message": self.message, "hint": self.hint or None}


@dataclass(frozen=True)
class UploadSession:
    """Graph's ``fileUploadSession``: where to upload files and until when."""

    session_url: str
    """Container URL with its SAS query: a credential, so ``to_json`` leaves it out."""
    container_id: str
    session_expires: str
    container_expires: str

    def to_json(self) -> dict[str, str]:
        """The session without its signed URL."""
        return {"containerId": self.container_id, "sessionExpirationDateTime": self.session_expires,
                "containerExpirationDateTime": self.container_expires}


@dataclass(frozen=True)
class UploadedFile:
    """One file put into an upload session."""

    name: str
    path: Path
    size: int
    blocks: int
    """0 for a single Put Blob, else the number of blocks committed by Put Block List."""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "bytes": self.size, "blocks": self.blocks}


def _one_line(text: str) -> str:
    return _SAS_SIGNATURE.sub(r"\1REDACTED", " ".join(str(text).split()))


def package_files(paths: Iterable[Path]) -> list[Path]:
    """The CSV files to upload: the ``*.csv`` files of each folder (not its subfolders) and each explicit ``.csv`` file.

    A zip archive is refused: an upload session takes the package's CSV files, so extract it first.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv" and not p.name.startswith("."))
            if not found:
                archives = sorted(p.name for p in path.iterdir() if p.suffix.lower() == ".zip")
                extra = f" (it holds {', '.join(archives)}: extract the archive into the folder first)" if archives else ""
                raise ClientError("upload", f"{path} holds no .csv files{extra}.")
            files.extend(found)
        elif not path.exists():
            raise ClientError("upload", f"{path} does not exist.")
        elif path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
            raise ClientError("upload", f"{path} is a zip archive; an upload session takes the package's CSV files: extract it "
                              f"(e.g. unzip {path.name} -d export) and upload the folder.")
        elif path.suffix.lower() != ".csv":
            raise ClientError("upload", f"{path} is not a .csv file; upload the package's CSV files or their folder.")
        else:
            files.append(path)
    twice = [name for name, n in Counter(p.name for p in files).items() if n > 1]
    if twice:
        raise ClientError("upload", f"{twice[0]} is given more than once; each file name is uploaded once per session.")
    return files


class _Meter:
    """Counts the bytes sent of one file (from several threads) and reports them to a ``Progress`` callback."""

    def __init__(self, name: str, size: int, progress: Progress | None):
        self.name, self.size, self.progress = name, size, progress
        self.sent = 0
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.sent += count
            if self.progress is not None:
                self.progress(self.name, self.sent, self.size)

    def body(self, path: Path, offset: int, length: int) -> Callable[[], Iterator[bytes]]:
        """A factory of request bodies streaming ``length`` bytes of ``path`` from ``offset``; a retry un-counts the
        bytes of the attempt before."""
        counted = [0]

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as fh:
                fh.seek(offset)
                remaining = length
                while remaining > 0:
                    chunk = fh.read(min(_STREAM_CHUNK, remaining))
                    if not chunk:
                        raise ClientError("upload", f"{path} got shorter while it was uploaded; upload again once the export "
                                          "has finished writing it.")
                    remaining -= len(chunk)
                    counted[0] += len(chunk)
                    self.add(len(chunk))
                    yield chunk

        def make() -> Iterator[bytes]:
            if counted[0]:
                self.add(-counted[0])
                counted[0] = 0
            return chunks()

        return make


class GraphClient:
    """A client of one tenant of a Homeroom server: gets and refreshes its token, waits out throttling, and turns
    every failure into a ``ClientError``."""

    def __init__(self, server: str, tenant: str, client_id: str, client_secret: str, *, max_retries: int = 5,
                 max_retry_seconds: float = 120.0, on_retry: RetryNotice | None = None, timeout_seconds: float = 120.0,
                 http: httpx.Client | None = None) -> None:
        self.server = server.rstrip("/")
        self.tenant, self.client_id = tenant, client_id
        self._secret = client_secret
        self.max_retries, self.max_retry_seconds, self.on_retry = max_retries, max_retry_seconds, on_retry
        self._http = http or httpx.Client(timeout=httpx.Timeout(timeout_seconds, connect=min(15.0, timeout_seconds)))
        self._token: str | None = None
        self._token_renew_at = 0.0
        self._token_lock = threading.Lock()

    def __enter__(self) -> "GraphClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    # -- HTTP ---------------------------------------------------------------------------------------------------------

    def _graph(self, path: str) -> str:
        return f"{self.server}{GRAPH_BASE}/{path}"

    def local_url(self, url: str) -> str:
        """A URL the server returned (``Location``, ``resourceLocation``, ``@odata.nextLink``) on this client's server:
        its path from ``/beta/`` on, so that a server behind a proxy that names itself otherwise is still reached."""
        parts = urlsplit(url)
        at = parts.path.find("/beta/")
        if at < 0:
            return url
        return f"{self.server}{parts.path[at:]}" + (f"?{parts.query}" if parts.query else "")

    def access_token(self) -> str:
        """A valid access token, fetched with the client-credentials grant and renewed before it expires."""
        with self._token_lock:
            if self._token is None or time.monotonic() >= self._token_renew_at:
                response = self._request("token", "POST", f"{self.server}/{quote(self.tenant, safe='')}/oauth2/v2.0/token",
                                         auth=False, data={"grant_type": "client_credentials", "client_id": self.client_id,
                                                           "client_secret": self._secret, "scope": SCOPE})
                body = self._json("token", response)
                if not body.get("access_token"):
                    raise ClientError("token", "the token endpoint answered without an access_token.", status=response.status_code)
                lifetime = float(body.get("expires_in") or 3600)
                self._token = str(body["access_token"])
                self._token_renew_at = time.monotonic() + max(lifetime / 2, lifetime - 300)
            return self._token

    def _request(self, call: str, method: str, url: str, *, auth: bool = True, expect: tuple[int, ...] = (200,),
                 body: Callable[[], Iterator[bytes] | bytes] | None = None, headers: dict[str, str] | None = None,
                 data: dict[str, str] | None = None, stream: bool = False) -> httpx.Response:
        """Send a request; renew the token once on a 401, wait out 429/503 (``Retry-After``) up to ``max_retries``."""
        renewed, attempt = False, 0
        while True:
            sent = dict(headers or {})
            if auth:
                sent["Authorization"] = f"Bearer {self.access_token()}"
            request = self._http.build_request(method, url, headers=sent, content=body() if body else None, data=data)
            try:
                response = self._http.send(request, stream=stream)
            except httpx.HTTPError as exc:
                where = urlsplit(url)
                raise ClientError(call, f"cannot reach {where.scheme}://{where.netloc}: {exc or type(exc).__name__}",
                                  hint="check --server and that Homeroom is running") from None
            if response.status_code == 401 and auth and not renewed:
                response.close()
                with self._token_lock:
                    self._token = None
                renewed = True
                continue
            if response.status_code in (429, 503) and attempt < self.max_retries:
                wait = _retry_after(response, attempt)
                if wait <= self.max_retry_seconds:
                    response.close()
                    attempt += 1
                    if self.on_retry is not None:
                        self.on_retry(call, wait)
                    time.sleep(wait)
                    continue
            if response.status_code not in expect:
                response.read()
                response.close()
                raise self._error(call, response)
            return response

    def _error(self, call: str, response: httpx.Response) -> ClientError:
        """Graph's JSON error, the token endpoint's OAuth error or Azure Storage's XML error as a ``ClientError``."""
        status, code, message = response.status_code, response.headers.get("x-ms-error-code"), None
        kind = response.headers.get("content-type", "")
        try:
            if "json" in kind:
                data = response.json()
                error = data.get("error") if isinstance(data, dict) else None
                if isinstance(error, dict):
                    code, message = error.get("code") or code, error.get("message")
                elif isinstance(error, str):  # RFC 6749, from the token endpoint
                    code, message = error, data.get("error_description")
            elif "xml" in kind and response.content:
                root = ElementTree.fromstring(response.content)
                code = root.findtext("Code") or code
                message = (root.findtext("Message") or "").split("\n")[0]  # Azure appends RequestId and Time lines
        except (ValueError, ElementTree.ParseError):
            pass
        message = message or response.text[:200] or response.reason_phrase or "no message"
        return ClientError(call, message, status=status, code=code, hint=self._hint(call, status, code))

    def _hint(self, call: str, status: int, code: str | None) -> str:
        if call == "token" and status in (400, 401) and code in ("invalid_client", "unauthorized_client"):
            return f"check the client id and secret of an app of tenant '{self.tenant}': homeroom apps list --tenant {self.tenant}"
        if call == "token" and status == 404:
            return "check --server (Homeroom's base URL, without /beta) and --tenant"
        if status == 403 and code == "Authorization_RequestDenied":
            return "grant the app the permission named (homeroom apps create --permission ...); see docs/automation.md"
        if code == "AuthenticationFailed":
            return "the upload session's URL expired or was altered; get a new session (--reset-session)"
        return ""

    def _json(self, call: str, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise ClientError(call, f"the answer is not JSON ({response.headers.get('content-type', 'no content type')}).",
                              status=response.status_code) from None
        if not isinstance(body, dict):
            raise ClientError(call, "the answer is not a JSON object.", status=response.status_code)
        return body

    def _get(self, call: str, url: str) -> dict[str, Any]:
        return self._json(call, self._request(call, "GET", url))

    # -- connectors and upload sessions ---------------------------------------------------------------------------------

    def list_connectors(self) -> list[dict[str, Any]]:
        """Every data connector of the tenant (all pages)."""
        items: list[dict[str, Any]] = []
        url: str | None = self._graph("dataConnectors")
        while url:
            page = self._get("dataConnectors", url)
            items.extend(page.get("value") or [])
            url = self.local_url(page["@odata.nextLink"]) if page.get("@odata.nextLink") else None
        return items

    def find_connector(self, id_or_display_name: str) -> dict[str, Any]:
        """The ``azureDataLakeConnector`` with this id or ``displayName`` (exact, else ignoring case), as real clients
        find it: by listing the connectors and requiring the ``@odata.type``."""
        wanted = id_or_display_name
        connectors = self.list_connectors()
        uploadable = [c for c in connectors if c.get("@odata.type") == CONNECTOR_TYPE]
        named = [c for c in connectors if c.get("id") == wanted] or [c for c in connectors if c.get("displayName") == wanted] \
            or [c for c in connectors if str(c.get("displayName") or "").casefold() == wanted.casefold()]
        matches = [c for c in named if c.get("@odata.type") == CONNECTOR_TYPE]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            ids = ", ".join(str(c.get("id")) for c in matches)
            raise ClientError("dataConnectors", f"{len(matches)} azureDataLakeConnector connectors are named {wanted!r} ({ids}); "
                              "pass the id instead.")
        if named:
            kind = str(named[0].get("@odata.type", "")).rsplit(".", 1)[-1]
            raise ClientError("dataConnectors", f"dataConnector {wanted!r} is a {kind}; only an azureDataLakeConnector takes "
                              "CSV uploads.")
        known = ", ".join(f"{c.get('displayName')!r} ({c.get('id')})" for c in uploadable) or "none"
        raise ClientError("dataConnectors", f"no azureDataLakeConnector has the id or displayName {wanted!r} in tenant "
                          f"{self.tenant!r}; its azureDataLakeConnector connectors are: {known}.")

    def upload_session(self, connector_id: str, reset: bool = False) -> UploadSession:
        """The connector's upload session (``getUploadSession``); ``reset`` discards it and its files for a new, empty one."""
        path = f"dataConnectors/{quote(connector_id, safe='')}/microsoft.graph.industryData.azureDataLakeConnector/getUploadSession"
        body = self._get("getUploadSession", self._graph(path) + ("?resetSession=true" if reset else ""))
        try:
            return UploadSession(str(body["sessionUrl"]), str(body["containerId"]), str(body["sessionExpirationDateTime"]),
                                 str(body["containerExpirationDateTime"]))
        except KeyError as exc:
            raise ClientError("getUploadSession", f"the fileUploadSession lacks {exc.args[0]}.") from None

    # -- files --------------------------------------------------------------------------------------------------------

    def upload_files(self, session_url: str, paths: Iterable[Path], progress: Progress | None = None, *,
                     block_threshold: int = BLOCK_THRESHOLD, block_size: int = BLOCK_SIZE,
                     parallel: int = PARALLEL_BLOCKS) -> list[UploadedFile]:
        """Put the CSV files of ``paths`` (see ``package_files``) into the session's container, streamed from disk: one
        Put Blob each, or Put Block (``parallel`` at a time) and Put Block List above ``block_threshold`` bytes."""
        if block_size < 1 or block_threshold < 0 or parallel < 1:
            raise ValueError("block_size and parallel must be positive and block_threshold not negative")
        container, _, sas = session_url.partition("?")
        if not sas:
            raise ClientError("upload", "the sessionUrl carries no SAS query; get a new upload session.")
        uploaded = []
        for path in package_files(paths):
            size = path.stat().st_size
            meter = _Meter(path.name, size, progress)
            blob = f"{container.rstrip('/')}/{quote(path.name)}"
            if size > block_threshold:
                blocks = self._put_blocks(blob, sas, path, size, meter, block_size, parallel)
            else:
                self._request(f"Put Blob {path.name}", "PUT", f"{blob}?{sas}", auth=False, expect=(201,),
                              body=meter.body(path, 0, size), headers={
                                  "x-ms-blob-type": "BlockBlob", "x-ms-version": BLOB_VERSION, "Content-Length": str(size),
                                  "Content-Type": "text/csv", "x-ms-blob-content-type": "text/csv"}).close()
                blocks = 0
            uploaded.append(UploadedFile(path.name, path, size, blocks))
        return uploaded

    def _put_blocks(self, blob: str, sas: str, path: Path, size: int, meter: _Meter, block_size: int, parallel: int) -> int:
        count = math.ceil(size / block_size)
        # Azure requires block ids of one length within a blob.
        ids = [base64.b64encode(f"{i:08d}".encode()).decode("ascii") for i in range(count)]

        def put(index: int) -> None:
            offset = index * block_size
            length = min(block_size, size - offset)
            self._request(f"Put Block {path.name}", "PUT", f"{blob}?comp=block&blockid={quote(ids[index], safe='')}&{sas}",
                          auth=False, expect=(201,), body=meter.body(path, offset, length),
                          headers={"x-ms-version": BLOB_VERSION, "Content-Length": str(length)}).close()

        with ThreadPoolExecutor(max_workers=min(parallel, count), thread_name_prefix="homeroom-upload") as pool:
            futures = [pool.submit(put, i) for i in range(count)]
            try:
                for future in as_completed(futures):
                    future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        block_list = '<?xml version="1.0" encoding="utf-8"?><BlockList>' + "".join(f"<Latest>{i}</Latest>" for i in ids) \
            + "</BlockList>"
        self._request(f"Put Block List {path.name}", "PUT", f"{blob}?comp=blocklist&{sas}", auth=False, expect=(201,),
                      body=lambda: block_list.encode("utf-8"),
                      headers={"x-ms-version": BLOB_VERSION, "Content-Type": "application/xml",
                               "x-ms-blob-content-type": "text/csv"}).close()
        return count

    # -- validation, operations and runs ------------------------------------------------------------------------------

    def _accepted(self, call: str, url: str) -> str:
        response = self._request(call, "POST", url, expect=(202,))
        location = response.headers.get("Location")
        if not location:
            raise ClientError(call, "the 202 answer has no Location header.", status=202)
        return self.local_url(location)

    def validate(self, connector_id: str) -> str:
        """Validate the files of the connector's upload session; returns the URL of the ``fileValidateOperation``."""
        return self._accepted("validate", self._graph(f"dataConnectors/{quote(connector_id, safe='')}/validate"))

    def wait(self, operation_url: str, poll_seconds: float = POLL_SECONDS, timeout: float | None = None) -> dict[str, Any]:
        """Poll an operation every ``poll_seconds`` until it is neither ``notStarted`` nor ``running``; returns it.

        A ``succeeded`` validation with ``errors`` refused the files: the verdict is in ``errors``, not in ``status``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        url = self.local_url(operation_url)
        while True:
            operation = self._get("operations", url)
            if operation.get("status") not in PENDING:
                return operation
            if deadline is not None and time.monotonic() + poll_seconds > deadline:
                raise ClientError("operations", f"operation {operation.get('id')} is still {operation.get('status')} after "
                                  f"{timeout:g} seconds; it goes on on the server: poll {url} later.")
            time.sleep(poll_seconds)

    def start_run(self) -> str:
        """Start an on-demand run of the tenant's flows (``runs/start``); returns the URL of its operation."""
        return self._accepted("runs/start", self._graph("runs/start"))

    def wait_run(self, operation_url: str, poll_seconds: float = POLL_SECONDS, timeout: float | None = None) -> dict[str, Any]:
        """Wait for a started run's operation to end; returns the run (``industryDataRun``)."""
        operation = self.wait(operation_url, poll_seconds, timeout)
        location = operation.get("resourceLocation")
        if not location:
            raise ClientError("operations", f"operation {operation.get('id')} ended {operation.get('status')} without naming "
                              f"its run: {operation.get('statusDetail') or 'no detail'}")
        return self._get("runs", self.local_url(str(location)))

    def run(self, run_id: str) -> dict[str, Any]:
        """A run (``industryDataRun``)."""
        return self._get("runs", self._graph(f"runs/{quote(run_id, safe='')}"))

    def statistics(self, run_id: str) -> dict[str, Any]:
        """A run's ``industryDataRunStatistics`` (``inboundTotals`` and one entry per activity)."""
        return self._get("getStatistics", self._graph(f"runs/{quote(run_id, safe='')}/getStatistics"))

    def download_findings(self, run_id: str, path: Path, format: str = "csv") -> int:
        """Stream a run's full findings log (Homeroom extension; ``csv`` or ``jsonl``) to ``path``; returns its size."""
        response = self._request("findings", "GET", self._graph(f"runs/{quote(run_id, safe='')}/findings?format={quote(format)}"),
                                 stream=True)
        written = 0
        try:
            with Path(path).open("wb") as fh:
                for chunk in response.iter_bytes(_STREAM_CHUNK):
                    fh.write(chunk)
                    written += len(chunk)
        except httpx.HTTPError as exc:
            raise ClientError("findings", f"the download broke off after {written} bytes: {exc}") from None
        except OSError as exc:
            raise ClientError("findings", f"cannot write {path}: {exc.strerror or exc}") from None
        finally:
            response.close()
        return written


def _retry_after(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date), else 1, 2, 4, ... seconds."""
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError, IndexError):
        return float(2**attempt)
