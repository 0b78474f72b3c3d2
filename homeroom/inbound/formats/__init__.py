"""Roster formats: one module per format, each describing its files and how columns map to entities."""

from homeroom.inbound.formats.base import CsvFormat, FileSpec
from homeroom.inbound.formats.sds_v21 import SDS_V21

#: The formats this version reads, by their ``--format`` name.
FORMATS: dict[str, CsvFormat] = {SDS_V21.name: SDS_V21}

__all__ = ["CsvFormat", "FileSpec", "FORMATS", "SDS_V21"]
