"""Plain service functions over the ``directory_targets`` table: add, list, get, connect, record state.

Secrets are stored as given and never returned: ``target_json`` shows only which secrets are set. Every function
takes the session as ``db`` and is tenant-scoped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from homeroom.errors import ConfigurationError, ConflictError, NotFoundError
from homeroom.store import service
from homeroom.store.models import DirectoryTarget, SourceSystem, iso, utcnow
from homeroom.targets import kind_of
from homeroom.targets.base import Target

#: A target's name names a lake partition and appears in commands: letters, digits, '.', '_' and '-'.
TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def validated_settings(kind: str, settings: Mapping[str, Any]) -> dict:
    """A kind's settings checked by its model; an error names the target kind and each bad field."""
    model = kind_of(kind).config
    try:
        return model.model_validate(dict(settings)).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"{kind} target settings are not valid: {problems}") from None


def add_target(*, db: Session, tenant_id: str, name: str, kind: str, settings: Mapping[str, Any],
               secrets: Mapping[str, str], source_systems: list[str] | None = None) -> DirectoryTarget:
    """A new target of ``kind``; its settings validated, only its kind's secrets accepted."""
    if not TARGET_NAME.fullmatch(name):
        raise ConfigurationError(f"{name!r} cannot name a target: 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit")
    known = kind_of(kind)
    if unknown := sorted(set(secrets) - set(known.secrets)):
        raise ConfigurationError(f"{kind} targets have no secret {', '.join(unknown)}; their secrets: {', '.join(known.secrets) or 'none'}")
    service.ensure_tenant(db=db, tenant_id=tenant_id)
    if db.scalars(select(DirectoryTarget).where(DirectoryTarget.tenant_id == tenant_id, DirectoryTarget.name == name)).first():
        raise ConflictError(f"target {name!r} already exists in tenant {tenant_id!r}")
    row = DirectoryTarget(tenant_id=tenant_id, name=name, kind=kind, settings=validated_settings(kind, settings),
                          secrets=dict(secrets), source_system_ids=_source_ids(db, tenant_id, source_systems or []))
    db.add(row)
    db.flush()
    return row


def _source_ids(db: Session, tenant_id: str, names_or_ids: list[str]) -> list[str]:
    ids = []
    for wanted in names_or_ids:
        found = db.scalars(select(SourceSystem).where(SourceSystem.tenant_id == tenant_id).where(
            (SourceSystem.id == wanted) | (SourceSystem.display_name == wanted))).first()
        if found is None:
            raise NotFoundError(f"no source system {wanted!r} in tenant {tenant_id!r}")
        ids.append(found.id)
    return ids


def set_source_systems(*, db: Session, tenant_id: str, target: DirectoryTarget, source_systems: list[str]) -> None:
    """Which source systems' people runs match against the target."""
    target.source_system_ids = _source_ids(db, tenant_id, source_systems)
    target.last_modified = utcnow()


def update_target(*, db: Session, tenant_id: str, target: DirectoryTarget, settings: Mapping[str, Any] | None = None,
                  secrets: Mapping[str, str | None] | None = None, source_systems: list[str] | None = None,
                  replace_settings: bool = False) -> DirectoryTarget:
    """Change what is given: ``settings`` are merged into the stored ones (a ``None`` value removes a setting), or
    replace them with ``replace_settings`` (a form that shows every setting), and are validated as a whole;
    ``secrets`` replace the named secrets (``None`` or ``""`` clears one); ``source_systems`` replaces the list.
    The kind and the name never change (the name names the target's lake partitions)."""
    if settings is not None:
        merged = dict(settings) if replace_settings else {**(target.settings or {}), **settings}
        target.settings = validated_settings(target.kind, {k: v for k, v in merged.items() if v is not None})
    if secrets is not None:
        known = kind_of(target.kind)
        if unknown := sorted(set(secrets) - set(known.secrets)):
            raise ConfigurationError(
                f"{target.kind} targets have no secret {', '.join(unknown)}; their secrets: {', '.join(known.secrets) or 'none'}")
        kept = dict(target.secrets or {})
        for key, value in secrets.items():
            if value:
                kept[key] = value
            else:
                kept.pop(key, None)
        target.secrets = kept
    if source_systems is not None:
        target.source_system_ids = _source_ids(db, tenant_id, source_systems)
    target.last_modified = utcnow()
    db.flush()
    return target


def delete_target(*, db: Session, tenant_id: str, target: DirectoryTarget) -> None:
    """Forget a target's configuration and secrets. Refused while an outbound flow set provisions into it. Its
    snapshots and match links stay in the lake (``target`` partitions), as every lake table keeps its history."""
    from homeroom.store.models import OutboundFlowSet

    users = db.scalars(select(OutboundFlowSet.display_name).where(
        OutboundFlowSet.tenant_id == tenant_id, OutboundFlowSet.target_id == target.id)).all()
    if users:
        raise ConflictError(f"target {target.name!r} is the target of outbound flow set(s) {', '.join(sorted(users))}; "
                            "change or delete those first")
    db.delete(target)
    db.flush()


def list_targets(*, db: Session, tenant_id: str) -> list[DirectoryTarget]:
    """The tenant's targets, by name."""
    return list(db.scalars(select(DirectoryTarget).where(DirectoryTarget.tenant_id == tenant_id).order_by(DirectoryTarget.name)))


def get_target(*, db: Session, tenant_id: str, name: str) -> DirectoryTarget:
    """The tenant's target called ``name`` (or with that id)."""
    row = db.scalars(select(DirectoryTarget).where(DirectoryTarget.tenant_id == tenant_id).where(
        (DirectoryTarget.name == name) | (DirectoryTarget.id == name))).first()
    if row is None:
        names = ", ".join(t.name for t in list_targets(db=db, tenant_id=tenant_id)) or "none yet (homeroom targets add)"
        raise NotFoundError(f"no target {name!r} in tenant {tenant_id!r}; its targets: {names}")
    return row


def targets_for_source(*, db: Session, tenant_id: str, source_system_id: str) -> list[DirectoryTarget]:
    """The targets a run matches a source system's people against."""
    return [t for t in list_targets(db=db, tenant_id=tenant_id) if source_system_id in (t.source_system_ids or [])]


def connect(row: DirectoryTarget) -> Target:
    """An open connection to a stored target (its kind's ``open`` with its settings and secrets)."""
    return kind_of(row.kind).connect(row.name, row.settings, row.secrets)


def target_json(row: DirectoryTarget) -> dict:
    """A target as the CLI and the API show it: never a secret's value, only which secrets are set."""
    return {"id": row.id, "name": row.name, "kind": row.kind, "settings": row.settings,
            "secretsSet": sorted(k for k, v in (row.secrets or {}).items() if v),
            "sourceSystemIds": list(row.source_system_ids or []),
            "createdDateTime": iso(row.created), "lastModifiedDateTime": iso(row.last_modified)}
