"""Request bodies of the classic education synchronization API: the writable shape of a profile (spec §2.13).

The ``@odata.type`` of a data provider or an identity configuration may be spelled in any case, with or without
``#``, and in a foreign namespace (Microsoft's own example sends ``#Microsoft.Education.DataSync.educationCsvDataProvider``):
the last dotted segment decides (``homeroom.api.bodies.resolve_type``).
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from homeroom.api.bodies import GraphInput


class CustomizationIn(GraphInput):
    """educationSynchronizationCustomization."""

    optional_properties_to_sync: list[str] | None = None
    synchronization_start_date: datetime | None = None
    is_sync_deferred: bool | None = None
    allow_display_name_update: bool | None = None


class CustomizationsIn(GraphInput):
    """educationSynchronizationCustomizations: one customization per entity."""

    school: CustomizationIn | None = None
    section: CustomizationIn | None = None
    student: CustomizationIn | None = None
    teacher: CustomizationIn | None = None
    student_enrollment: CustomizationIn | None = None
    teacher_roster: CustomizationIn | None = None


class ConnectionSettingsIn(GraphInput):
    """educationSynchronizationOAuth1ConnectionSettings or ...OAuth2ClientCredentialsConnectionSettings."""

    client_id: str | None = None
    client_secret: str | None = None
    token_url: str | None = None
    scope: str | None = None


class DataProviderIn(GraphInput):
    """educationCsvDataProvider, educationOneRosterApiDataProvider or educationPowerSchoolDataProvider (the
    properties of the three; those of another kind than ``@odata.type`` are refused)."""

    customizations: CustomizationsIn | None = None
    connection_url: str | None = None
    provider_name: str | None = None
    schools_ids: list[str] | None = None
    term_ids: list[str] | None = None
    connection_settings: ConnectionSettingsIn | None = None
    client_id: str | None = None
    client_secret: str | None = None
    school_year: str | None = None
    allow_teachers_in_multiple_schools: bool | None = None


class IdentityDomainIn(GraphInput):
    """educationIdentityDomain."""

    applies_to: str | None = None
    name: str | None = None


class MatchingOptionIn(GraphInput):
    """educationIdentityMatchingOptions."""

    applies_to: str | None = None
    source_property_name: str | None = None
    target_property_name: str | None = None
    target_domain: str | None = None


class IdentityConfigurationIn(GraphInput):
    """educationIdentityCreationConfiguration (``userDomains``) or educationIdentityMatchingConfiguration
    (``matchingOptions``)."""

    user_domains: list[IdentityDomainIn] | None = None
    matching_options: list[MatchingOptionIn] | None = None


class LicenseAssignmentIn(GraphInput):
    """educationSynchronizationLicenseAssignment."""

    applies_to: str | None = None
    sku_ids: list[str] | None = None


class SynchronizationProfileIn(GraphInput):
    """educationSynchronizationProfile. ``id`` names the profile of a collection-level PUT; ``state`` (read-only) is
    accepted and ignored, so that a profile read and sent back is a valid body."""

    id: str | None = None
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    data_provider: DataProviderIn | None = None
    identity_synchronization_configuration: IdentityConfigurationIn | None = None
    licenses_to_assign: list[LicenseAssignmentIn] | None = None
    expiration_date: date | None = None
    handle_special_character_constraint: bool | None = None
    state: str | None = None
