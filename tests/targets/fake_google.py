"""A FAKE of Google's Admin SDK Directory API (directory_v1) and its OAuth token endpoint, for tests: a stateful
loopback HTTP server answering exactly the documented subset Homeroom's Google reader calls. It is not Google and
never runs in the product; google-api-python-client reaches it through ``client_options={"api_endpoint": ...}``.

- ``POST /token``: the service-account JWT bearer grant (RFC 7523). The assertion's signature is checked with the
  key of ``service_account_info()``; a subject (``sub``) that is not a delegated admin, or a scope not delegated, is
  400 ``unauthorized_client`` as Google answers it.
- ``GET users?customer=&maxResults=&pageToken=&projection=``: ``{"kind":"admin#directory#users","users":[...],
  "nextPageToken":...}`` (at most 500 a page).
- ``GET groups?customer=&maxResults=&pageToken=``; ``GET groups/{groupKey}/members?maxResults=&pageToken=``
  (members with ``id``, ``email``, ``role`` ``OWNER|MANAGER|MEMBER``, ``type``).
- ``GET customer/{customerId}/orgunits?type=all``: ``{"organizationUnits":[...]}``.
- A missing or unknown token is 401; a customer other than ``my_customer`` or the fake's id is 403 ``forbidden``.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ADMIN = "admin@district.example.edu"
CUSTOMER_ID = "C0fake01"
PREFIX = "/admin/directory/v1/"


class FakeGoogle:
    """The fake's state and server; ``endpoint`` is the Directory API base to configure as ``api_endpoint``."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.client_email = "homeroom@district-project.iam.gserviceaccount.com"
        self.delegated_admins = {ADMIN}
        self.users: list[dict] = []
        self.groups: list[dict] = []
        self.members: dict[str, list[dict]] = {}
        self.orgunits: list[dict] = []
        self.tokens: set[str] = set()
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        port = self.server.server_address[1]
        self.root = f"http://127.0.0.1:{port}"
        self.endpoint = f"{self.root}/"  # the root: the discovery document's paths start with admin/directory/v1/

    def service_account_info(self, key=None) -> dict:
        """A service account key file whose token_uri is the fake's."""
        pem = (key or self.key).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": "district-project", "private_key_id": "k1", "private_key": pem,
                "client_email": self.client_email, "client_id": "1234567890", "token_uri": f"{self.root}/token"}

    def add_user(self, primary_email: str, *, employee_id: str | None = None, given: str = "", family: str = "",
                 suspended: bool = False, org_unit: str = "/") -> str:
        user_id = str(uuid.uuid4().int)[:21]
        user = {"kind": "admin#directory#user", "id": user_id, "primaryEmail": primary_email,
                "name": {"givenName": given, "familyName": family, "fullName": f"{given} {family}".strip()},
                "suspended": suspended, "orgUnitPath": org_unit}
        if employee_id:
            user["externalIds"] = [{"type": "organization", "value": employee_id}]
        self.users.append(user)
        return user_id

    def add_group(self, email: str, name: str, members=(), owners=()) -> str:
        group_id = uuid.uuid4().hex[:15]
        self.groups.append({"kind": "admin#directory#group", "id": group_id, "email": email, "name": name})
        self.members[group_id] = [{"kind": "admin#directory#member", "id": m, "role": "MEMBER", "type": "USER"} for m in members] + [
            {"kind": "admin#directory#member", "id": o, "role": "OWNER", "type": "USER"} for o in owners]
        return group_id

    def add_orgunit(self, path: str) -> str:
        unit_id = f"id:{uuid.uuid4().hex[:8]}"
        self.orgunits.append({"kind": "admin#directory#orgUnit", "orgUnitId": unit_id, "orgUnitPath": path,
                              "name": path.rsplit("/", 1)[-1], "parentOrgUnitPath": path.rsplit("/", 1)[0] or "/"})
        return unit_id

    def start(self) -> "FakeGoogle":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(fake: FakeGoogle):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status: int, body: dict):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, reason: str, message: str):
            self._send(status, {"error": {"code": status, "message": message,
                                          "errors": [{"message": message, "domain": "global", "reason": reason}]}})

        def do_POST(self):
            if urlsplit(self.path).path != "/token":
                return self._error(404, "notFound", "Not Found")
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()).items()}
            try:
                claims = jwt.decode(form.get("assertion", ""), fake.key.public_key(), algorithms=["RS256"],
                                    audience="https://oauth2.googleapis.com/token")  # google-auth always signs for this audience
            except jwt.PyJWTError as exc:
                fake.last_error = repr(exc)
                return self._send(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
            scopes = set(claims.get("scope", "").split())
            if claims.get("iss") != fake.client_email or claims.get("sub") not in fake.delegated_admins or not scopes:
                return self._send(400, {"error": "unauthorized_client", "error_description":
                                        "Client is unauthorized to retrieve access tokens using this method, or client not "
                                        "authorized for any of the scopes requested."})
            token = f"ya29.fake-{uuid.uuid4().hex}"
            fake.tokens.add(token)
            self._send(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

        def do_GET(self):
            parts = urlsplit(self.path)
            fake.requests.append(self.path)
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in fake.tokens:
                return self._error(401, "authError", "Invalid Credentials")
            if not parts.path.startswith(PREFIX):
                return self._error(404, "notFound", "Not Found")
            path = parts.path[len(PREFIX):]
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if path in ("users", "groups") and query.get("customer") not in ("my_customer", CUSTOMER_ID):
                return self._error(403, "forbidden", "Not Authorized to access this resource/api")
            if path == "users":
                return self._page("users", fake.users, query, 500, "admin#directory#users")
            if path == "groups":
                return self._page("groups", fake.groups, query, 200, "admin#directory#groups")
            segments = path.split("/")
            if len(segments) == 3 and segments[0] == "groups" and segments[2] == "members":
                if segments[1] not in fake.members:
                    return self._error(404, "notFound", "Resource Not Found: groupKey")
                return self._page("members", fake.members[segments[1]], query, 200, "admin#directory#members")
            if len(segments) == 3 and segments[0] == "customer" and segments[2] == "orgunits":
                if segments[1] not in ("my_customer", CUSTOMER_ID):
                    return self._error(403, "forbidden", "Not Authorized to access this resource/api")
                return self._send(200, {"kind": "admin#directory#org_units", "organizationUnits": fake.orgunits})
            self._error(404, "notFound", "Not Found")

        def _page(self, key: str, items: list[dict], query: dict, limit: int, kind: str):
            size = min(int(query.get("maxResults", 100)), limit)
            start = int(query.get("pageToken", 0))
            body = {"kind": kind, key: items[start:start + size]}
            if start + size < len(items):
                body["nextPageToken"] = str(start + size)
            self._send(200, body)

    return Handler
