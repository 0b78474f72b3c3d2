"""Reference data: Graph ids, the seeded defaults, tenant additions and soft deletes, and its docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeroom.model.reference import DEFAULT_ROLE_GROUPS, ReferenceData, ReferenceDefinition, reference_markdown


def test_ids_follow_graph_and_roles_keep_their_documented_sort_order():
    data = ReferenceData.default()
    roles = data.definitions("RefRole")
    assert [r.id for r in roles[:3]] == ["RefRole-principal", "RefRole-chair", "RefRole-professor"]
    assert {r.code: r.sort_index for r in roles}["alumni"] == 280
    assert data.get("RefOrgType-academicTrust").reference_type == "RefOrgType"
    assert data.codes("RefOrgType")["ministryofeducation"] == "ministryOfEducation"


def test_default_role_groups_are_staff_and_students():
    staff, students = DEFAULT_ROLE_GROUPS
    assert (staff.id, staff.display_name, len(staff.roles)) == ("staff", "Staff", 29)
    assert staff.roles[:5] == ("adjunct", "administrator", "advisor", "affiliate", "aide")
    assert (students.id, students.roles) == ("students", ("student",))
    assert "student" not in staff.roles and "other" not in staff.roles


def test_tenant_can_add_codes_only_to_extendable_types_with_a_free_sort_index():
    data = ReferenceData.default()
    added = data.add(ReferenceDefinition("RefGradeLevel", "TestGrade", 900, "Tenant Defined", "New Test Grade Level"))
    assert added.codes("RefGradeLevel")["testgrade"] == "TestGrade"
    assert "testgrade" not in data.codes("RefGradeLevel"), "add returns a copy"
    with pytest.raises(ValueError, match="RefRole cannot be extended"):
        data.add(ReferenceDefinition("RefRole", "wizard", 900, "Tenant Defined"))
    with pytest.raises(ValueError, match="already exists"):
        data.add(ReferenceDefinition("RefGradeLevel", "01", 901, "Tenant Defined"))
    with pytest.raises(ValueError, match="sortIndex 10 is already used"):
        data.add(ReferenceDefinition("RefGradeLevel", "ZZ", 10, "Tenant Defined"))


def test_disable_is_a_soft_delete():
    data = ReferenceData.default().disable("RefSex-notSelected")
    assert "notselected" not in data.codes("RefSex")
    assert data.get("RefSex-notSelected").is_disabled is True


def test_reference_docs_are_generated_from_the_code():
    docs = Path(__file__).parents[2] / "docs" / "reference-data.md"
    assert docs.read_text("utf-8") == reference_markdown(), "regenerate with: homeroom reference --markdown > docs/reference-data.md"
