"""What a synthetic package format is: how the clean district becomes its files, and its defect kinds.

Every format family has one module here with the same shape (``sds_v21.py``, ``sds_v1.py``,
``oneroster.py``): a function that turns the clean district (``homeroom.synthetic.district``, one
SDS v2.1-shaped text table per canonical entity) into the format's files, the format's defect
kinds per file, and a ``Planter`` subclass when those kinds need more than copies of clean rows.
The writers follow the readers' column maps (``homeroom.inbound.formats``), so that a generated
package reads back into the canonical model the reader documents in docs/formats.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from homeroom.synthetic.defects import DefectKinds, Planter
from homeroom.synthetic.district import District, constant

#: Turns the clean district into the format's clean files: file name -> text table whose columns
#: are the file's header, in the order the files are written. It may take the district's tables
#: over (the SDS v2.1 writer returns them as they are).
CleanFiles = Callable[[District], dict[str, pa.Table]]


@dataclass(frozen=True)
class PackageFormat:
    """How the generator writes a district in one roster format."""

    #: The ``--format`` name, as ``homeroom validate --format`` knows it.
    name: str
    #: The format's clean files (see ``CleanFiles``).
    clean_files: CleanFiles
    #: The defect kinds planted in each file.
    defect_kinds: DefectKinds
    #: Builds the defect rows; formats whose kinds need pools of users subclass ``Planter``.
    planter: type[Planter] = Planter
    #: Clean rows per file that by design read back as no record of the file's entity, so they do not
    #: count as valid (OneRoster 1.2: contacts' roles.csv rows, which the reader leaves out).
    not_carried: Callable[[dict[str, pa.Table]], dict[str, int]] = lambda files: {}
    #: For docs/generator.md: what the files carry of the district, and which defects the format cannot have.
    notes: str = ""


def text_column(values: pl.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """A text column without nulls (blank is the empty string), as the CSV writer needs it."""
    array = values.to_arrow() if isinstance(values, pl.Series) else values
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return pc.fill_null(array.cast(pa.string()), "")


def file_table(headers: list[str], rows: int, values: dict[str, pl.Series | pa.Array | pa.ChunkedArray]) -> pa.Table:
    """A file's table: every header in order, blank where ``values`` gives no column."""
    unknown = set(values) - set(headers)
    assert not unknown, f"not columns of the file: {sorted(unknown)}"
    return pa.table({h: text_column(values[h]) if h in values else constant("", rows) for h in headers})
