"""A OneRoster 1.1 / 1.2 REST *source* for tests: a real HTTP server (Starlette on uvicorn, loopback, a free port).

Test support, not product code. It follows the rostering contract closely enough to test Homeroom's connector
against it, and it can misbehave on purpose:

- collections ``orgs``, ``academicSessions``, ``courses``, ``classes``, ``users``, ``enrollments``, ``demographics``
  under the version's root (``/ims/oneroster/v1p1`` or ``/ims/oneroster/rostering/v1p2``); records are held as
  JSON text with their ``status`` and ``dateLastModified``, loaded from a OneRoster CSV package (``from_package``,
  vectorised, also for a 1.1M-student district) or given as dicts (``put``), and changed between pulls
  (``put``/``delete``: a tombstone with ``status: tobedeleted``, as OneRoster deltas send);
- ``limit`` (default 100, capped at ``max_limit``) / ``offset`` with ``X-Total-Count``; ``filter`` with one or two
  predicates (``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=`` on ``status``, ``dateLastModified``, ``sourcedId``, joined by
  `` AND ``/`` OR ``); anything else is a 400 with the ``imsx`` payload (``invalid_filter_field``);
- OAuth 1.0a: every request's signature verified by ``oauthlib.oauth1.SignatureOnlyEndpoint`` (HMAC-SHA256 and/or
  HMAC-SHA1, nonces not reusable); OAuth 2: ``POST /token`` (client credentials, HTTP Basic or form body), scopes
  checked, tokens that expire (``token_lifetime``) or are revoked (``expire_tokens``); no or bad auth: 401;
- faults (``Fault``), each for a collection and offset or for any request, a number of times: ``short`` pages,
  ``empty`` pages, a ``wrong_total``, a ``status`` (429 with ``Retry-After``, 500, 503), ``slow`` answers (longer
  than the client's timeout), ``expire_token`` (the token dies just before the request), ``not_json``, and
  ``shifted`` pages (starting ``value`` records early, as when a record was deleted and another added meanwhile).

Every request is logged (``requests``) so that tests can say what the connector asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import re
import secrets
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

import orjson
import polars as pl
import uvicorn
from oauthlib import oauth1
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROOTS = {"1.1": "/ims/oneroster/v1p1", "1.2": "/ims/oneroster/rostering/v1p2"}
COLLECTIONS = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")
SCOPE_PREFIX = {"1.1": "https://purl.imsglobal.org/spec/or/v1p1/scope/", "1.2": "https://purl.imsglobal.org/spec/or/v1p2/scope/"}
#: The dateLastModified given to records of a bulk CSV package (whose own is blank).
LOADED_AT = "2026-01-05T08:00:00.000Z"
_PREDICATE = re.compile(r"^\s*(\w+)\s*(!=|>=|<=|=|>|<|~)\s*'([^']*)'\s*$")
_FILTER_FIELDS = ("status", "dateLastModified", "sourcedId")


@dataclass
class Fault:
    """A way to misbehave: ``kind`` on requests of ``collection`` (None: any) at ``offset`` (None: any), ``times`` times
    (None: always). ``value``: how many records a short page lacks, how far the total is off, the HTTP status, the
    seconds a slow answer takes; ``retry_after``: the Retry-After of a 429/503."""

    kind: str  # short | empty | shifted | wrong_total | status | slow | expire_token | not_json
    collection: str | None = None
    offset: int | None = None
    times: int | None = 1
    value: float = 1
    retry_after: str | None = None
    hits: int = 0

    def matches(self, collection: str, offset: int) -> bool:
        return ((self.collection is None or self.collection == collection) and (self.offset is None or self.offset == offset)
                and (self.times is None or self.hits < self.times))


@dataclass
class Logged:
    method: str
    path: str
    params: dict[str, str]
    auth: str  # "oauth1" | "bearer" | "none" | "basic"
    status: int = 0


class _Validator(oauth1.RequestValidator):
    """Two-legged OAuth 1.0a: one consumer key and secret, any nonce once."""

    enforce_ssl = False
    dummy_client = "dummy-client-key"

    def __init__(self, source: "OneRosterSource"):
        super().__init__()
        self.source = source
        self.seen: set[tuple[str, str, str]] = set()
        self.lock = threading.Lock()

    @property
    def allowed_signature_methods(self):  # type: ignore[override]
        return self.source.signature_methods

    client_key_length = (1, 200)  # oauthlib's default (20, 30) refuses short test keys silently
    nonce_length = (8, 100)

    def check_client_key(self, client_key: str) -> bool:
        return bool(client_key)

    def validate_client_key(self, client_key: str, request) -> bool:
        return client_key == self.source.client_id

    def get_client_secret(self, client_key: str, request) -> str:
        return self.source.client_secret if client_key == self.source.client_id else "dummy-secret"

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request, request_token=None, access_token=None) -> bool:
        if abs(time.time() - int(timestamp)) > 600:
            return False
        with self.lock:
            if (client_key, timestamp, nonce) in self.seen:
                return False  # a replayed request
            self.seen.add((client_key, timestamp, nonce))
        return True


class OneRosterSource:
    """The server's state: records per collection, credentials, tokens, faults and the request log."""

    def __init__(self, version: str = "1.1", *, client_id: str = "sis-client", client_secret: str = "sis-secret",
                 max_limit: int = 5000, token_lifetime: float = 3600.0, scopes: tuple[str, ...] | None = None,
                 signature_methods: tuple[str, ...] = ("HMAC-SHA256", "HMAC-SHA1"), total_header: bool = True):
        self.version, self.root = version, ROOTS[version]
        self.client_id, self.client_secret = client_id, client_secret
        self.max_limit, self.token_lifetime, self.total_header = max_limit, token_lifetime, total_header
        #: Scopes a token request must ask for (all of them); None: any, also none.
        self.scopes = scopes
        self.signature_methods = signature_methods
        self.tables: dict[str, pl.DataFrame] = {c: _empty() for c in COLLECTIONS}
        self.tokens: dict[str, float] = {}  # token -> expiry (time.monotonic)
        self.faults: list[Fault] = []
        self.requests: list[Logged] = []
        self.lock = threading.Lock()
        self._views: dict[tuple[str, str], pl.Series] = {}
        self._endpoint = oauth1.SignatureOnlyEndpoint(_Validator(self))

    # --- data ------------------------------------------------------------------------------------------------------
    def put(self, collection: str, *records: dict) -> None:
        """Add or replace records (JSON objects with at least ``sourcedId``; status active and a dateLastModified of
        now unless given)."""
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        rows = [{**r, "status": r.get("status", "active"), "dateLastModified": r.get("dateLastModified", now)} for r in records]
        frame = pl.DataFrame({"sourcedId": [r["sourcedId"] for r in rows], "status": [r["status"] for r in rows],
                              "modified": [r["dateLastModified"] for r in rows],
                              "json": [orjson.dumps(r).decode() for r in rows]}, schema=_SCHEMA)
        with self.lock:
            kept = self.tables[collection].filter(~pl.col("sourcedId").is_in(frame["sourcedId"].implode()))
            self.tables[collection] = pl.concat([kept, frame]).sort("sourcedId")
            self._views.clear()

    def delete(self, collection: str, sourced_id: str, when: str | None = None) -> None:
        """Turn a record into a tombstone (``status: tobedeleted``, dateLastModified now), as a SIS deletes."""
        record = orjson.loads(self.tables[collection].filter(pl.col("sourcedId") == sourced_id)["json"][0])
        when = when or time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        self.put(collection, {**record, "status": "tobedeleted", "dateLastModified": when})

    def records(self, collection: str) -> list[dict]:
        return [orjson.loads(j) for j in self.tables[collection]["json"]]

    def load(self, tables: dict[str, pl.DataFrame]) -> None:
        with self.lock:  # kept in sourcedId order, so that a view of every record is the table itself, not a copy
            self.tables.update({name: table.sort("sourcedId") for name, table in tables.items()})
            self._views.clear()

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    # --- answering -------------------------------------------------------------------------------------------------
    def _fault(self, kind: str, collection: str, offset: int) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.kind == kind and fault.matches(collection, offset):
                    fault.hits += 1
                    return fault
        return None

    def _view(self, collection: str, expression: str) -> pl.Series:
        key = (collection, expression)
        with self.lock:
            if key not in self._views:
                table = self.tables[collection]
                if expression:
                    keep = table.select(_filter(expression).fill_null(False).alias("keep")).to_series()
                    table = table if keep.all() else table.filter(keep)
                self._views[key] = table.sort("sourcedId")["json"]  # sorted already: no copy
            return self._views[key]

    def _authorized(self, request: Request, logged: Logged) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("OAuth "):
            logged.auth = "oauth1"
            valid, _ = self._endpoint.validate_request(str(request.url), http_method=request.method, body=None,
                                                       headers={"Authorization": header})
            return valid
        if header.startswith("Bearer "):
            logged.auth = "bearer"
            with self.lock:
                expiry = self.tokens.get(header.removeprefix("Bearer "))
            return expiry is not None and time.monotonic() < expiry
        return False

    async def collection(self, request: Request) -> Response:
        name = request.path_params["collection"]
        params = dict(request.query_params)
        logged = Logged("GET", request.url.path, params, "none")
        self.requests.append(logged)
        if name not in COLLECTIONS:
            return _imsx(logged, 404, "unknownobject", f"There is no collection {name!r}.")
        try:
            limit, offset = int(params.get("limit", 100)), int(params.get("offset", 0))
        except ValueError:
            return _imsx(logged, 400, "invaliddata", "limit and offset are whole numbers.")
        if (fault := self._fault("expire_token", name, offset)) is not None:
            self.expire_tokens()
        if not self._authorized(request, logged):
            return _imsx(logged, 401, "unauthorisedrequest", "Unauthorized")
        if (fault := self._fault("slow", name, offset)) is not None:
            await asyncio.sleep(fault.value)  # longer than the client waits: it times out
        if (fault := self._fault("status", name, offset)) is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return _imsx(logged, int(fault.value), "server_busy" if fault.value == 429 else "internal_server_error",
                         "Injected failure.", headers)
        try:
            view = self._view(name, params.get("filter", ""))
        except ValueError as exc:
            return _imsx(logged, 400, "invalid_filter_field", str(exc))
        shift = int(fault.value) if (fault := self._fault("shifted", name, offset)) is not None else 0
        page = view.slice(max(0, offset - shift), max(1, min(limit, self.max_limit)))
        total = view.len()
        if (fault := self._fault("short", name, offset)) is not None:
            page = page.head(max(0, page.len() - int(fault.value)))
        if self._fault("empty", name, offset) is not None:
            page = page.head(0)
        if (fault := self._fault("wrong_total", name, offset)) is not None:
            total += int(fault.value)
        headers = {"X-Total-Count": str(total)} if self.total_header else {}
        logged.status = 200
        if self._fault("not_json", name, offset) is not None:
            return Response(b"<html><body>Gateway error</body></html>", 200, headers, media_type="text/html")
        # The records' JSON joined as bytes: no round trip through a Python str (decoding and encoding a page of
        # non-ASCII names cost ten times the join).
        records = page.str.join(",").cast(pl.Binary).item() if page.len() else b""
        return Response(b'{"%s":[%s]}' % (name.encode(), records), 200, headers, media_type="application/json")

    async def token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        logged = Logged("POST", request.url.path, {k: v for k, v in form.items() if k != "client_secret"}, "none")
        self.requests.append(logged)
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            logged.auth = "basic"
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(logged, 400, "unsupported_grant_type")
        if (client_id, secret) != (self.client_id, self.client_secret):
            return _oauth_error(logged, 401, "invalid_client", "Client authentication failed.")
        asked = set(form.get("scope", "").split())
        if self.scopes is not None and not set(self.scopes) <= asked:
            return _oauth_error(logged, 400, "invalid_scope", f"Ask for {' '.join(self.scopes)}.")
        token = secrets.token_urlsafe(16)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_lifetime
        logged.status = 200
        return Response(orjson.dumps({"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime}),
                        200, media_type="application/json")

    def app(self) -> Starlette:
        return Starlette(routes=[Route(f"{self.root}/{{collection}}", self.collection, methods=["GET"]),
                                 Route("/token", self.token, methods=["POST"])])


_SCHEMA = {"sourcedId": pl.String, "status": pl.String, "modified": pl.String, "json": pl.String}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=_SCHEMA)


def _filter(expression: str) -> pl.Expr:
    """One or two predicates joined by AND or OR (1.1 rules), over status, dateLastModified and sourcedId."""
    for joiner in (" AND ", " OR "):
        if joiner in expression:
            left, right = expression.split(joiner, 1)
            a, b = _filter(left), _filter(right)
            return (a & b) if joiner == " AND " else (a | b)
    match = _PREDICATE.match(expression)
    if match is None or match.group(1) not in _FILTER_FIELDS:
        raise ValueError(f"Cannot filter on {expression!r}: use {', '.join(_FILTER_FIELDS)} with =, !=, >, >=, <, <=.")
    name, op, value = match.groups()
    column = pl.col({"dateLastModified": "modified"}.get(name, name))
    if name == "dateLastModified":  # compare instants, whatever the precision either side wrote
        column = column.str.to_datetime("%+", time_zone="UTC", strict=False)
        value = pl.lit(value).str.to_datetime("%+", time_zone="UTC", strict=False)
    ops = {"=": column.__eq__, "!=": column.__ne__, ">": column.__gt__, ">=": column.__ge__, "<": column.__lt__,
           "<=": column.__le__, "~": lambda v: column.str.contains(v, literal=True)}
    return ops[op](value)


def _imsx(logged: Logged, status: int, minor: str, description: str, headers: dict | None = None) -> Response:
    logged.status = status
    body = {"imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": description,
            "imsx_CodeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem",
                                                        "imsx_codeMinorFieldValue": minor}]}}
    return Response(orjson.dumps(body), status, headers or {}, media_type="application/json")


def _oauth_error(logged: Logged, status: int, error: str, description: str | None = None) -> Response:
    logged.status = status
    body = {"error": error, **({"error_description": description} if description else {})}
    return Response(orjson.dumps(body), status, media_type="application/json")


# --- a OneRoster CSV package as JSON records (vectorised) --------------------------------------------------------------
def _ref(id_column: str, kind: str, path: str, root: str) -> pl.Expr:
    column = pl.col(id_column)
    return pl.when(column.is_not_null()).then(pl.struct(
        pl.concat_str(pl.lit(f"{root}/{path}/"), column).alias("href"), column.alias("sourcedId"), pl.lit(kind).alias("type")))


def _refs(id_column: str, kind: str, path: str, root: str) -> pl.Expr:
    items = pl.col(id_column).str.split(",").list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != ""))
    return items.list.eval(pl.struct(pl.concat_str(pl.lit(f"{root}/{path}/"), pl.element()).alias("href"),
                                     pl.element().alias("sourcedId"), pl.lit(kind).alias("type")))


def _list(column: str) -> pl.Expr:
    return pl.col(column).str.split(",").list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != "")).fill_null([])


def _boolean(column: str, as_text: bool) -> pl.Expr:
    value = pl.col(column).str.to_lowercase() == "true"
    return value.cast(pl.String) if as_text else value


def _records(frame: pl.DataFrame, fields: list[pl.Expr]) -> pl.DataFrame:
    status = pl.col("status").fill_null("active") if "status" in frame.columns else pl.lit("active")
    modified = pl.col("dateLastModified").fill_null(LOADED_AT) if "dateLastModified" in frame.columns else pl.lit(LOADED_AT)
    frame = frame.with_columns(status.alias("status"), modified.alias("dateLastModified"))
    record = pl.struct(pl.col("sourcedId"), pl.col("status"), pl.col("dateLastModified"), *fields)
    return frame.select("sourcedId", "status", pl.col("dateLastModified").alias("modified"), record.struct.json_encode().alias("json"))


def from_package(package: Path, version: str) -> dict[str, pl.DataFrame]:
    """The records of a OneRoster CSV package (as ``homeroom generate`` writes them) as this server's JSON tables."""
    root = ROOTS[version]
    read = lambda name: pl.read_csv(package / name, infer_schema=False)  # noqa: E731 - every column as text
    v12 = version == "1.2"
    s = lambda *names: [pl.col(n) for n in names]  # noqa: E731
    out = {}
    orgs = read("orgs.csv")
    out["orgs"] = _records(orgs, [*s("name", "type", "identifier"), _ref("parentSourcedId", "org", "orgs", root).alias("parent")])
    sessions = read("academicSessions.csv")
    out["academicSessions"] = _records(sessions, [*s("title", "type", "startDate", "endDate"),
                                                  _ref("parentSourcedId", "academicSession", "academicSessions", root).alias("parent"),
                                                  *s("schoolYear")])
    courses = read("courses.csv")
    out["courses"] = _records(courses, [_ref("schoolYearSourcedId", "academicSession", "academicSessions", root).alias("schoolYear"),
                                        *s("title", "courseCode"), _list("grades").alias("grades"),
                                        _ref("orgSourcedId", "org", "orgs", root).alias("org"), _list("subjects").alias("subjects"),
                                        _list("subjectCodes").alias("subjectCodes")])
    classes = read("classes.csv")
    out["classes"] = _records(classes, [*s("title"), _list("grades").alias("grades"),
                                        _ref("courseSourcedId", "course", "courses", root).alias("course"),
                                        *s("classCode", "classType", "location"), _ref("schoolSourcedId", "org", "orgs", root).alias("school"),
                                        _refs("termSourcedIds", "academicSession", "academicSessions", root).alias("terms"),
                                        _list("subjects").alias("subjects"), _list("subjectCodes").alias("subjectCodes"),
                                        _list("periods").alias("periods")])
    users = read("users.csv")
    user_ids = (pl.col("userIds").str.extract_all(r"\{[^{}]*\}").list.eval(pl.struct(
        pl.element().str.extract(r"^\{\s*([^:]*?)\s*:", 1).alias("type"), pl.element().str.extract(r":\s*(.*?)\s*\}$", 1).alias("identifier")))
        .fill_null([]))
    common = [pl.col("username"), user_ids.alias("userIds"), _boolean("enabledUser", v12).alias("enabledUser"),
              *s("givenName", "familyName", "middleName", "identifier", "email", "sms", "phone"),
              _refs("agentSourcedIds", "user", "users", root).alias("agents"), _list("grades").alias("grades"), pl.col("password")]
    if v12:
        roles = read("roles.csv").select(
            "userSourcedId", pl.struct(pl.col("roleType"), pl.col("role"), _ref("orgSourcedId", "org", "orgs", root).alias("org"),
                                       pl.col("beginDate"), pl.col("endDate")).alias("role"))
        roles = roles.group_by("userSourcedId", maintain_order=True).agg(pl.col("role").alias("roles"))
        users = users.join(roles, left_on="sourcedId", right_on="userSourcedId", how="left", maintain_order="left")
        fields = [*common, pl.col("userMasterIdentifier"), pl.col("preferredGivenName").alias("preferredFirstName"),
                  pl.col("preferredMiddleName"), pl.col("preferredFamilyName").alias("preferredLastName"),
                  pl.col("pronouns"), _ref("primaryOrgSourcedId", "org", "orgs", root).alias("primaryOrg"), pl.col("roles")]
    else:
        fields = [*common, pl.col("role"), _refs("orgSourcedIds", "org", "orgs", root).alias("orgs")]
    out["users"] = _records(users, fields)
    enrollments = read("enrollments.csv")
    out["enrollments"] = _records(enrollments, [
        _ref("userSourcedId", "user", "users", root).alias("user"), _ref("classSourcedId", "class", "classes", root).alias("class"),
        _ref("schoolSourcedId", "org", "orgs", root).alias("school"), pl.col("role"),
        pl.when(pl.col("primary").is_not_null()).then(_boolean("primary", v12)).alias("primary"), *s("beginDate", "endDate")])
    if (package / "demographics.csv").exists():
        demographics = read("demographics.csv")
        out["demographics"] = _records(demographics, [pl.col(c) for c in demographics.columns
                                                      if c not in ("sourcedId", "status", "dateLastModified")])
    return out


# --- running it -----------------------------------------------------------------------------------------------------
@contextmanager
def serve(source: OneRosterSource) -> Iterator[str]:
    """Serve ``source`` on 127.0.0.1:<free port> in a thread; yields the server's address (``http://127.0.0.1:N``)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(source.app(), log_level="error", access_log=False, lifespan="off", timeout_keep_alive=30)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def main() -> None:
    """``python source_server.py --package DIR --version 1.2``: serve a package until stdin closes (for bench/)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, required=True)
    parser.add_argument("--version", choices=sorted(ROOTS), default="1.2")
    args = parser.parse_args()
    source = OneRosterSource(args.version)
    source.load(from_package(args.package, args.version))
    with serve(source) as address:
        print(address, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
