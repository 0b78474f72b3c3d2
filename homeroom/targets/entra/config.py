"""Settings of a Microsoft Entra ID target (Microsoft Graph v1.0, app-only): the tenant and the app's client id;
the app's client secret is its secret. The app needs User.Read.All, GroupMember.Read.All,
AdministrativeUnit.Read.All and (for classes) EduRoster.Read.All application permissions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The secrets of an Entra target: the app registration's client secret.
SECRETS = ("client_secret",)


class Config(BaseModel):
    """An Entra tenant read through Graph with an app registration (client credentials)."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str = Field(min_length=1, description="The directory (tenant) id or a verified domain.")
    client_id: str = Field(min_length=1, description="The app registration's application (client) id.")
    graph_url: str = Field("https://graph.microsoft.com/v1.0", description="Graph's base URL (another cloud, or a test fake).")
    authority_url: str = Field("https://login.microsoftonline.com", description="Where tokens are issued.")
    read_classes: bool = Field(True, description="Read /education/classes (needs EduRoster.Read.All).")
    read_units: bool = Field(True, description="Read /directory/administrativeUnits.")
    extension_attributes: list[str] = Field(default_factory=list,
                                            description="Directory extension properties to read (extension_<appId>_<name>).")
    timeout_seconds: float = Field(60.0, gt=0, le=600)
    max_retries: int = Field(6, ge=0, le=20, description="Retries of a throttled (429) or unavailable (503) request.")

    @field_validator("graph_url", "authority_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a test fake)")
        return value.rstrip("/")
