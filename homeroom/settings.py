"""One settings object for Homeroom, read from ``HOMEROOM_*`` environment variables.

Every setting has an embedded default, so Homeroom works with no configuration at all.
"""

import json
from functools import lru_cache
from typing import Literal
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Homeroom's settings; each field can be set with ``HOMEROOM_<FIELD_NAME>``."""

    model_config = SettingsConfigDict(env_prefix="HOMEROOM_", extra="ignore")

    data_dir: Path = Field(default=Path("homeroom-data"), description=(
        "Where Homeroom keeps its data: findings files, held runs, validated uploads, keys, the default database and lake."))
    database_url: str | None = Field(
        default=None,
        description="The control-plane database (SQLAlchemy URL), e.g. `postgresql+psycopg://user@host:5432/homeroom`.",
        json_schema_extra={"unset": "SQLite in the data folder"},
    )
    secrets_key_file: Path | None = Field(
        default=None,
        description=("The file of keys that encrypt stored secrets (connector client secrets, default passwords, directory "
                     "credentials); keep it apart from database backups. See [operations.md](operations.md#secrets-at-rest)."),
        json_schema_extra={"unset": "`<data_dir>/secrets.key`"},
    )
    lake_uri: str | None = Field(
        default=None,
        description="Where the Delta tables live: a path, `s3://`, `az://` or `gs://`.",
        json_schema_extra={"unset": "`<data_dir>/lake`"},
    )
    lake_storage_options: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object of delta-rs storage options (credentials, endpoints) for object storage.",
    )
    deactivation_threshold: float = Field(
        default=0.10,
        description="Largest share of an entity's active records a full snapshot may deactivate before the run is held.",
    )
    zip_max_total_bytes: int = Field(
        default=16 * 1024**3,
        description="Largest total uncompressed size of the files in one zip archive.",
    )
    zip_max_ratio: float = Field(
        default=200.0,
        description="Largest expansion ratio (uncompressed / compressed) of an archive entry larger than 1 MiB. Roster CSVs "
        "compress 5 to 20 times; a zip bomb expands thousands of times.",
    )
    zip_max_entries: int = Field(default=64, description="Largest number of entries in one archive.")
    default_phone_country_code: str | None = Field(
        default=None,
        description=(
            "Calling code (digits, e.g. `1` or `44`) added to phone numbers without a leading `+`. Unset: such numbers "
            "are not E.164 and are cleared with an `InvalidPhone` warning."
        ),
    )
    v1_student_domain: str | None = Field(
        default=None,
        description=(
            "SDS v1 packages: domain added to `Student.csv` usernames that have none (`OKlein` becomes "
            "`OKlein@students.contoso.edu`). The validation option `student_domain` overrides it. Unset: such usernames "
            "fail `InvalidUsername`."
        ),
    )
    v1_teacher_domain: str | None = Field(
        default=None,
        description="The same for `Teacher.csv` usernames (option `teacher_domain`).",
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
    api_tenant_concurrency: int = Field(default=2, ge=1, description=(
        "Calls of one tenant the API works on at once; more wait their turn, so that one tenant's expensive calls "
        "cannot slow the others down. See [api.md](api.md#fair-share)."))
    api_tenant_queue: int = Field(default=64, ge=0, description=(
        "Calls of one tenant that may wait for a turn; more are refused with 429 and `Retry-After`."))
    api_sign_in_max_failures: int = Field(default=10, ge=1, description="Failed sign-ins of one client id, or of one username, "
                                          "within the sign-in window after which the token endpoint refuses it (429) until the "
                                          "oldest failure leaves the window.")
    api_sign_in_window_seconds: float = Field(default=300.0, gt=0, description="Length of the failed sign-in window, in seconds.")
    api_oidc_issuers: list[dict[str, str]] = Field(
        default_factory=list,
        description=(
            "External OpenID Connect issuers whose tokens the API accepts (JSON list): each "
            '`{"issuer": ..., "jwks_uri": ..., "audience": ...}` and optionally `"tenant_claim"` (default `"tid"`). See [api.md](api.md).'
        ),
    )

    # --- the OneRoster provider (docs/oneroster.md) ---
    oneroster_max_limit: int = Field(default=10_000, ge=1, description=(
        "Largest page of the OneRoster provider: a larger `limit` is cut to it (`X-Total-Count` and `Link` say what is left)."))
    oneroster_throttle_calls: int = Field(default=6000, ge=1, description=(
        "OneRoster calls one client of one tenant may make per throttling window (`HOMEROOM_API_THROTTLE_WINDOW_SECONDS`); "
        "more are answered 429 `server_busy` with `Retry-After`."))
    oneroster_cached_tenants: int = Field(default=2, ge=1, description=(
        "How many tenants' OneRoster views (the lake as OneRoster objects, built once per lake version) are kept in memory."))

    # --- upload sessions, validation and runs over the API (docs/automation.md) ---
    api_public_url: str | None = Field(
        default=None, json_schema_extra={"unset": "the URL of each request"},
        description="The base URL clients reach `homeroom serve` at (e.g. `https://homeroom.example.org` behind a TLS proxy), "
        "used in upload session URLs.",
    )
    connector_check_timeout_seconds: float = Field(
        default=10.0, description="How long a OneRoster connector's validate waits for each answer of the SIS (token, /orgs).",
    )
    oneroster_page_size: int = Field(
        default=5000, ge=1, description="Records a OneRoster pull asks for per page (`limit`); the provider may send fewer per page.",
    )
    oneroster_timeout_seconds: float = Field(
        default=60.0, description="How long a OneRoster pull waits for each answer of the SIS (a page, a token).",
    )
    oneroster_retries: int = Field(
        default=5, ge=0, description="How often a OneRoster pull retries a page after a timeout, 429 or 5xx before the run fails.",
    )
    oneroster_backoff_seconds: float = Field(
        default=1.0, description="The first wait before a retry of a OneRoster page; each further retry waits twice as long.",
    )
    oneroster_max_wait_seconds: float = Field(
        default=120.0, description="The longest a OneRoster pull waits before one retry, also when the SIS's `Retry-After` asks for more.",
    )
    oneroster_concurrency: int = Field(
        default=4, ge=1, description="Pages of one collection a OneRoster pull requests at the same time.",
    )
    oneroster_full_pull_days: float = Field(
        default=7.0, description="A OneRoster connector's pull is a full one again when its last full pull is older than this "
        "(in between, pulls are deltas: `dateLastModified>` the last pull's high-water mark). 0: always full.",
    )
    oneroster_oauth1_signature_method: Literal["HMAC-SHA256", "HMAC-SHA1"] = Field(
        default="HMAC-SHA256", description="How OneRoster 1.1 requests are signed with an `oAuth1ClientCredential`.",
    )
    oneroster_token_client_auth: Literal["basic", "body"] = Field(
        default="basic", description="How an `oAuth2ClientCredential` sends its client id and secret to the token endpoint: "
        "HTTP Basic (RFC 6749 §2.3.1) or in the form body.",
    )
    upload_session_hours: float = Field(default=14.0, description="How long an upload session (its signed URL) accepts files.")
    upload_container_extra_hours: float = Field(
        default=34.0, description="How long an unvalidated upload container is kept after its session expired, then destroyed.",
    )
    schedule_interval_hours: float = Field(
        default=12.0, description="`homeroom serve` runs every active inbound flow this often (0 turns the scheduler off).",
    )
    schedule_skip_hours: float = Field(
        default=10.0, description="A scheduled run due within this many hours after an on-demand run is skipped.",
    )
    schedule_tick_seconds: float = Field(default=60.0, description="How often the scheduler checks whether a run is due.")
    run_start_limit: int = Field(default=5, description="Successful on-demand runs (`runs/start`) allowed per window.")
    run_start_window_hours: float = Field(default=12.0, description="The window of `run_start_limit`, in hours.")
    operation_retention_days: float = Field(
        default=30.0, description="Finished operations (validations, started runs) are forgotten after this many days.",
    )

    upload_store_uri: str | None = Field(
        default=None, json_schema_extra={"unset": "`<data_dir>/uploads`"},
        description=(
            "Where upload sessions keep uploaded files: `s3://bucket/prefix` or `gs://bucket/prefix` (read with "
            "`pyarrow.fs`). See [api.md](api.md#upload-storage-azure-blob-compatible)."
        ),
    )
    upload_storage_options: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description=(
            "JSON object of keyword arguments of pyarrow's `S3FileSystem` or `GcsFileSystem` for the upload store, "
            'e.g. `{"endpoint_override": "minio:9000", "scheme": "http", "access_key": "...", "secret_key": "..."}`.'
        ),
    )
    upload_max_blob_bytes: int = Field(default=8 * 1024**3, description=(
        "Largest uploaded file (and block); more is 413 `RequestBodyTooLarge`. At most 5 GiB with AWS S3."))
    upload_max_container_bytes: int = Field(
        default=32 * 1024**3,
        description="Largest total of the files and staged blocks of one upload session; more is 409 `ContainerQuotaExceeded`.",
    )
    upload_max_blobs: int = Field(default=64, description=(
        "Largest number of files in one upload session; more is 409 `BlobCountExceedsLimit`."))


def _default_text(info) -> str:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "unset" in extra:
        return str(extra["unset"])
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    text = f"`{value if not isinstance(value, (dict, list)) else json.dumps(value)}`"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1024**3 and value % 1024**3 == 0:
        text += f" ({value // 1024**3} GiB)"
    return text


def settings_markdown() -> str:
    """The table of every setting (docs/configuration.md is generated from it)."""
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        lines.append(f"| `HOMEROOM_{name.upper()}` | {_default_text(info)} | {' '.join((info.description or '').split())} |")
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
