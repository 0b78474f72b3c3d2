"""A tenant's reference data: the seeded defaults, plus the codes it added, with the changes it made to them.

Validation and the API both read ``tenant_reference_data``, so a code a tenant adds or disables through the
API is the one its runs check against.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from homeroom.model.reference import ReferenceData, ReferenceDefinition, default_definitions
from homeroom.store.models import TenantReferenceDefinition

TENANT_SOURCE = "Tenant Defined"


def _as_definition(row: TenantReferenceDefinition) -> ReferenceDefinition:
    return ReferenceDefinition(
        reference_type=row.reference_type, code=row.code, sort_index=row.sort_index, source=row.source,
        display_name=row.display_name, is_disabled=row.is_disabled, created=row.created, last_modified=row.last_modified,
    )


def tenant_rows(*, db: Session, tenant_id: str) -> list[TenantReferenceDefinition]:
    """The tenant's own rows (added codes and edited defaults)."""
    return list(db.scalars(select(TenantReferenceDefinition).where(TenantReferenceDefinition.tenant_id == tenant_id)))


def tenant_reference_data(*, db: Session, tenant_id: str) -> ReferenceData:
    """The reference data in force for a tenant: defaults overlaid with the tenant's rows."""
    by_id = {d.id: d for d in default_definitions()}
    for row in tenant_rows(db=db, tenant_id=tenant_id):
        definition = _as_definition(row)
        by_id[definition.id] = definition
    return ReferenceData(list(by_id.values()))


def save_definition(*, db: Session, tenant_id: str, definition: ReferenceDefinition) -> None:
    """Store a tenant's version of a definition (a new code, or a changed default)."""
    row = db.scalar(select(TenantReferenceDefinition).where(
        TenantReferenceDefinition.tenant_id == tenant_id,
        TenantReferenceDefinition.reference_type == definition.reference_type,
        TenantReferenceDefinition.code == definition.code,
    ))
    if row is None:
        row = TenantReferenceDefinition(tenant_id=tenant_id, reference_type=definition.reference_type, code=definition.code,
                                        created=definition.created)
        db.add(row)
    row.display_name = definition.display_name
    row.sort_index = definition.sort_index
    row.source = definition.source
    row.is_disabled = definition.is_disabled
    row.last_modified = definition.last_modified
    db.flush()

