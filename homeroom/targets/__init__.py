"""Directory targets: one folder per kind (see :mod:`homeroom.targets.base` for the shape each follows)."""

from __future__ import annotations

from homeroom.errors import ConfigurationError
from homeroom.targets.base import ACCOUNT_SCHEMA, DEFAULT_PAGE_SIZE, GROUP_KINDS, GROUP_SCHEMA, Target, TargetKind

#: Every kind of target, by name; each target folder registers itself here with :func:`register_kind`.
KINDS: dict[str, TargetKind] = {}


def register_kind(kind: TargetKind) -> TargetKind:
    """Make a kind of target known (idempotent for the same kind)."""
    known = KINDS.setdefault(kind.name, kind)
    if known is not kind:
        raise ValueError(f"a target kind {kind.name!r} is already registered")
    return kind


def kind_of(name: str) -> TargetKind:
    """The kind called ``name``; an unknown name is a configuration error listing the known ones."""
    _load()
    try:
        return KINDS[name]
    except KeyError:
        raise ConfigurationError(f"unknown target kind {name!r}; known kinds: {', '.join(sorted(KINDS))}") from None


def _load() -> None:
    """Import every target folder, so each registers its kind (kept lazy: their clients are heavy imports)."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.ispkg:
            importlib.import_module(f"{__name__}.{module.name}")


__all__ = ["ACCOUNT_SCHEMA", "DEFAULT_PAGE_SIZE", "GROUP_KINDS", "GROUP_SCHEMA", "KINDS", "Target", "TargetKind", "kind_of", "register_kind"]
