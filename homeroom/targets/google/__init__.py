"""Google Workspace targets, read through the Admin SDK Directory API: ``config``, ``client``, ``reader``."""

from homeroom.targets import register_kind
from homeroom.targets.base import TargetKind
from homeroom.targets.google.client import open_target
from homeroom.targets.google.config import SECRETS, Config

KIND = register_kind(TargetKind(name="google", title="Google Workspace (Directory API)", config=Config, secrets=SECRETS,
                                open=open_target))
