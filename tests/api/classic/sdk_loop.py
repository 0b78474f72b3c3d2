"""The classic SDS loop as Microsoft's own Python SDK drives it: msgraph-beta-sdk 1.12.0 (the last release with the
``education.synchronization_profiles`` request builders) and azure-storage-blob.

Not a test module: ``test_classic_sdk_loop.py`` runs it in the pinned environment ``.venv/classic-sdk`` (see
``msgraph-beta-sdk-1.12.txt``), against a running Homeroom, and checks what it prints:

    python sdk_loop.py <port> <token> <package folder>...

For each package: create a profile with the spec's example body (as SDK models), poll until it is provisioned, GET
uploadUrl, upload the folder's files with azure-storage-blob, start, poll profileStatus until the synchronization
is no longer in progress, and read the errors two at a time by their nextLink. Prints one JSON object per package.
"""

from __future__ import annotations

import asyncio
import json
import sys
import warnings
from pathlib import Path

from azure.storage.blob import ContainerClient
from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator, BaseBearerTokenAuthenticationProvider
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph_beta import GraphRequestAdapter, GraphServiceClient
from msgraph_beta.generated.education.synchronization_profiles.item.errors.errors_request_builder import ErrorsRequestBuilder
from msgraph_beta.generated.models.education_csv_data_provider import EducationCsvDataProvider
from msgraph_beta.generated.models.education_identity_creation_configuration import EducationIdentityCreationConfiguration
from msgraph_beta.generated.models.education_identity_domain import EducationIdentityDomain
from msgraph_beta.generated.models.education_synchronization_customization import EducationSynchronizationCustomization
from msgraph_beta.generated.models.education_synchronization_customizations import EducationSynchronizationCustomizations
from msgraph_beta.generated.models.education_synchronization_license_assignment import EducationSynchronizationLicenseAssignment
from msgraph_beta.generated.models.education_synchronization_profile import EducationSynchronizationProfile
from msgraph_beta.generated.models.education_synchronization_profile_state import EducationSynchronizationProfileState
from msgraph_beta.generated.models.education_synchronization_status import EducationSynchronizationStatus
from msgraph_beta.generated.models.education_user_role import EducationUserRole

warnings.simplefilter("ignore", DeprecationWarning)  # every classic builder warns that Microsoft retired the API
SKU = "6fd2c87f-b296-42f0-b197-1e91e994b900"


class StaticToken(AccessTokenProvider):
    """Gives the SDK a token obtained beforehand, for one host only."""

    def __init__(self, token: str, host: str):
        self.token, self.host = token, host

    async def get_authorization_token(self, uri, additional_authentication_context=None) -> str:
        return self.token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator([self.host])


def spec_profile() -> EducationSynchronizationProfile:
    """The spec's create body (§2.13) as the SDK's models."""
    return EducationSynchronizationProfile(
        display_name="Test Profile",
        data_provider=EducationCsvDataProvider(customizations=EducationSynchronizationCustomizations(
            student=EducationSynchronizationCustomization(optional_properties_to_sync=["State ID", "Middle Name"]))),
        identity_synchronization_configuration=EducationIdentityCreationConfiguration(user_domains=[
            EducationIdentityDomain(applies_to=EducationUserRole.Student, name="testschool.edu"),
            EducationIdentityDomain(applies_to=EducationUserRole.Teacher, name="testschool.edu")]),
        licenses_to_assign=[EducationSynchronizationLicenseAssignment(applies_to=EducationUserRole.Teacher, sku_ids=[SKU]),
                            EducationSynchronizationLicenseAssignment(applies_to=EducationUserRole.Student, sku_ids=[SKU])])


async def loop(graph: GraphServiceClient, adapter: GraphRequestAdapter, package: Path) -> dict:
    profiles = graph.education.synchronization_profiles
    created = await profiles.post(spec_profile())
    out: dict = {"createdState": created.state.value, "dataProviderType": type(created.data_provider).__name__,
                 "teacherOptional": created.data_provider.customizations.teacher.optional_properties_to_sync}
    item = profiles.by_education_synchronization_profile_id(created.id)
    for _ in range(3000):
        profile = await item.get()
        if profile.state != EducationSynchronizationProfileState.Provisioning:
            break
        await asyncio.sleep(0.02)
    out["state"] = profile.state.value
    url = (await item.upload_url.get()).value
    container = ContainerClient.from_container_url(url)
    for path in sorted(package.iterdir()):
        with path.open("rb") as fh:
            await asyncio.to_thread(container.upload_blob, path.name, fh, overwrite=True)
    messages = (await item.start.post()).value
    out["messages"] = [{"type": m.type, "fileName": m.file_name, "description": m.description} for m in messages]
    for _ in range(3000):
        status = await item.profile_status.get()
        if status.status != EducationSynchronizationStatus.InProgress:
            break
        await asyncio.sleep(0.05)
    out["status"] = {"status": status.status.value, "errorCount": status.error_count, "statusMessage": status.status_message,
                     "synchronized": status.last_synchronization_date_time is not None}
    config = RequestConfiguration(query_parameters=ErrorsRequestBuilder.ErrorsRequestBuilderGetQueryParameters(top=2, count=True))
    page = await item.errors.get(config)
    out["errorCountHeader"] = page.odata_count
    errors = list(page.value)
    while page.odata_next_link:
        page = await ErrorsRequestBuilder(adapter, page.odata_next_link).get()
        errors += page.value
    out["errors"] = [{"entryType": e.entry_type, "errorCode": e.error_code, "joiningValue": e.joining_value} for e in errors]
    out["listed"] = [p.id for p in (await profiles.get()).value].count(created.id)
    return out


async def main(port: int, token: str, packages: list[Path]) -> None:
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token, f"127.0.0.1:{port}")))
    adapter.base_url = f"http://127.0.0.1:{port}/beta"
    graph = GraphServiceClient(request_adapter=adapter)
    for package in packages:
        print(json.dumps(await loop(graph, adapter, package)), flush=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], [Path(p) for p in sys.argv[3:]]))
