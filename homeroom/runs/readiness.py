"""Whether a flow can run: Graph's ``readinessStatus``, computed from the flow and its connector."""

from __future__ import annotations

from datetime import datetime, timezone

from homeroom.store.models import API_CONNECTOR, FILE_CONNECTOR, InboundFlow


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def readiness_status(flow: InboundFlow, now: datetime | None = None) -> str:
    """A flow's readinessStatus (Homeroom's reading of Graph's loosely documented semantics).

    ``expired`` once past ``expirationDateTime``; ``notReady`` while its connector cannot deliver data (a file
    connector without a file format, an API connector without a base URL or credential); otherwise ``ready``.
    """
    now = now or datetime.now(timezone.utc)
    if flow.expiration is not None and _utc(flow.expiration) <= now:
        return "expired"
    connector = flow.connector
    if connector is None or flow.year is None:
        return "notReady"
    if connector.kind == FILE_CONNECTOR and not connector.file_format:
        return "notReady"
    if connector.kind == API_CONNECTOR:
        settings = connector.settings or {}
        if not settings.get("baseUrl") or not settings.get("credential") or not (connector.secrets or {}).get("clientSecret"):
            return "notReady"
    return "ready"
