"""Settings of a generic LDAP target (OpenLDAP, 389 Directory Server...), and the connection settings AD shares.

Accounts are ``inetOrgPerson`` entries, groups ``groupOfNames``, units ``organizationalUnit``; ``entryUUID``
(RFC 4530) is the account id. The service account binds with a simple bind; its password is the one secret.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: The names of a directory target's secrets: the service account's password.
SECRETS = ("password",)

#: ``ldaps`` (TLS from the first byte, port 636), ``starttls`` (LDAP upgraded to TLS before the bind, port 389),
#: ``plain`` (no TLS: only for a directory on the same machine; the password crosses the network in clear).
Security = Literal["ldaps", "starttls", "plain"]


class ConnectionSettings(BaseModel):
    """Where the directory is and how to reach it safely; shared by the LDAP and Active Directory targets."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, description="The directory server's host name or address.")
    port: int | None = Field(default=None, ge=1, le=65535, description="Default: 636 for ldaps, else 389.")
    security: Security = "ldaps"
    ca_file: str | None = Field(default=None, description="PEM file of the CA that signed the server's certificate; "
                                                          "default: the system's trusted CAs.")
    verify_certificate: bool = Field(default=True, description="Check the server's certificate and name (keep it on).")
    tls_server_name: str | None = Field(default=None, description="A name in the server's certificate accepted "
                                                                  "besides `host` (when `host` is an address).")
    base_dn: str = Field(min_length=1, description="Where accounts, groups and units are read (the subtree).")
    timeout_seconds: float = Field(default=15, gt=0, le=600)
    extra_attributes: list[str] = Field(default=[], description="Further account attributes read into `extra`.")

    @property
    def effective_port(self) -> int:
        return self.port or (636 if self.security == "ldaps" else 389)

    @property
    def url(self) -> str:
        return f"{'ldaps' if self.security == 'ldaps' else 'ldap'}://{self.host}:{self.effective_port}"


class Config(ConnectionSettings):
    """A generic LDAP directory: its service account, where and what to read, and the anchor attributes."""

    bind_dn: str = Field(min_length=1, description="The service account's DN.")
    account_filter: str = "(objectClass=inetOrgPerson)"
    group_filter: str = "(objectClass=groupOfNames)"
    unit_filter: str = "(objectClass=organizationalUnit)"
    anchor_attribute: str = Field(default="employeeNumber", description="The account attribute holding Homeroom's "
                                                                        "identifier of the person.")
    group_anchor_attribute: str = Field(default="businessCategory", description="The group and unit attribute "
                                                                                "holding Homeroom's identifier.")
    disabled_unit: str | None = Field(default=None, description="DN of the OU disabled accounts are kept in; an "
                                                                "account beneath it reads as disabled, and disabling "
                                                                "an account moves it there.")
    placeholder_member: str | None = Field(default=None, description="The member an empty groupOfNames keeps (it "
                                                                     "must have one); default: the service account.")
