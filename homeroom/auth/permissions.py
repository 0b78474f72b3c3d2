"""The permission catalogs: what an app registration or a user may be granted, per API surface.

Each surface (Graph's industryData API today; the classic education API and OneRoster scopes later) declares
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

#: Every permission Homeroom knows, over all surfaces.
PERMISSIONS = INDUSTRY_DATA
