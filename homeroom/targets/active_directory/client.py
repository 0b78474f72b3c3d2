"""The connection to an Active Directory domain controller: the LDAP client with AD's reasons for a refused bind."""

from __future__ import annotations

import re
from collections.abc import Mapping

from homeroom.errors import ExternalError, PermanentError
from homeroom.targets.active_directory.config import Config
from homeroom.targets.ldap.client import LdapClient

#: LDAP_SERVER_EXTENDED_DN_OID with flag 1: every DN in a result (the entry's, each ``member``) comes as
#: ``<GUID=...>;<SID=...>;CN=...``, so members are known by objectGUID without looking each one up.
EXTENDED_DN = ("1.2.840.113556.1.4.529", False, b"\x30\x03\x02\x01\x01")

# The "data" code in AD's invalidCredentials message (MS-ADTS / Windows error codes), and what to do.
_BIND_DATA = {
    "525": "the account does not exist; check `bind_user`",
    "52e": "the password is wrong; check the `password` secret",
    "530": "the account may not sign in at this time",
    "531": "the account may not sign in from this machine",
    "532": "the account's password has expired; set a new one and update the `password` secret",
    "533": "the account is disabled; enable it",
    "701": "the account has expired",
    "773": "the account must change its password; set a new one and update the `password` secret",
    "775": "the account is locked out; unlock it",
}
_DATA = re.compile(r"\bdata ([0-9a-f]{3,4})\b", re.IGNORECASE)


class AdClient(LdapClient):
    """A connection to one AD domain (see :class:`LdapClient`)."""

    def _bind_refused(self, result: dict | None) -> ExternalError:
        found = _DATA.search((result or {}).get("message") or "")
        if result and result.get("result") == 49 and found and found.group(1).lower() in _BIND_DATA:
            return PermanentError(f"{self.where} refused the bind of {self.user!r}: "
                                  f"{_BIND_DATA[found.group(1).lower()]}.", system=self.target)
        return super()._bind_refused(result)


def open_client(name: str, config: Config, secrets: Mapping[str, str]) -> AdClient:
    return AdClient(name, "Active Directory", config, config.bind_user, secrets.get("password", ""))
