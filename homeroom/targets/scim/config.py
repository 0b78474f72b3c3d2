"""Settings of a SCIM 2.0 target (RFC 7643/7644): the service's base URL; the bearer token is its secret."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from homeroom.targets.base import GROUP_KINDS

#: The secrets of a SCIM target: an OAuth bearer token the service accepts (``Authorization: Bearer ...``).
SECRETS = ("bearer_token",)


class Config(BaseModel):
    """A SCIM service: ``base_url`` is where ``/Users`` and ``/Groups`` live (e.g. ``https://scim.example.org/v2``)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="The SCIM base URL, up to and including the version path (https://host/scim/v2).")
    group_kind: str = Field("security", description="What the service's Groups are, for planning: security, class, ...")
    verify_tls: bool = Field(True, description="Check the service's TLS certificate (turn off only for a test server).")
    timeout_seconds: float = Field(30.0, gt=0, le=600)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a test server)")
        return value.rstrip("/")

    @field_validator("group_kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in GROUP_KINDS:
            raise ValueError(f"must be one of {', '.join(GROUP_KINDS)}")
        return value
