"""Settings of a Google Workspace target (Admin SDK Directory API): the customer and the admin the service account
acts for (domain-wide delegation); the service account's JSON key is its secret."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The secrets of a Google target: the service account's JSON key file, as text.
SECRETS = ("service_account_json",)
#: The read-only scopes the service account must be granted in the Admin console (domain-wide delegation).
SCOPES = (
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.orgunit.readonly",
)


class Config(BaseModel):
    """A Workspace customer read with a service account that impersonates an administrator."""

    model_config = ConfigDict(extra="forbid")

    admin_email: str = Field(min_length=3, description="The administrator the service account acts for.")
    customer: str = Field("my_customer", description="The customer id (my_customer: the admin's own).")
    api_endpoint: str | None = Field(None, description="Another API root (a proxy or a test fake), e.g. https://host/; "
                                                        "default: Google's.")
    timeout_seconds: float = Field(60.0, gt=0, le=600)

    @field_validator("api_endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a test fake)")
        return None if value is None else value.rstrip("/") + "/"
