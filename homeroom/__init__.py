"""Homeroom: open-source, self-hosted roster sync.

Roster data flows one way through the packages of this project:
``inbound`` (read a package) -> ``validate`` (basic then record checks) -> later stages
(lake, match, outbound). ``model`` holds the canonical tables and reference data.
"""

__version__ = "0.1.0"
