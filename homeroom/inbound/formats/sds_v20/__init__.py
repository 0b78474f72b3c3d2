"""Microsoft School Data Sync v2.0 CSV (legacy; Microsoft superseded it with v2.1 in 2022).

Four files: ``orgs.csv`` and ``users.csv`` are required, ``classes.csv`` and ``enrollments.csv``
come together. There is no roles.csv: each users.csv row carries its memberships inline
(``orgSourcedIds``, a comma-separated list, with one ``role`` and ``grade``), and they are read
as one role membership per org. The package is read like v2.1 and gets one ``SupersededFormat``
warning. Source: ``shared/spec/roster-csv-formats.md`` §2.7.
"""

from homeroom.inbound.formats.base import CsvFormat
from homeroom.inbound.formats.sds_v20 import rules  # noqa: F401  (registers the format's rule codes)
from homeroom.inbound.formats.sds_v20.files import FILES
from homeroom.inbound.formats.sds_v20.sources import sds_v20_sources

SDS_V20 = CsvFormat(
    name="sds-v2.0",
    display_name="SDS v2.0 CSV (legacy)",
    # Graph's RefFileFormat has no code for v2.0 (only schoolDataSyncV1 and schoolDataSyncV2Rev1); this one is Homeroom's.
    file_format_code="schoolDataSyncV2",
    files=FILES,
    together=(("classes.csv", "enrollments.csv"),),
    to_sources=sds_v20_sources,
)
