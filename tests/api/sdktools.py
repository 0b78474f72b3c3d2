"""Microsoft's msgraph-beta-sdk pointed at a local Homeroom (spec Appendix D): a static-token provider and a client."""

from __future__ import annotations

from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator, BaseBearerTokenAuthenticationProvider
from msgraph_beta import GraphRequestAdapter, GraphServiceClient


class StaticToken(AccessTokenProvider):
    """Gives the SDK a token obtained beforehand, for one host only."""

    def __init__(self, token: str, host: str):
        self.token, self.host = token, host

    async def get_authorization_token(self, uri, additional_authentication_context=None) -> str:
        return self.token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator([self.host])


def graph_client(port: int, token: str) -> GraphServiceClient:
    """A GraphServiceClient whose request adapter talks to http://127.0.0.1:<port>/beta with ``token``."""
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token, f"127.0.0.1:{port}")))
    adapter.base_url = f"http://127.0.0.1:{port}/beta"
    return GraphServiceClient(request_adapter=adapter)
