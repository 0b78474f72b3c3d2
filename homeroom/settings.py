"""One settings object for Homeroom, read from ``HOMEROOM_*`` environment variables.

Every setting has an embedded default, so Homeroom works with no configuration at all.
"""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Homeroom's settings; each field can be set with ``HOMEROOM_<FIELD_NAME>``."""

    model_config = SettingsConfigDict(env_prefix="HOMEROOM_", extra="ignore")

    data_dir: Path = Field(default=Path("homeroom-data"), description="Where Homeroom keeps its data.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the control-plane database; default: SQLite in the data folder.",
    )
    lake_uri: str | None = Field(
        default=None,
        description="Where the Delta Lake tables live: a path, or s3://, az://, gs:// URI; default: <data_dir>/lake.",
    )
    lake_storage_options: dict[str, str] = Field(
        default_factory=dict,
        description="Credentials and options for object storage, as delta-rs takes them (JSON in the environment).",
    )
    deactivation_threshold: float = Field(
        default=0.10,
        description="Largest share of an entity's active records one full snapshot may deactivate before the run is held.",
    )
    zip_max_total_bytes: int = Field(
        default=16 * 1024**3,
        description="Largest total uncompressed size of the CSV files in one zip archive.",
    )
    zip_max_ratio: float = Field(
        default=200.0,
        description="Largest expansion ratio (uncompressed / compressed) of a zip entry; a zip bomb exceeds it.",
    )
    zip_max_entries: int = Field(default=64, description="Largest number of entries in one zip archive.")
    default_phone_country_code: str | None = Field(
        default=None,
        description=(
            "Calling code (digits only, e.g. '1') added to phone numbers that have no leading '+'. "
            "When unset, such numbers are not E.164 and are dropped with a warning."
        ),
    )
    v1_student_domain: str | None = Field(
        default=None,
        description=(
            "SDS v1 packages: domain added to Student.csv usernames that have none (OKlein -> OKlein@school.org). "
            "When unset, such usernames are invalid. The option student_domain overrides it."
        ),
    )
    v1_teacher_domain: str | None = Field(
        default=None,
        description="SDS v1 packages: domain added to Teacher.csv usernames that have none. The option teacher_domain overrides it.",
    )

    api_host: str = Field(default="127.0.0.1", description="Address `homeroom serve` listens on.")
    api_port: int = Field(default=8000, description="Port `homeroom serve` listens on.")
    api_audience: str = Field(
        default="https://graph.microsoft.com",
        description="The `aud` claim Homeroom puts in its tokens and requires in every token it accepts.",
    )
    api_token_lifetime_seconds: int = Field(default=3600, description="How long an access token is valid.")
    api_page_size: int = Field(default=100, description="Largest number of items in one page of a collection.")
    api_throttle_calls: int = Field(default=100, description="Calls one client of one tenant may make per throttling window.")
    api_throttle_window_seconds: float = Field(default=60.0, description="Length of the throttling window, in seconds.")
    api_oidc_issuers: list[dict[str, str]] = Field(
        default_factory=list,
        description=(
            "External OpenID Connect issuers whose tokens the API accepts (JSON list): each "
            '{"issuer": ..., "jwks_uri": ..., "audience": ...} and optionally "tenant_claim" (default "tid").'
        ),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
