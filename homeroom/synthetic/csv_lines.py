"""Render text tables as CSV lines and write SDS files, with defect rows spliced in.

``pyarrow.csv.write_csv`` quotes every string when asked to quote "as needed", so lines are rendered
here instead: a value is quoted only when it holds a comma, a double quote or a line break (RFC 4180,
as SIS exports do). Rendering is columnar (pyarrow compute over whole columns), and the file is
written chunk by chunk straight from the rendered lines' Arrow buffer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Lines rendered and written per chunk; bounds memory and keeps string offsets within 32 bits.
LINES_PER_CHUNK = 1 << 20
_NEEDS_QUOTES = r'[",\r\n]'


def quote_as_needed(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The values as CSV fields: quoted, with inner quotes doubled, only where a value needs it."""
    needs_quotes = pc.match_substring_regex(values, _NEEDS_QUOTES)
    if not pc.any(needs_quotes).as_py():
        return values
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.if_else(needs_quotes, quoted, values)


def render_lines(table: pa.Table) -> pa.Array:
    """One CSV line per row (without the line ending); every column must be text without nulls."""
    fields = [quote_as_needed(table.column(i)) for i in range(table.num_columns)]
    if len(fields) == 1:
        lines = fields[0]
    else:
        lines = pc.binary_join_element_wise(*fields, ",")
    return lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines


def splice_order(clean_rows: int, inserted: int, raw: int, appended: int, rng: np.random.Generator) -> np.ndarray:
    """The order of a file's lines, as indices into [clean rows, inserted rows, appended rows, raw lines].

    Inserted rows and raw lines go to random positions among the clean rows (never inside another
    record, since every index is a whole record); appended rows go at the end, in their own order.
    """
    records = clean_rows + inserted + appended
    extras = np.concatenate(
        [np.arange(clean_rows, clean_rows + inserted), np.arange(records, records + raw)]
    ).astype(np.int64)
    extras = extras[rng.permutation(len(extras))]
    positions = np.sort(rng.integers(0, clean_rows + 1, size=len(extras)))
    order = np.insert(np.arange(clean_rows, dtype=np.int64), positions, extras)
    return np.concatenate([order, np.arange(clean_rows + inserted, records, dtype=np.int64)])


def write_csv_file(
    path: Path,
    header: tuple[str, ...],
    rows: pa.Table,
    raw_lines: pa.Array,
    order: np.ndarray,
) -> int:
    """Write the header and then ``rows`` and ``raw_lines`` in ``order`` (see ``splice_order``); returns bytes written.

    Files are UTF-8 without a byte-order mark, with LF line endings.
    """
    record_count = rows.num_rows
    written = 0
    with open(path, "wb") as out:
        written += out.write((",".join(header) + "\n").encode("utf-8"))
        for start in range(0, len(order), LINES_PER_CHUNK):
            chunk = order[start : start + LINES_PER_CHUNK]
            is_record = chunk < record_count
            lines = render_lines(rows.take(pa.array(chunk[is_record])))
            if not is_record.all():
                raw = raw_lines.take(pa.array(chunk[~is_record] - record_count))
                merged_position = np.empty(len(chunk), dtype=np.int64)
                merged_position[np.flatnonzero(is_record)] = np.arange(len(lines))
                merged_position[np.flatnonzero(~is_record)] = len(lines) + np.arange(len(raw))
                lines = pa.concat_arrays([lines, raw.cast(pa.string())]).take(pa.array(merged_position))
            written += _write_lines(out, lines)
    return written


def _write_lines(out, lines: pa.Array) -> int:
    """Write each line followed by LF, straight from the Arrow data buffer."""
    if len(lines) == 0:
        return 0
    terminated = pc.binary_join_element_wise(lines, "", "\n")
    if isinstance(terminated, pa.ChunkedArray):
        terminated = terminated.combine_chunks()
    offsets = np.frombuffer(terminated.buffers()[1], dtype=np.int32)
    first, last = int(offsets[terminated.offset]), int(offsets[terminated.offset + len(terminated)])
    return out.write(terminated.buffers()[2][first:last])
