"""Pulling rosters from a OneRoster REST API (1.1 and 1.2): the source behind a ``oneRosterApiDataConnector``.

A pull produces the same ``Batch`` as ``read_package`` does for a CSV package, so that validation, the lake, holds
and statistics do not change. Modules, in the order a pull uses them:

- ``auth.py``: signing in: OAuth 1.0a request signing (HMAC-SHA256 or HMAC-SHA1), OAuth 2 client-credentials tokens;
- ``client.py``: the API root of a version, requests with retries, a collection read page by page and checked
  (``IncompletePull`` for anything less than the whole collection);
- ``collections.py``: the collections read, their JSON, and each page as rows of the OneRoster CSV file it stands for;
- ``pull.py``: full or delta, the high-water mark, the rows read by the OneRoster CSV format into a ``Batch``;
- ``check.py``: the check behind the connector's ``validate``.
"""

from homeroom.inbound.formats import ONEROSTER_V11
from homeroom.inbound.oneroster_api.auth import OAUTH1, OAUTH2, OneRosterCredential
from homeroom.inbound.oneroster_api.check import check_connection
from homeroom.inbound.oneroster_api.client import OneRosterClient, api_root
from homeroom.inbound.oneroster_api.pull import ConnectorConfig, Pull, PullState, pull

#: The rows a delta pull restates as a whole, in either version: a user's record lists all of its roles (1.1
#: ``role`` + ``orgs``, 1.2 ``roles``) and agents, so they replace the earlier ones; an enrollment is its own record.
DELTA_OWNERS = dict(ONEROSTER_V11.delta_owners)

__all__ = ["DELTA_OWNERS", "OAUTH1", "OAUTH2", "ConnectorConfig", "OneRosterClient", "OneRosterCredential", "Pull",
           "PullState", "api_root", "check_connection", "pull"]
