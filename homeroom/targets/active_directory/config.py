"""Settings of an Active Directory target: a domain controller reached over LDAPS with a service account.

The service account signs in with a simple bind as ``user@domain`` (its userPrincipalName), ``DOMAIN\\user`` or
its DN; its password is the one secret. It needs read access to ``base_dn`` (any domain user has it by default).
"""

from __future__ import annotations

from pydantic import Field

from homeroom.targets.ldap.config import SECRETS, ConnectionSettings

__all__ = ["SECRETS", "Config"]


class Config(ConnectionSettings):
    """An Active Directory domain: its service account, where and what to read, and the anchor attributes."""

    bind_user: str = Field(min_length=1, description="The service account: user@domain, DOMAIN\\user or a DN.")
    user_filter: str = "(&(objectCategory=person)(objectClass=user))"
    group_filter: str = "(objectClass=group)"
    unit_filter: str = "(objectClass=organizationalUnit)"
    anchor_attribute: str = Field(default="employeeID", description="The user attribute holding Homeroom's "
                                                                    "identifier of the person.")
    group_anchor_attribute: str = Field(default="adminDescription", description="The group and OU attribute holding "
                                                                                "Homeroom's identifier.")
