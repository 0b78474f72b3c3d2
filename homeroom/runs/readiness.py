"""Whether a flow can run: Graph's ``readinessStatus``, computed from the flow and its connector, and why not."""

from __future__ import annotations

from datetime import datetime, timezone

from homeroom.store.models import API_CONNECTOR, InboundFlow


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def not_ready_reason(flow: InboundFlow) -> str | None:
    """Why the flow's connector cannot deliver data, in words (None: it can).

    A file connector without a ``fileFormat`` can: it is ready to receive uploads and takes the format its first
    successful validation detects (Microsoft documents ``fileFormat`` as optional on create)."""
    connector = flow.connector
    if connector is None:
        return "it has no dataConnector"
    if flow.year is None:
        return "it has no year"
    if connector.kind == API_CONNECTOR:
        settings = connector.settings or {}
        missing = [name for name, present in (("baseUrl", settings.get("baseUrl")), ("credential", settings.get("credential")),
                                              ("credential.clientSecret", (connector.secrets or {}).get("clientSecret")))
                   if not present]
        if missing:
            return f"its dataConnector '{connector.id}' has no {missing[0]}"
    return None


def readiness_status(flow: InboundFlow, now: datetime | None = None) -> str:
    """A flow's readinessStatus (Homeroom's reading of Graph's loosely documented semantics).

    ``expired`` once past ``expirationDateTime``; ``notReady`` while its connector cannot deliver data (an API
    connector without a base URL, credential or secret: ``not_ready_reason``); otherwise ``ready``.
    """
    now = now or datetime.now(timezone.utc)
    if flow.expiration is not None and _utc(flow.expiration) <= now:
        return "expired"
    return "notReady" if not_ready_reason(flow) else "ready"
