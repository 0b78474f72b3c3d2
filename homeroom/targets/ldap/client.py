"""One connection to an LDAP directory through ldap3: open and bind, check, paged search; failures as Homeroom errors.

Shared by the generic LDAP and the Active Directory targets (AD is an LDAP directory with its own attributes).
Every failure becomes a :class:`~homeroom.errors.TransientError` (the host is unreachable, the connection
dropped, the server is busy: worth retrying) or a :class:`~homeroom.errors.PermanentError` (a refused password, a
certificate not trusted, a base DN the account may not read), whose message names the target and what to fix
and never holds the password.
"""

from __future__ import annotations

import math
import re
import ssl
from collections.abc import Iterator, Sequence
from typing import Any

import ldap3
from ldap3.core import exceptions as ldap_errors

from homeroom.errors import ExternalError, PermanentError, TransientError
from homeroom.targets.base import DEFAULT_PAGE_SIZE
from homeroom.targets.ldap.config import ConnectionSettings

PAGED_RESULTS = "1.2.840.113556.1.4.319"

# Result codes worth retrying (RFC 4511 §4.1.9): busy, unavailable, unwilling is not among them.
_TRANSIENT_RESULTS = {3, 11, 51, 52, 80}  # timeLimitExceeded, adminLimitExceeded, busy, unavailable, other
_STRONG_AUTH_REQUIRED, _INVALID_CREDENTIALS, _NO_SUCH_OBJECT, _INSUFFICIENT_ACCESS = 8, 49, 32, 50


class LdapClient:
    """A connection to one directory, opened on first use with the service account ``user`` and ``password``.

    ``target`` is the target's name and ``kind`` its title (``Active Directory``), for messages."""

    def __init__(self, target: str, kind: str, settings: ConnectionSettings, user: str, password: str):
        self.target, self.kind, self.settings, self.user = target, kind, settings, user
        self._password = password
        self._connection: ldap3.Connection | None = None
        self.paged_results = True  # whether the server supports the paged results control (from its root DSE)

    # ----------------------------------------------------------------------------------------- connecting

    @property
    def where(self) -> str:
        return f"{self.kind} target {self.target!r} ({self.settings.url})"

    def connection(self) -> ldap3.Connection:
        """The bound connection (opened and bound on first use)."""
        if self._connection is None or self._connection.closed:
            self._connection = self._open()
        return self._connection

    def _server(self) -> ldap3.Server:
        s = self.settings
        tls = None
        if s.security != "plain":
            tls = ldap3.Tls(validate=ssl.CERT_REQUIRED if s.verify_certificate else ssl.CERT_NONE,
                            ca_certs_file=s.ca_file or None,
                            valid_names=[s.tls_server_name] if s.tls_server_name else None)
        return ldap3.Server(s.host, port=s.effective_port, use_ssl=s.security == "ldaps", tls=tls,
                            get_info=ldap3.DSA, connect_timeout=s.timeout_seconds)

    def _open(self) -> ldap3.Connection:
        s = self.settings
        if not self._password:
            raise PermanentError(f"{self.where} has no password secret for {self.user!r}; set the target's "
                                 "`password` secret.", system=self.target)
        # Whole seconds: on Linux ldap3 packs the receive timeout into SO_RCVTIMEO with struct 'LL', which refuses a
        # float, and a stored target's timeout comes back from JSON as one (15.0).
        connection = ldap3.Connection(self._server(), self.user, self._password,
                                      receive_timeout=math.ceil(s.timeout_seconds),
                                      raise_exceptions=False, read_only=False, auto_referrals=False)
        try:
            if not connection.open(read_server_info=False) and connection.closed:
                raise self._unreachable(connection.last_error)
            if s.security == "starttls" and not connection.start_tls(read_server_info=False):
                raise PermanentError(f"{self.where} refused StartTLS ({_describe(connection.result)}); use "
                                     "`security: ldaps` or enable TLS on the server.", system=self.target)
            if not connection.bind(read_server_info=False):
                raise self._bind_refused(connection.result)
            connection.refresh_server_info()
        except ldap_errors.LDAPException as exc:
            connection.unbind()
            raise self._from_exception(exc) from None
        except ExternalError:
            connection.unbind()
            raise
        controls = (connection.server.info.supported_controls if connection.server.info else None) or []
        self.paged_results = any(c[0] == PAGED_RESULTS for c in controls) if controls else True
        return connection

    def check(self) -> None:
        """Bind, then read the base DN: each failure an ExternalError saying what to fix."""
        connection = self.connection()
        base = self.settings.base_dn
        # An entry the account may see but not read comes back without attributes (AD), or not at all (OpenLDAP).
        self._call(connection.search, base, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["objectClass"])
        if any(e.get("type") == "searchResEntry" and e["raw_attributes"].get("objectClass")
               for e in connection.response or ()):
            return
        result = connection.result or {}
        code = result.get("result")
        if code in (_NO_SUCH_OBJECT, _INSUFFICIENT_ACCESS, 0, None):
            raise PermanentError(
                f"{self.where}: {self.user!r} cannot read the base DN {base!r} ({_describe(result) if code else 'no entry'}); "
                "check `base_dn`, or grant the service account read access to it.", system=self.target)
        raise self._result_error(result, f"reading the base DN {base!r}")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.unbind()
            self._connection = None

    # ----------------------------------------------------------------------------------------- searching

    def pages(self, base: str, search_filter: str, attributes: Sequence[str], page_size: int,
              controls: Sequence[Any] | None = None, scope: str = ldap3.SUBTREE) -> Iterator[list[dict[str, Any]]]:
        """The entries matching ``search_filter`` under ``base``, a page of at most ``page_size`` at a time, each
        ldap3's response dict (``dn``, ``raw_attributes``); paged on the server when it supports the control."""
        connection = self.connection()
        if not self.paged_results:
            yield from self._unpaged(connection, base, search_filter, attributes, page_size, controls, scope)
            return
        cookie: bytes | None = None
        while True:
            self._call(connection.search, base, search_filter, search_scope=scope, attributes=list(attributes),
                       controls=list(controls) if controls else None, paged_size=page_size, paged_cookie=cookie)
            result = connection.result
            if result["result"] != 0:
                raise self._result_error(result, f"searching {base!r} for {search_filter}")
            page = [e for e in connection.response if e["type"] == "searchResEntry"]
            if page:
                yield page
            cookie = result.get("controls", {}).get(PAGED_RESULTS, {}).get("value", {}).get("cookie")
            if not cookie:
                return

    def _unpaged(self, connection, base, search_filter, attributes, page_size, controls, scope):
        self._call(connection.search, base, search_filter, search_scope=scope, attributes=list(attributes),
                   controls=list(controls) if controls else None)
        if connection.result["result"] != 0:
            raise self._result_error(connection.result, f"searching {base!r} for {search_filter}")
        entries = [e for e in connection.response if e["type"] == "searchResEntry"]
        for start in range(0, len(entries), page_size):
            yield entries[start:start + page_size]

    def _call(self, method, *args, **kwargs) -> bool:
        """An ldap3 call whose exceptions (a dropped connection, a timeout) become Homeroom's errors."""
        try:
            return method(*args, **kwargs)
        except ldap_errors.LDAPException as exc:
            self._connection = None
            raise self._from_exception(exc) from None

    # ----------------------------------------------------------------------------------------- errors

    def _unreachable(self, reason: object) -> ExternalError:
        text = _reason(reason)
        if "certificate" in text.lower() or "ssl" in text.lower() or "tls" in text.lower():
            return PermanentError(
                f"{self.where}: the TLS handshake failed ({text}); set `ca_file` to the CA that signed the server's "
                "certificate (and `tls_server_name` if the certificate names another host).", system=self.target)
        return TransientError(f"{self.where} is unreachable ({text}); check `host` and `port` and that the "
                              "directory accepts connections from this machine.", system=self.target)

    def _bind_refused(self, result: dict | None) -> ExternalError:
        result = result or {}
        code = result.get("result")
        if code == _INVALID_CREDENTIALS:
            return PermanentError(f"{self.where} refused the bind of {self.user!r} ({_describe(result)}): the account "
                                  "does not exist or the password is wrong; check the bind account and the "
                                  "`password` secret.", system=self.target)
        if code == _STRONG_AUTH_REQUIRED:
            return PermanentError(f"{self.where} requires TLS for a password bind ({_describe(result)}); use "
                                  "`security: ldaps` or `starttls`.", system=self.target)
        return self._result_error(result, f"binding as {self.user!r}")

    def _result_error(self, result: dict, doing: str) -> ExternalError:
        message = f"{self.where} failed {doing}: {_describe(result)}."
        if result.get("result") in _TRANSIENT_RESULTS:
            return TransientError(message, system=self.target)
        return PermanentError(message, system=self.target)

    def _from_exception(self, exc: ldap_errors.LDAPException) -> ExternalError:
        if isinstance(exc, ldap_errors.LDAPSocketOpenError | ldap_errors.LDAPStartTLSError):
            return self._unreachable(exc)
        if isinstance(exc, ldap_errors.LDAPCommunicationError | ldap_errors.LDAPResponseTimeoutError):
            return TransientError(f"{self.where}: the connection failed ({type(exc).__name__}: {exc}); it is retried "
                                  "on the next run.", system=self.target)
        if isinstance(exc, ldap_errors.LDAPOperationResult):
            return self._result_error({"result": exc.result, "description": exc.description, "message": exc.message},
                                      "an operation")
        return PermanentError(f"{self.where}: {type(exc).__name__}: {exc}.", system=self.target)


def _reason(error: object) -> str:
    """The innermost message of an ldap3 socket error (they nest tuples of strings), without the C source line."""
    while isinstance(error, BaseException | tuple | list) and not isinstance(error, str):
        args = error.args if isinstance(error, BaseException) else error
        if not args:
            break
        error = args[0]
    text = str(error or "no answer")
    wrapped = re.search(r"socket ssl wrapping error: ([^'\"]+)", text)
    return re.sub(r" \(_ssl\.c:\d+\)", "", wrapped.group(1) if wrapped else text).strip()


def _describe(result: dict) -> str:
    """``invalidCredentials (49): <server's message>`` from an ldap3 result."""
    if not result:
        return "no answer"
    text = f"{result.get('description') or 'error'} ({result.get('result')})"
    message = (result.get("message") or "").strip()
    return f"{text}: {message}" if message else text


class DirectoryTarget:
    """An open LDAP-speaking target (see :class:`homeroom.targets.base.Target`): its client and its reader."""

    kind = ""

    def __init__(self, name: str, config: ConnectionSettings, client: LdapClient, reader: Any):
        self.name, self.config, self.client, self.reader = name, config, client, reader

    def check(self) -> None:
        self.client.check()

    def read_accounts(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        return self.reader.read_accounts(page_size)

    def read_groups(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        return self.reader.read_groups(page_size)

    def close(self) -> None:
        self.client.close()
