"""Inbound: read roster sources into canonical source rows, with the findings of the package checks.

``read_package`` is the entry point for CSV packages (folders and zip archives): it returns a
``Batch`` (``batch.py``), which the validate stage checks record by record. Inside:
``package`` opens a folder or zip safely; ``csv_reader`` parses one CSV file strictly, line by
line; ``detect`` tells formats apart; ``checks`` checks file names and headers; ``formats``
describes each roster format's files and columns, its own package checks and rules; ``rules``
holds the codes of this stage's own checks.
"""

from homeroom.inbound.batch import Batch, FileStats, Mode, Progress, SourceRows
from homeroom.inbound.reader import read_package

__all__ = ["Batch", "FileStats", "Mode", "Progress", "SourceRows", "read_package"]
