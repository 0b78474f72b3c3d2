"""SCIM 2.0 targets (RFC 7643/7644), read with scim2-client: ``config``, ``client``, ``reader``."""

from homeroom.targets import register_kind
from homeroom.targets.base import TargetKind
from homeroom.targets.scim.client import open_target
from homeroom.targets.scim.config import SECRETS, Config

KIND = register_kind(TargetKind(name="scim", title="SCIM 2.0 service", config=Config, secrets=SECRETS, open=open_target))
