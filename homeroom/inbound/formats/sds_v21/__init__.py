"""Microsoft School Data Sync v2.1 CSV (``RefFileFormat`` ``schoolDataSyncV2Rev1``).

Ten files; ``orgs.csv``, ``users.csv`` and ``roles.csv`` are required, ``classes.csv`` and
``enrollments.csv`` come together. File names and headers are case-sensitive. Columns map by
header name, so their order does not matter. Source: ``shared/spec/roster-csv-formats.md`` §2.

Each file fills one entity by renaming its columns (``files.py``; read with ``direct_sources``):
the format has no package checks and no rules of its own.
"""

from homeroom.inbound.formats.base import CsvFormat
from homeroom.inbound.formats.sds_v21.files import FILES

SDS_V21 = CsvFormat(
    name="sds-v2.1",
    display_name="SDS v2.1 CSV",
    file_format_code="schoolDataSyncV2Rev1",
    files=FILES,
    together=(("classes.csv", "enrollments.csv"),),
)
