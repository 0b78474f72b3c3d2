"""A FAKE of Microsoft Graph v1.0 for tests: a stateful loopback HTTP server answering exactly the documented subset
Homeroom's Entra reader calls. It is not Microsoft Graph and never runs in the product.

What it implements (shapes as documented on learn.microsoft.com for Graph v1.0):

- ``POST /{tenant}/oauth2/v2.0/token``: client credentials; a wrong client id or secret is 401
  ``invalid_client`` (AADSTS7000215); otherwise ``{"token_type":"Bearer","expires_in":3599,"access_token":...}``.
- ``GET /v1.0/users``, ``/users/delta``, ``/groups``, ``/education/classes``, ``/directory/administrativeUnits``
  with ``$select`` (only those properties and ``id`` are returned) and ``$top`` (page size, at most 999), paged by an
  ``@odata.nextLink`` carrying ``$skiptoken``; ``/users/delta`` ends with ``@odata.deltaLink`` (``$deltatoken``),
  and that link returns the users changed since, removed ones as ``{"id":..., "@removed":{"reason":"changed"}}``.
- ``GET /v1.0/groups/{id}/members|owners``, ``/education/classes/{id}/members|teachers``,
  ``/directory/administrativeUnits/{id}/members``: directory objects (``id`` and ``@odata.type``), paged.
- Writes (for the writer's tests): ``POST /users`` (``userPrincipalName`` unique, else 400), ``/groups``,
  ``/education/classes``, ``/directory/administrativeUnits`` (201 with the object); ``PATCH /{collection}/{id}``
  (204); ``POST /{collection}/{id}/{relation}/$ref`` with ``{"@odata.id": ".../directoryObjects/{id}"}`` (204; an
  unknown object is 400 ``Request_BadRequest``, a member already there 400 "One or more added object references
  already exist"); ``DELETE /{collection}/{id}/{relation}/{memberId}/$ref`` (204, 404 when not a member); list
  GETs take ``$filter=<property> eq '<value>'``.
- A missing or unknown bearer token is 401 ``InvalidAuthenticationToken``; a path the app has no permission for
  (``deny``) is 403 ``Authorization_RequestDenied``; ``throttle(n, retry_after)`` answers the next ``n`` requests with
  429 ``TooManyRequests`` and a ``Retry-After`` header.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

TENANT, CLIENT_ID, CLIENT_SECRET = "contoso.onmicrosoft.com", "11111111-2222-3333-4444-555555555555", "fake-secret"


class FakeGraph:
    """The fake's state and its server; ``base`` is the ``graph_url``, ``authority`` the ``authority_url``."""

    def __init__(self):
        self.users: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.classes: dict[str, dict] = {}
        self.units: dict[str, dict] = {}
        self.links: dict[tuple[str, str, str], list[str]] = {}  # (collection, id, relation) -> member ids
        self.changed: dict[str, int] = {}  # user id -> change sequence (for delta)
        self.removed: dict[str, int] = {}
        self.sequence = 0
        self.tokens: set[str] = set()
        self.deny: set[str] = set()  # path prefixes the app may not read
        self.requests: list[str] = []
        self._throttle = (0, 0)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        port = self.server.server_address[1]
        self.base, self.authority = f"http://127.0.0.1:{port}/v1.0", f"http://127.0.0.1:{port}"

    # --- state --------------------------------------------------------------------------------------------
    def add_user(self, **properties) -> str:
        user_id = properties.pop("id", None) or str(uuid.uuid4())
        with self.lock:
            self.users[user_id] = {"id": user_id, "accountEnabled": True, **properties}
            self._touch(user_id)
        return user_id

    def update_user(self, user_id: str, **properties) -> None:
        with self.lock:
            self.users[user_id].update(properties)
            self._touch(user_id)

    def delete_user(self, user_id: str) -> None:
        with self.lock:
            del self.users[user_id]
            self.sequence += 1
            self.removed[user_id] = self.sequence
            self.changed.pop(user_id, None)

    def _touch(self, user_id: str) -> None:
        self.sequence += 1
        self.changed[user_id] = self.sequence
        self.removed.pop(user_id, None)

    def add_group(self, collection: str, members=(), owners=(), **properties) -> str:
        """A group (``groups``), class (``classes``) or unit (``units``); classes are groups too, as in Entra."""
        group_id = str(uuid.uuid4())
        row = {"id": group_id, **properties}
        getattr(self, collection)[group_id] = row
        if collection == "classes":
            self.groups[group_id] = {"id": group_id, "displayName": properties.get("displayName"),
                                     "mailNickname": properties.get("mailNickname"), "groupTypes": ["Unified"],
                                     "mailEnabled": True, "securityEnabled": False}
        member_relation, owner_relation = ("members", "teachers") if collection == "classes" else ("members", "owners")
        self.links[(collection, group_id, member_relation)] = list(members)
        self.links[(collection, group_id, owner_relation)] = list(owners)
        if collection == "classes":
            self.links[("groups", group_id, "members")] = list(members)
            self.links[("groups", group_id, "owners")] = list(owners)
        return group_id

    def throttle(self, requests: int, retry_after: int = 1) -> None:
        """Answer the next ``requests`` Graph requests with 429 and ``Retry-After: retry_after``."""
        self._throttle = (requests, retry_after)

    def start(self) -> "FakeGraph":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


COLLECTIONS = {"users": "users", "groups": "groups", "education/classes": "classes", "directory/administrativeUnits": "units"}
RELATIONS = {"groups": ("members", "owners"), "classes": ("members", "teachers"), "units": ("members",)}


def _handler(fake: FakeGraph):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, body: dict, headers: dict | None = None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, code: str, message: str, headers: dict | None = None):
            self._send(status, {"error": {"code": code, "message": message}}, headers)

        def do_POST(self):
            path = urlsplit(self.path).path
            if path.startswith("/v1.0/"):
                return self._write("POST", path.removeprefix("/v1.0/"))
            if not path.endswith("/oauth2/v2.0/token"):
                return self._error(404, "NotFound", "no such endpoint in the fake")
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
            value = {k: v[0] for k, v in form.items()}
            if path.split("/")[1] != TENANT:
                return self._send(400, {"error": "invalid_request", "error_description": f"AADSTS90002: Tenant '{path.split('/')[1]}' not found."})
            if value.get("client_id") != CLIENT_ID or value.get("client_secret") != CLIENT_SECRET:
                return self._send(401, {"error": "invalid_client", "error_description":
                                        "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: fake"})
            token = str(uuid.uuid4())
            fake.tokens.add(token)
            self._send(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token})

        def do_GET(self):
            parts = urlsplit(self.path)
            fake.requests.append(self.path)
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in fake.tokens:
                return self._error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
            remaining, retry_after = fake._throttle
            if remaining:
                fake._throttle = (remaining - 1, retry_after)
                return self._error(429, "TooManyRequests", "Too many requests.", {"Retry-After": str(retry_after)})
            path = parts.path.removeprefix("/v1.0/")
            if any(path.startswith(p.strip("/")) for p in fake.deny):
                return self._error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if path == "users/delta":
                return self._delta(query)
            for prefix, collection in COLLECTIONS.items():
                if path == prefix:
                    return self._page(prefix, list(getattr(fake, collection).values()), query)
                if path.startswith(prefix + "/"):
                    rest = path[len(prefix) + 1:].split("/")
                    if len(rest) == 2 and rest[1] in RELATIONS.get(collection, ()):
                        if rest[0] not in getattr(fake, collection):
                            return self._error(404, "Request_ResourceNotFound", f"Resource '{rest[0]}' does not exist.")
                        ids = fake.links.get((collection, rest[0], rest[1]), [])
                        objects = [{"@odata.type": "#microsoft.graph.user", "id": i} for i in ids]
                        return self._page(path, objects, query)
            self._error(400, "BadRequest", f"Resource not found for the segment '{path}'.")

        def do_PATCH(self):
            self._write("PATCH", urlsplit(self.path).path.removeprefix("/v1.0/"))

        def do_DELETE(self):
            self._write("DELETE", urlsplit(self.path).path.removeprefix("/v1.0/"))

        def _write(self, method: str, path: str):
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in fake.tokens:
                return self._error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
            fake.requests.append(f"{method} /v1.0/{path}")
            remaining, retry_after = fake._throttle
            if remaining:
                fake._throttle = (remaining - 1, retry_after)
                return self._error(429, "TooManyRequests", "Too many requests.", {"Retry-After": str(retry_after)})
            length = int(self.headers.get("Content-Length", 0) or 0)
            body = json.loads(self.rfile.read(length)) if length else {}
            prefix = next((p for p in sorted(COLLECTIONS, key=len, reverse=True) if path == p or path.startswith(p + "/")), None)
            if prefix is None:
                return self._error(400, "BadRequest", f"Resource not found for the segment '{path}'.")
            collection, rest = COLLECTIONS[prefix], [p for p in path[len(prefix):].split("/") if p]
            store = getattr(fake, collection)
            with fake.lock:
                if method == "POST" and not rest:
                    if collection == "users":
                        if any(u.get("userPrincipalName", "").lower() == body.get("userPrincipalName", "").lower() for u in store.values()):
                            return self._error(400, "Request_BadRequest", "Another object with the same value for property userPrincipalName already exists.")
                        body.pop("passwordProfile", None)  # kept nowhere, as Graph never returns it
                        user_id = str(uuid.uuid4())
                        store[user_id] = {"id": user_id, **body}
                        fake._touch(user_id)
                        return self._send(201, store[user_id])
                    new_id = fake.add_group(collection, **body)
                    return self._send(201, store[new_id])
                if not rest or rest[0] not in store:
                    return self._error(404, "Request_ResourceNotFound", f"Resource '{rest[0] if rest else ''}' does not exist.")
                if method == "PATCH" and len(rest) == 1:
                    store[rest[0]].update(body)
                    if collection == "users":
                        fake._touch(rest[0])
                    return self._send_empty()
                if len(rest) >= 3 and rest[-1] == "$ref" and rest[1] in RELATIONS.get(collection, ()):
                    members = fake.links.setdefault((collection, rest[0], rest[1]), [])
                    if method == "POST" and len(rest) == 3:
                        member = body.get("@odata.id", "").rsplit("/", 1)[-1]
                        if member not in fake.users and member not in fake.groups:
                            return self._error(400, "Request_BadRequest", f"Resource '{member}' does not exist or one of its queried reference-property objects are not present.")
                        if member in members:
                            return self._error(400, "Request_BadRequest", "One or more added object references already exist for the following modified properties: 'members'.")
                        members.append(member)
                        return self._send_empty()
                    if method == "DELETE" and len(rest) == 4:
                        if rest[2] not in members:
                            return self._error(404, "Request_ResourceNotFound", f"Resource '{rest[2]}' does not exist.")
                        members.remove(rest[2])
                        return self._send_empty()
            self._error(405, "Request_BadRequest", f"{method} is not supported on '{path}' by the fake.")

        def _send_empty(self):
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _select(self, item: dict, query: dict) -> dict:
            if "$select" not in query:
                return item
            keep = set(query["$select"].split(",")) | {"id", "@odata.type"}
            return {k: v for k, v in item.items() if k in keep or k.startswith("@")}

        def _page(self, path: str, items: list[dict], query: dict, extra: dict | None = None):
            if "$filter" in query:
                field, _, value = query["$filter"].partition(" eq ")
                wanted = value.strip()[1:-1].replace("''", "'")
                items = [i for i in items if i.get(field.strip()) == wanted]
            top = min(int(query.get("$top", 100)), 999)
            skip = int(query.get("$skiptoken", 0))
            body = {"@odata.context": f"{fake.base}/$metadata#{path}",
                    "value": [self._select(i, query) for i in items[skip:skip + top]]}
            if skip + top < len(items):
                body["@odata.nextLink"] = f"{fake.base}/{path}?" + urlencode({**query, "$skiptoken": skip + top})
            elif extra:
                body.update(extra)
            self._send(200, body)

        def _delta(self, query: dict):
            since = int(query.get("$deltatoken", -1))
            with fake.lock:
                if since < 0:
                    items = list(fake.users.values())
                else:
                    items = [fake.users[i] for i, s in fake.changed.items() if s > since]
                    items += [{"id": i, "@removed": {"reason": "changed"}} for i, s in fake.removed.items() if s > since]
                link = f"{fake.base}/users/delta?" + urlencode({"$select": query.get("$select", ""), "$deltatoken": fake.sequence})
            self._page("users/delta", items, query, {"@odata.deltaLink": link})

    return Handler
