"""The roster formats the generator writes, one module per format family (see ``base.py``)."""

from homeroom.synthetic.defects import defects_markdown
from homeroom.synthetic.formats.base import PackageFormat
from homeroom.synthetic.formats.oneroster import ONEROSTER_V11, ONEROSTER_V12
from homeroom.synthetic.formats.sds_v1 import SDS_V1_UK_HEADERS, SDS_V1_US
from homeroom.synthetic.formats.sds_v21 import SDS_V21

#: The default format of ``homeroom generate``.
DEFAULT_FORMAT = SDS_V21.name
#: Every format the generator writes, by its ``--format`` name.
PACKAGE_FORMATS: dict[str, PackageFormat] = {
    f.name: f for f in (SDS_V21, SDS_V1_US, SDS_V1_UK_HEADERS, ONEROSTER_V11, ONEROSTER_V12)
}



def defect_tables_markdown() -> str:
    """The defect kinds of every format, for docs/generator.md: a table per format and what it cannot have."""
    parts = []
    for fmt in PACKAGE_FORMATS.values():
        parts += [f"### `--format {fmt.name}`", "", fmt.notes, "", defects_markdown(fmt.defect_kinds)]
    return "\n".join(parts)


__all__ = ["DEFAULT_FORMAT", "PACKAGE_FORMATS", "PackageFormat", "defect_tables_markdown"]
