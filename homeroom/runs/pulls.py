"""A run's pull from a OneRoster API connector: the connector as a pull's configuration, and its state between runs.

The high-water mark of a pull is kept on the connector (``settings["pull"]``, never shown by the API) only when the
run wrote the pull to the lake: a failed or discarded run leaves it where it was, so the next pull asks again for
everything since the last pull that counted. A held run keeps it with its held data (``pull.json`` in the run's
folder) until it is approved.
"""

from __future__ import annotations

import json
from pathlib import Path

from homeroom.inbound.oneroster_api import OAUTH1, OAUTH2, ConnectorConfig, OneRosterCredential, PullState
from homeroom.settings import Settings
from homeroom.store.models import DataConnector

STATE_KEY = "pull"
STATE_FILE = "pull.json"


def credential_of(connector: DataConnector, settings: Settings) -> OneRosterCredential:
    """The connector's credential with its secret, signed and sent as the settings say."""
    stored = (connector.settings or {}).get("credential") or {}
    kind = OAUTH1 if str(stored.get("@odata.type", "")).endswith(OAUTH1) else OAUTH2
    return OneRosterCredential(
        kind=kind, client_id=stored.get("clientId") or "", client_secret=(connector.secrets or {}).get("clientSecret") or "",
        token_url=stored.get("tokenUrl"), scope=stored.get("scope"),
        signature_method=settings.oneroster_oauth1_signature_method, client_auth=settings.oneroster_token_client_auth)


def config_of(connector: DataConnector, settings: Settings) -> ConnectorConfig:
    """What a pull of the connector needs."""
    s = connector.settings or {}
    return ConnectorConfig(base_url=s.get("baseUrl") or "", version=str(s.get("apiVersion") or "1.1"),
                           credential=credential_of(connector, settings),
                           demographics=bool(s.get("isDemographicsEnabled")), contacts=bool(s.get("isContactsEnabled")))


def format_of(connector: DataConnector) -> str:
    """The OneRoster CSV format a pull's rows are read as (``oneroster-1.2`` for apiVersion 1.2)."""
    return "oneroster-1.2" if str((connector.settings or {}).get("apiVersion")) == "1.2" else "oneroster-1.1"


def state_of(connector: DataConnector) -> PullState | None:
    return PullState.from_dict((connector.settings or {}).get(STATE_KEY))


def keep_state(folder: Path, state: PullState) -> None:
    """Keep a pull's state beside the run's activity until the run writes the lake."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STATE_FILE).write_text(json.dumps(state.as_dict()), "utf-8")


def commit_state(connector: DataConnector, folder: Path) -> None:
    """The run wrote the pull: the connector's next pull starts from its high-water mark."""
    path = folder / STATE_FILE
    if path.exists():
        connector.settings = {**(connector.settings or {}), STATE_KEY: json.loads(path.read_text("utf-8"))}
