"""Roster formats: one module per format, each describing its files and how columns map to entities."""

from homeroom.inbound.formats.base import CsvFormat, FileSpec
from homeroom.inbound.formats.sds_v21 import SDS_V21
from homeroom.inbound.formats.sds_v1 import SDS_V1, SDS_V1_UK
from homeroom.inbound.formats.sds_v20 import SDS_V20
from homeroom.inbound.formats.oneroster import ONEROSTER_V11, ONEROSTER_V12

#: The formats this version reads, by their ``--format`` name.
FORMATS: dict[str, CsvFormat] = {SDS_V21.name: SDS_V21}
# SDS v1 classic (US and UK headers) and the legacy SDS v2.0, read into the same canonical model.
FORMATS.update({f.name: f for f in (SDS_V1, SDS_V1_UK, SDS_V20)})
# OneRoster 1.1 and 1.2 CSV, bulk and delta (homeroom/inbound/formats/oneroster/).
FORMATS.update({f.name: f for f in (ONEROSTER_V11, ONEROSTER_V12)})

__all__ = ["CsvFormat", "FileSpec", "FORMATS", "SDS_V21", "SDS_V1", "SDS_V1_UK", "SDS_V20", "ONEROSTER_V11", "ONEROSTER_V12"]
