"""The permission catalogs: what an app registration or a user may be granted, per API surface.

Each surface (Graph's industryData API, the OneRoster scopes; the classic education API later) declares
its permissions here, so that registrations, tokens, the API and the CLI check one list.
"""

#: Every permission of Graph's industryData API (spec §1.15).
INDUSTRY_DATA = frozenset({
    "IndustryData.ReadBasic.All",
    "IndustryData-DataConnector.Read.All", "IndustryData-DataConnector.ReadWrite.All", "IndustryData-DataConnector.Upload",
    "IndustryData-InboundFlow.Read.All", "IndustryData-InboundFlow.ReadWrite.All",
    "IndustryData-OutboundFlow.Read.All", "IndustryData-OutboundFlow.ReadWrite.All",
    "IndustryData-ReferenceDefinition.Read.All", "IndustryData-ReferenceDefinition.ReadWrite.All",
    "IndustryData-Run.Read.All", "IndustryData-Run.Start",
    "IndustryData-SourceSystem.Read.All", "IndustryData-SourceSystem.ReadWrite.All",
    "IndustryData-TimePeriod.Read.All", "IndustryData-TimePeriod.ReadWrite.All",
})

#: The OneRoster rostering scopes (1EdTech), 1.1 and 1.2: an app holds them as permissions and asks for them as the
#: ``scope`` of a client-credentials token. ``roster-core`` reads the top-level collections, ``roster`` every
#: rostering read (nested ones too), ``roster-demographics`` the demographics (homeroom.oneroster.collections).
ONEROSTER_SCOPE_PREFIXES = {"1.1": "https://purl.imsglobal.org/spec/or/v1p1/scope/",
                            "1.2": "https://purl.imsglobal.org/spec/or/v1p2/scope/"}
ONEROSTER = frozenset(f"{prefix}{name}" for prefix in ONEROSTER_SCOPE_PREFIXES.values()
                      for name in ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly"))

#: Every permission Homeroom knows, over all surfaces.
PERMISSIONS = INDUSTRY_DATA | ONEROSTER
