"""Read models of the classic education synchronization API (namespace ``microsoft.graph``; spec §2.4-§2.11, §2.16).

Declared like industryData's (``homeroom.api.entities``): each class one Graph type, its fields the properties of
its JSON. Write-only secrets (a provider's ``clientSecret``) are not properties of the answers.
"""

from __future__ import annotations

from datetime import date, datetime

from homeroom.api.entities import GRAPH, Entity, GraphEnum, GraphValue


class EducationSynchronizationProfileState(GraphEnum):
    __namespace__ = GRAPH
    deleting = "deleting"
    deletionFailed = "deletionFailed"
    provisioningFailed = "provisioningFailed"
    provisioned = "provisioned"
    provisioning = "provisioning"
    unknownFutureValue = "unknownFutureValue"


class EducationSynchronizationStatus(GraphEnum):
    __namespace__ = GRAPH
    paused = "paused"
    inProgress = "inProgress"
    success = "success"
    error = "error"
    validationError = "validationError"
    quarantined = "quarantined"
    unknownFutureValue = "unknownFutureValue"
    extracting = "extracting"
    validating = "validating"


class EducationUserRole(GraphEnum):
    __namespace__ = GRAPH
    student = "student"
    teacher = "teacher"
    none = "none"
    unknownFutureValue = "unknownFutureValue"
    faculty = "faculty"


class EducationSynchronizationCustomization(GraphValue):
    __namespace__ = GRAPH
    allow_display_name_update: bool | None = None
    is_sync_deferred: bool | None = None
    optional_properties_to_sync: list[str] = []
    synchronization_start_date: datetime | None = None


class EducationSynchronizationCustomizationsBase(GraphValue):
    __namespace__ = GRAPH
    __abstract__ = True


class EducationSynchronizationCustomizations(EducationSynchronizationCustomizationsBase):
    __namespace__ = GRAPH
    school: EducationSynchronizationCustomization | None = None
    section: EducationSynchronizationCustomization | None = None
    student: EducationSynchronizationCustomization | None = None
    student_enrollment: EducationSynchronizationCustomization | None = None
    teacher: EducationSynchronizationCustomization | None = None
    teacher_roster: EducationSynchronizationCustomization | None = None


class EducationSynchronizationDataProvider(GraphValue):
    __namespace__ = GRAPH
    __abstract__ = True


class EducationCsvDataProvider(EducationSynchronizationDataProvider):
    __namespace__ = GRAPH
    customizations: EducationSynchronizationCustomizations | None = None


class EducationSynchronizationConnectionSettings(GraphValue):
    """``clientSecret`` is write-only: never answered."""

    __namespace__ = GRAPH
    __abstract__ = True
    client_id: str | None = None


class EducationSynchronizationOAuth1ConnectionSettings(EducationSynchronizationConnectionSettings):
    __namespace__ = GRAPH


class EducationSynchronizationOAuth2ClientCredentialsConnectionSettings(EducationSynchronizationConnectionSettings):
    __namespace__ = GRAPH
    scope: str | None = None
    token_url: str | None = None


class EducationOneRosterApiDataProvider(EducationSynchronizationDataProvider):
    __namespace__ = GRAPH
    connection_settings: EducationSynchronizationConnectionSettings | None = None
    connection_url: str | None = None
    customizations: EducationSynchronizationCustomizations | None = None
    provider_name: str | None = None
    schools_ids: list[str] = []
    term_ids: list[str] = []


class EducationPowerSchoolDataProvider(EducationSynchronizationDataProvider):
    """``clientSecret`` is write-only: never answered."""

    __namespace__ = GRAPH
    allow_teachers_in_multiple_schools: bool | None = None
    client_id: str | None = None
    connection_url: str | None = None
    customizations: EducationSynchronizationCustomizations | None = None
    school_year: str | None = None
    schools_ids: list[str] = []


class EducationIdentitySynchronizationConfiguration(GraphValue):
    __namespace__ = GRAPH
    __abstract__ = True


class EducationIdentityDomain(GraphValue):
    __namespace__ = GRAPH
    applies_to: EducationUserRole | None = None
    name: str | None = None


class EducationIdentityMatchingOptions(GraphValue):
    __namespace__ = GRAPH
    applies_to: EducationUserRole | None = None
    source_property_name: str | None = None
    target_domain: str | None = None
    target_property_name: str | None = None


class EducationIdentityCreationConfiguration(EducationIdentitySynchronizationConfiguration):
    __namespace__ = GRAPH
    user_domains: list[EducationIdentityDomain] = []


class EducationIdentityMatchingConfiguration(EducationIdentitySynchronizationConfiguration):
    __namespace__ = GRAPH
    matching_options: list[EducationIdentityMatchingOptions] = []


class EducationSynchronizationLicenseAssignment(GraphValue):
    __namespace__ = GRAPH
    applies_to: EducationUserRole | None = None
    sku_ids: list[str] = []


class EducationFileSynchronizationVerificationMessage(GraphValue):
    __namespace__ = GRAPH
    description: str | None = None
    file_name: str | None = None
    type: str | None = None


class EducationSynchronizationProfile(Entity):
    __namespace__ = GRAPH
    data_provider: EducationSynchronizationDataProvider | None = None
    display_name: str
    expiration_date: date | None = None
    handle_special_character_constraint: bool | None = None
    identity_synchronization_configuration: EducationIdentitySynchronizationConfiguration | None = None
    licenses_to_assign: list[EducationSynchronizationLicenseAssignment] = []
    state: EducationSynchronizationProfileState | None = None


class EducationSynchronizationProfileStatus(Entity):
    __namespace__ = GRAPH
    error_count: int | None = None
    last_activity_date_time: datetime | None = None
    last_synchronization_date_time: datetime | None = None
    status: EducationSynchronizationStatus | None = None
    status_message: str | None = None


class EducationSynchronizationError(Entity):
    __namespace__ = GRAPH
    entry_type: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    joining_value: str | None = None
    recorded_date_time: datetime | None = None
    reportable_identifier: str | None = None
