"""Graph-compatible HTTP API: ``/beta/external/industryData/...`` with OData, OAuth 2.0 tokens, tenants and throttling."""

from homeroom.api.app import create_app

__all__ = ["create_app"]
