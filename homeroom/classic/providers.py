"""A profile's data provider (spec §2.5, §2.6): its customizations as the SDS v1 format's options, and where a
provider that is not a CSV upload plugs in.

- ``educationCsvDataProvider``: the six classic files, uploaded to ``uploadUrl``. Per entity,
  ``optionalPropertiesToSync`` selects the optional columns carried (the v1 format's ``optional_properties``; the
  names and password of people are always carried: classic SDS needs them to create accounts); ``isSyncDeferred``
  (and, for ``studentEnrollment``, a future ``synchronizationStartDate``) keeps a membership file out of the
  synchronization (``deferred_files``); ``allowDisplayNameUpdate`` of sections is the class group flow's
  ``writeDisplayNameOnCreateOnly`` (display names are written by provisioning, not by ingestion).
- ``educationOneRosterApiDataProvider``: read through the OneRoster API connector (``oneroster_batch``, the one hook).
- ``educationPowerSchoolDataProvider``: stored and checked; Homeroom has no PowerSchool reader, so ``start`` says so.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from homeroom.errors import ConfigurationError
from homeroom.inbound.formats.sds_v1 import SDS_V1

CSV, ONEROSTER, POWERSCHOOL = "educationCsvDataProvider", "educationOneRosterApiDataProvider", "educationPowerSchoolDataProvider"
#: The entities of a classic profile's customizations, and the v1 file of each.
ENTITY_FILES = {"school": "School.csv", "section": "Section.csv", "student": "Student.csv", "teacher": "Teacher.csv",
                "studentEnrollment": "StudentEnrollment.csv", "teacherRoster": "TeacherRoster.csv"}
#: Entities whose sync may be deferred: only the membership files, which nothing else refers to.
DEFERRABLE = ("studentEnrollment", "teacherRoster")
#: Columns classic SDS always synced (they make the accounts), whatever ``optionalPropertiesToSync`` says.
ALWAYS_CARRIED = ("First Name", "Last Name", "Password")
#: Graph's default ``synchronizationStartDate`` ("sync when set up").
NO_START_DATE = "0001-01-01T00:00:00Z"


def _key(name: str) -> str:
    return "".join(name.split()).lower()


def optional_columns(entity: str) -> list[str]:
    """The optional columns of an entity's v1 file that ``optionalPropertiesToSync`` may name (names and password
    excluded: they are always carried)."""
    spec = next(s for s in SDS_V1.files if s.name == ENTITY_FILES[entity])
    required = spec.required_headers
    headers = dict.fromkeys(h for h, _ in spec.columns if h not in required and h not in ALWAYS_CARRIED)
    return [] if entity in DEFERRABLE else list(headers)


def customizations(given: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Every entity's customization, Graph's defaults filled in (all optional columns, no start date, nothing
    deferred, no display name updates); unknown column names and deferrals that cannot be honoured are refused."""
    out = {}
    for entity in ENTITY_FILES:
        mine = dict((given or {}).get(entity) or {})
        known = {_key(c): c for c in optional_columns(entity)}
        names = mine.get("optionalPropertiesToSync")
        if names is None:
            names = list(known.values())
        prop = f"dataProvider.customizations.{entity}"
        for name in names:
            if _key(name) not in known:
                columns = ", ".join(known.values()) or "none: the property customization does not apply to it"
                raise ConfigurationError(f"Invalid value for property '{prop}.optionalPropertiesToSync': '{name}' is not an "
                                         f"optional column of {ENTITY_FILES[entity]} (optional columns: {columns}).")
        start = mine.get("synchronizationStartDate") or NO_START_DATE
        if start != NO_START_DATE and entity != "studentEnrollment":
            raise ConfigurationError(f"Property '{prop}.synchronizationStartDate' applies to studentEnrollment only.")
        if mine.get("isSyncDeferred") and entity not in DEFERRABLE:
            raise ConfigurationError(f"Property '{prop}.isSyncDeferred' can be true for studentEnrollment and teacherRoster "
                                     f"only: deferring {entity} would leave the rows that refer to it without it.")
        out[entity] = {"optionalPropertiesToSync": [known[_key(n)] for n in names], "synchronizationStartDate": start,
                       "isSyncDeferred": bool(mine.get("isSyncDeferred")),
                       "allowDisplayNameUpdate": bool(mine.get("allowDisplayNameUpdate"))}
    return out


def _start_date(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def format_options(provider: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The v1 format options (``read_package(options=...)``) of a provider's customizations at ``now``."""
    custom = provider.get("customizations") or customizations(None)
    selection = {ENTITY_FILES[e]: [*c["optionalPropertiesToSync"], *(ALWAYS_CARRIED if e in ("student", "teacher") else ())]
                 for e, c in custom.items() if e not in DEFERRABLE}
    deferred = [ENTITY_FILES[e] for e, c in custom.items()
                if c["isSyncDeferred"] or _start_date(c["synchronizationStartDate"]) > now]
    return {"optional_properties": selection, **({"deferred_files": deferred} if deferred else {})}


def class_flow_settings(provider: dict[str, Any]) -> dict[str, Any]:
    """The settings of the profile's ``classGroupProvisioningFlow``: section display names are written once unless
    the section customization allows updates."""
    section = (provider.get("customizations") or customizations(None))["section"]
    return {"configuration": {"additionalOptions": {"createTeam": False,
                                                    "writeDisplayNameOnCreateOnly": not section["allowDisplayNameUpdate"]}}}


def check_provider(provider: dict[str, Any], secrets: dict[str, Any]) -> None:
    """Refuse a provider without what it needs to be read (``connectionUrl``, credentials)."""
    kind = provider["kind"]
    if kind == CSV:
        return
    missing = [p for p in ("connectionUrl",) if not provider.get(p)]
    if kind == POWERSCHOOL:
        missing += [p for p in ("clientId", "schoolYear") if not provider.get(p)]
        if not secrets.get("clientSecret"):
            missing.append("clientSecret")
        if not provider.get("schoolsIds"):
            missing.append("schoolsIds")
    else:
        settings = provider.get("connectionSettings") or {}
        if not settings.get("clientId"):
            missing.append("connectionSettings.clientId")
        if not secrets.get("clientSecret"):
            missing.append("connectionSettings.clientSecret")
    if missing:
        raise ConfigurationError(f"An {kind} needs {', '.join(f'dataProvider.{m}' for m in missing)}.")
    url = provider["connectionUrl"]
    if not url.lower().startswith(("https://", "http://")):
        raise ConfigurationError(f"Invalid value for property 'dataProvider.connectionUrl': '{url}' is not an http(s) URL.")


def oneroster_batch(profile: Any):
    """The hook where an ``educationOneRosterApiDataProvider`` is read: the OneRoster API connector, given the
    provider's ``connectionUrl``, ``connectionSettings``, ``schoolsIds`` and ``termIds``, returns the Batch a run
    validates (``homeroom.inbound``). Until that connector exists, ``start`` answers this error."""
    raise ConfigurationError(
        "The OneRoster API connector is not configured on this server yet, so a profile with an "
        "educationOneRosterApiDataProvider cannot synchronize; use an educationCsvDataProvider profile (upload the "
        "classic CSV files) meanwhile.")


def powerschool_batch(profile: Any):
    """An ``educationPowerSchoolDataProvider`` is stored and checked but cannot be read: Homeroom has no PowerSchool
    reader, and without one its source is not reachable."""
    raise ConfigurationError(
        f"The PowerSchool source at {profile.data_provider.get('connectionUrl')} cannot be reached: Homeroom has no "
        "PowerSchool reader. Export the classic CSV files from PowerSchool and use an educationCsvDataProvider profile.")
