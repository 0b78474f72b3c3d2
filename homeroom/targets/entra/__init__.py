"""Microsoft Entra ID targets, read through Microsoft Graph v1.0 with httpx: ``config``, ``client``, ``reader``."""

from homeroom.targets import register_kind
from homeroom.targets.base import TargetKind
from homeroom.targets.entra.client import open_target
from homeroom.targets.entra.config import SECRETS, Config

KIND = register_kind(TargetKind(name="entra", title="Microsoft Entra ID (Graph)", config=Config, secrets=SECRETS, open=open_target))
