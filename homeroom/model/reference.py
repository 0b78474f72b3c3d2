"""Reference data: the SDS "default list of values" as ``referenceDefinition`` rows, and role groups.

Ids follow Graph's ``{referenceType}-{code}`` convention. A tenant can add codes to the extendable
types and disable defaults (the API exposes this later); validation asks a ``ReferenceData``
instance for the enabled codes of a type, so every rule reads the same, tenant-adjusted lists.

Sources: ``shared/spec/graph-industrydata-api.md`` appendix B and §1.7, ``roster-csv-formats.md`` §2.3.
Where the spec marks a list as unconfirmed (session types, sex, flags, enrollment roles, subject
names) the values below are the best-supported ones and are documented as such in docs/validation-rules.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

BUILT_IN_TIME = datetime(1, 1, 1, tzinfo=timezone.utc)

#: Reference types that a tenant may extend with its own codes (Graph §1.7.1).
TENANT_EXTENDABLE_TYPES = frozenset(
    {"RefAcademicSubject", "RefRace", "RefEthnicity", "RefGradeLevel", "RefOrgType", "RefPersonFlagType"}
)

#: Reference types whose purely numeric codes are two digits: ``1`` matches ``01`` (SDS data types).
ZERO_PADDED_TYPES = frozenset({"RefGradeLevel", "RefAcademicSubject"})


@dataclass(frozen=True)
class ReferenceDefinition:
    """One code of one reference type, as Graph's ``referenceDefinition`` describes it."""

    reference_type: str
    code: str
    sort_index: int
    source: str
    display_name: str | None = None
    is_disabled: bool = False
    created: datetime = BUILT_IN_TIME
    last_modified: datetime = BUILT_IN_TIME

    @property
    def id(self) -> str:
        """The Graph id: ``{referenceType}-{code}``."""
        return f"{self.reference_type}-{self.code}"


@dataclass(frozen=True)
class RoleGroup:
    """A named set of ``RefRole`` codes (Graph's ``roleGroup``)."""

    id: str
    display_name: str
    roles: tuple[str, ...]


_STAFF_ROLES_BY_SORT = (
    "principal chair professor researcher adjunct affiliate occupationalTherapist physicalTherapist "
    "speechTherapist visionTherapist paraprofessional specialServices advisor proctor nurse officeStaff "
    "lecturer itAdmin administrator teacher faculty staff teacherAssistant assistant instructor substitute "
    "coach alumni"
).split()

_SUBJECTS = {
    "01": "English Language and Literature",
    "02": "Mathematics",
    "03": "Life and Physical Sciences",
    "04": "Social Sciences and History",
    "05": "Visual and Performing Arts",
    "07": "Religious Education and Theology",
    "08": "Physical, Health, and Safety Education",
    "09": "Military Science",
    "10": "Information Technology",
    "11": "Communication and Audio/Visual Technology",
    "12": "Business and Marketing",
    "13": "Manufacturing",
    "14": "Health Care Sciences",
    "15": "Public, Protective, and Government Service",
    "16": "Hospitality and Tourism",
    "17": "Architecture and Construction",
    "18": "Agriculture, Food, and Natural Resources",
    "19": "Human Services",
    "20": "Transportation, Distribution and Logistics",
    "21": "Engineering and Technology",
    "22": "Miscellaneous",
    "23": "Non-Subject-Specific",
    "24": "World Languages",
}

_K12_GRADES = ["IT", "PR", "PK", "TK", "KG"] + [f"{g:02d}" for g in range(1, 14)] + ["PS", "UG", "Other"]
_HIGHER_ED_GRADES = ["PS1", "PS2", "PS3", "PS4", "undergraduate", "graduate", "postgraduate", "alumni", "adultEducation"]


def _seq(reference_type: str, codes: list[str], source: str, start: int = 10, step: int = 10) -> list[ReferenceDefinition]:
    return [ReferenceDefinition(reference_type, code, start + i * step, source) for i, code in enumerate(codes)]


def default_definitions() -> list[ReferenceDefinition]:
    defs: list[ReferenceDefinition] = []
    defs += _seq("RefRole", _STAFF_ROLES_BY_SORT, "imsglobal.org")
    defs += _seq("RefRole", ["aide", "student", "other"], "imsglobal.org", start=290)
    defs += _seq(
        "RefOrgType",
        (
            "school department district local state national departmentOfEducation ministryOfEducation "
            "university college campus adultEducation municipality academicTrust localAuthority region "
            "division province researchCenter program"
        ).split(),
        "imsglobal.org",
    )
    defs += _seq("RefGradeLevel", _K12_GRADES + _HIGHER_ED_GRADES, "ceds.ed.gov")
    defs += _seq("RefSessionType", ["schoolYear", "semester", "term", "gradingPeriod", "quarter"], "imsglobal.org")
    defs += [
        ReferenceDefinition("RefAcademicSubject", code, (i + 1) * 10, "microsoft.com", name)
        for i, (code, name) in enumerate(_SUBJECTS.items())
    ]
    defs += _seq("RefSex", ["male", "female", "notSelected"], "ceds.ed.gov")
    defs += _seq(
        "RefRace",
        [
            "americanIndianOrAlaskaNative",
            "asian",
            "blackOrAfricanAmerican",
            "nativeHawaiianOrOtherPacificIslander",
            "white",
            "demographicRaceTwoOrMoreRaces",
        ],
        "ceds.ed.gov",
    )
    defs += _seq("RefEthnicity", ["hispanicOrLatinoEthnicity"], "ceds.ed.gov")
    defs += _seq(
        "RefPersonFlagType",
        ["504", "ell", "freeLunch", "giftedOrTalented", "homeless", "iep", "lep", "reducedLunch"],
        "microsoft.com",
    )
    defs += _seq("RefRelationshipRole", ["parent", "guardian", "relative", "other", "doctor", "aide"], "imsglobal.org")
    defs += _seq(
        "RefSectionRole",
        (
            "student teacher teacherAssistant aide aid paraprofessional principal proctor specialServices "
            "professor advisor administrator lecturer coach occupationalTherapist affiliate assistant "
            "physicalTherapist adjunct staff speechTherapist visionTherapist instructor alumni chair itAdmin "
            "officeStaff substitute"
        ).split(),
        "imsglobal.org",
    )
    defs += [ReferenceDefinition("RefIdentifierType", "username", 40, "imsglobal.org")]
    defs += [ReferenceDefinition("RefUserMatchTarget", "userPrincipalName", 10, "microsoft.com")]
    defs += _seq("RefFileFormat", ["schoolDataSyncV1", "schoolDataSyncV2Rev1"], "microsoft.com")
    defs += [ReferenceDefinition("RefEmailAddressType", "home", 10, "ceds.ed.gov")]
    return defs


DEFAULT_ROLE_GROUPS = (
    RoleGroup("staff", "Staff", tuple(sorted([*_STAFF_ROLES_BY_SORT, "aide"], key=str.lower))),
    RoleGroup("students", "Students", ("student",)),
)


class ReferenceData:
    """The reference definitions in force for one tenant: defaults plus tenant codes, minus disabled ones."""

    def __init__(self, definitions: list[ReferenceDefinition] | None = None):
        defs = default_definitions() if definitions is None else list(definitions)
        self._by_id: dict[str, ReferenceDefinition] = {d.id: d for d in defs}

    @classmethod
    def default(cls) -> "ReferenceData":
        """The built-in SDS defaults."""
        return cls()

    def definitions(self, reference_type: str | None = None) -> list[ReferenceDefinition]:
        """All definitions (enabled or not), optionally of one type, in sort order."""
        defs = [d for d in self._by_id.values() if reference_type is None or d.reference_type == reference_type]
        return sorted(defs, key=lambda d: (d.reference_type, d.sort_index, d.code))

    def get(self, definition_id: str) -> ReferenceDefinition | None:
        """The definition with this ``{referenceType}-{code}`` id, if any."""
        return self._by_id.get(definition_id)

    def codes(self, reference_type: str) -> dict[str, str]:
        """Enabled codes of a type as ``{lower-case code: canonical code}``, for case-insensitive matching."""
        return {d.code.lower(): d.code for d in self._by_id.values() if d.reference_type == reference_type and not d.is_disabled}

    def add(self, definition: ReferenceDefinition) -> "ReferenceData":
        """A copy with a tenant-defined code added; the type must be extendable and the code new."""
        if definition.reference_type not in TENANT_EXTENDABLE_TYPES:
            raise ValueError(f"reference type {definition.reference_type} cannot be extended by a tenant")
        if definition.id in self._by_id:
            raise ValueError(f"reference definition {definition.id} already exists")
        if any(
            d.sort_index == definition.sort_index
            for d in self._by_id.values()
            if d.reference_type == definition.reference_type
        ):
            raise ValueError(f"sortIndex {definition.sort_index} is already used in {definition.reference_type}")
        return ReferenceData([*self._by_id.values(), definition])

    def disable(self, definition_id: str) -> "ReferenceData":
        """A copy in which the definition is disabled (Graph's DELETE is this soft delete)."""
        if definition_id not in self._by_id:
            raise KeyError(definition_id)
        defs = dict(self._by_id)
        defs[definition_id] = replace(defs[definition_id], is_disabled=True)
        return ReferenceData(list(defs.values()))


def reference_markdown(reference: ReferenceData | None = None) -> str:
    """docs/reference-data.md, generated from the default reference data and role groups."""
    reference = reference or ReferenceData.default()
    lines = [
        "# Reference data: default lists of values and role groups",
        "",
        "Generated by `homeroom reference --markdown` from `homeroom/model/reference.py`; do not edit by hand.",
        "",
        "Enumerated columns are checked against these codes, case-insensitively, and stored in the",
        "canonical spelling shown here. Ids follow Microsoft Graph's `{referenceType}-{code}`. For",
        "`RefGradeLevel` and `RefAcademicSubject` a one-digit number matches its two-digit code (`1` is `01`).",
        f"Tenants may add codes to: {', '.join(sorted(TENANT_EXTENDABLE_TYPES))}; any default code can be disabled.",
        "",
        "Where Microsoft's documentation could not be read in full (session types, sex, flags, enrollment",
        "roles, subject names), the lists follow Microsoft's samples and the most widely used libraries.",
        "",
    ]
    types = sorted({d.reference_type for d in reference.definitions()})
    for ref_type in types:
        defs = reference.definitions(ref_type)
        lines += [f"## {ref_type}", "", "| code | sortIndex | source | display name |", "|---|---|---|---|"]
        lines += [f"| `{d.code}` | {d.sort_index} | {d.source} | {d.display_name or ''} |" for d in defs]
        lines.append("")
    lines += ["## Role groups", "", "| id | display name | roles |", "|---|---|---|"]
    lines += [f"| `{g.id}` | {g.display_name} | {', '.join(g.roles)} |" for g in DEFAULT_ROLE_GROUPS]
    lines.append("")
    return "\n".join(lines)
