"""The permission catalogs: what an app registration or a user may be granted, per API surface.

Each surface (Graph's industryData API, the classic education synchronization API, the OneRoster scopes) declares
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

#: The classic ``education/synchronizationProfiles`` API's delegated permissions (spec §2.14): only in a token that
#: acts for a user (``scp``), never in an application token.
EDUCATION_SYNC_DELEGATED = frozenset({"EduAdministration.Read", "EduAdministration.ReadWrite"})
#: Its application permissions: only in an application token (``roles``), never in a delegated one.
EDUCATION_SYNC_APPLICATION = frozenset({"EduAdministration.Read.All", "EduAdministration.ReadWrite.All"})
#: Every permission of the classic education synchronization API.
EDUCATION_SYNC = EDUCATION_SYNC_DELEGATED | EDUCATION_SYNC_APPLICATION

#: Every permission Homeroom knows, over all surfaces.
PERMISSIONS = INDUSTRY_DATA | EDUCATION_SYNC | ONEROSTER


def usable(permission: str, *, delegated: bool) -> bool:
    """Whether a token of this kind can carry ``permission``: a delegated-only one needs a user's token, an
    application-only one an app's (industryData's permissions are both, as in Entra)."""
    return permission not in (EDUCATION_SYNC_APPLICATION if delegated else EDUCATION_SYNC_DELEGATED)
