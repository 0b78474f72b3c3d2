"""Roster formats: one folder per format, each with the same files.

``__init__.py`` holds the format (a ``CsvFormat``), ``files.py`` its files and how their columns map
to entities, ``sources.py`` how its rows become canonical source rows when that is more than a
rename, ``checks.py`` its own package checks, ``rules.py`` the rule codes only it reports.
"""

from homeroom.inbound.formats.base import CsvFormat, FileSpec
from homeroom.inbound.formats.sds_v21 import SDS_V21
from homeroom.inbound.formats.sds_v1 import SDS_V1, SDS_V1_UK
from homeroom.inbound.formats.sds_v20 import SDS_V20
from homeroom.inbound.formats.oneroster import ONEROSTER_V11, ONEROSTER_V12

#: The formats this version reads, by their ``--format`` name.
FORMATS: dict[str, CsvFormat] = {SDS_V21.name: SDS_V21}
# SDS v1 classic (US and UK headers) and the legacy SDS v2.0, read into the same canonical model.
FORMATS.update({f.name: f for f in (SDS_V1, SDS_V1_UK, SDS_V20)})
# OneRoster 1.1 and 1.2 CSV, bulk and delta.
FORMATS.update({f.name: f for f in (ONEROSTER_V11, ONEROSTER_V12)})



def formats_of_code(code: str | None) -> tuple[str, ...]:
    """The ``--format`` names a connector's ``fileFormat`` code stands for (``schoolDataSyncV1``: US and UK headers)."""
    return tuple(name for name, fmt in FORMATS.items() if fmt.file_format_code == code)


def file_format_code(value: str | None) -> str | None:
    """A connector's ``fileFormat`` code for a ``--format`` name or a code (one vocabulary in the store)."""
    if value is None or value in FORMATS:
        return None if value is None else FORMATS[value].file_format_code
    return value


__all__ = ["file_format_code", "formats_of_code", "CsvFormat", "FileSpec", "FORMATS", "SDS_V21", "SDS_V1", "SDS_V1_UK", "SDS_V20", "ONEROSTER_V11", "ONEROSTER_V12"]
