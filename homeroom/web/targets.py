"""The directory targets pages' forms: a target's settings as form fields, derived from its kind's settings model, and
read back from a posted form; secrets are write-only.

Each kind of target (``homeroom/targets/<kind>/config.py``) declares its settings once, as a Pydantic model; the form
is derived from it (a checkbox for a yes/no setting, a choice for a fixed set of values, comma-separated text for a
list, text for the rest), so a new setting appears on the page without touching it. What the form sends is checked by
the same model as ``homeroom targets add`` (``homeroom.targets.service.validated_settings``): an error names the field.

A secret is never sent to the browser: the page says whether it is set, and a password field (empty) replaces it when
something is typed into it; left empty, the stored secret is kept.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeroom.store.models import DirectoryTarget
from homeroom.targets import kind_of


@dataclass(frozen=True)
class SettingField:
    """One setting of a target as a form field."""

    name: str
    description: str
    kind: str  #: ``bool``, ``choice``, ``list`` or ``text``
    required: bool
    value: Any  #: bool for ``bool``, text otherwise
    choices: tuple[str, ...] = ()


def _kind(annotation: Any) -> tuple[str, tuple[str, ...]]:
    """How a setting's type is edited: (field kind, choices)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:  # Optional[X]
        annotation = args[0]
    if annotation is bool:
        return "bool", ()
    if typing.get_origin(annotation) is typing.Literal:
        return "choice", tuple(str(a) for a in typing.get_args(annotation))
    if typing.get_origin(annotation) in (list, tuple):
        return "list", ()
    return "text", ()


def setting_fields(target: DirectoryTarget) -> list[SettingField]:
    """The target's settings as form fields, with their stored values (else the model's defaults)."""
    fields = []
    for name, info in kind_of(target.kind).config.model_fields.items():
        kind, choices = _kind(info.annotation)
        stored = (target.settings or {}).get(name, None if info.is_required() else info.get_default(call_default_factory=True))
        if kind == "bool":
            value: Any = bool(stored)
        elif kind == "list":
            value = ", ".join(str(v) for v in stored or [])
        else:
            value = "" if stored is None else str(stored)
        fields.append(SettingField(name, info.description or "", kind, info.is_required(), value, choices))
    return fields


def settings_from_form(target: DirectoryTarget, form: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a posted form gives (``setting-<name>`` fields); a blank text leaves the setting to its default
    (a required one is then refused by the model, naming it)."""
    settings: dict[str, Any] = {}
    for name, info in kind_of(target.kind).config.model_fields.items():
        kind, _choices = _kind(info.annotation)
        raw = form.get(f"setting-{name}")
        text = raw.strip() if isinstance(raw, str) else ""
        if kind == "bool":
            settings[name] = raw is not None
        elif kind == "list":
            settings[name] = [item.strip() for item in text.split(",") if item.strip()]
        elif text:
            settings[name] = text
    return settings


def secrets_from_form(target: DirectoryTarget, form: Mapping[str, Any]) -> dict[str, str]:
    """The secrets typed into the form (``secret-<name>``); empty fields are not in it."""
    out = {}
    for name in kind_of(target.kind).secrets:
        value = form.get(f"secret-{name}")
        if isinstance(value, str) and value:
            out[name] = value
    return out
