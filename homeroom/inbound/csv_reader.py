"""Strict, fast CSV reading with exact source line numbers.

SDS does not allow line breaks inside values, so every physical line is one record. The reader
returns every column as text together with the source line number of each row, and turns broken
lines into findings instead of failing:

- a line with more or fewer fields than the header (``LineFieldCount``),
- a quoted value that is not closed on its line (``LineUnterminatedQuote``),
- a quoted value that runs over a line break (``LineBreakInValue``).

The rest of the file is always read. Clean files take a fast path (one multi-threaded PyArrow
parse and one newline count); only a file with a broken line pays for the line-by-line path.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

UTF8_BOM = b"\xef\xbb\xbf"
#: A physical line that opens a quote is joined with at most this many following lines.
MAX_LINES_PER_RECORD = 20
_SPLIT_DELIMITERS = [b"\x1f", b"\x1e", b"\x1d", b"\x1c", b"\x01", b"\x02", b"\x03"]


class EncodingProblem(Exception):
    """The file is not valid UTF-8; ``line`` and ``detail`` say where."""

    def __init__(self, line: int, detail: str):
        super().__init__(f"line {line}: {detail}")
        self.line = line
        self.detail = detail


class HeaderProblem(Exception):
    """The file has no usable header line."""


@dataclass
class LineFinding:
    """A broken line, before it becomes a finding of the file it belongs to."""

    rule: str
    line: int
    record_id: str | None
    values: dict[str, object] = field(default_factory=dict)


@dataclass
class RawTable:
    """One CSV file read as text: every column a string, plus the source line of each row."""

    header: list[str]
    table: pa.Table  # one string column per header position, named by the header
    lines: np.ndarray | None  # int64 source line of each row (the header is line 1); None: row i is line i + 2
    records: int  # records in the file, including those dropped by line checks
    line_findings: list[LineFinding]
    has_tab: bool = True  # whether the file holds a tab at all (if not, no value can be padded with one)


def strip_bom(data: bytes | memoryview) -> memoryview:
    """The data without a leading UTF-8 byte-order mark."""
    view = memoryview(data)
    return view[3:] if bytes(view[:3]) == UTF8_BOM else view


def split_header(data: memoryview) -> tuple[list[str], memoryview]:
    """The parsed header line and the rest of the data after it."""
    raw = bytes(data[: 1 << 20])
    ends = [i for i in (raw.find(b"\n"), raw.find(b"\r")) if i >= 0]
    end = min(ends) if ends else len(raw)
    if end >= 1 << 20:
        raise HeaderProblem("the first line is longer than 1 MiB")
    line = raw[:end]
    skip = end + (2 if raw[end : end + 2] == b"\r\n" else 1 if end < len(raw) else 0)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingProblem(1, f"invalid byte 0x{line[exc.start]:02x} at column {exc.start + 1}") from None
    if not text.strip():
        raise HeaderProblem("the file is empty or its first line is blank")
    header = [h.strip() for h in next(csv.reader([text]))]
    return header, data[skip:]


def read_csv_body(body: memoryview, header: list[str], *, allow_line_breaks: bool = False) -> RawTable:
    """Parse the data rows after the header; ``allow_line_breaks`` accepts quoted line breaks (RFC 4180)."""
    names = [f"c{i}" for i in range(len(header))]
    check_utf8(body, first_line=2)
    if len(body) == 0 or (len(body) < 64 and not bytes(body).strip(b"\r\n")):
        return RawTable(header, _empty(header), np.empty(0, np.int64), 0, [])
    raw = _fast_parse(body, header, names) or _line_by_line_parse(body, header, names, allow_line_breaks)
    raw.has_tab = _contains_byte(body, 9)
    return raw


def _contains_byte(body: memoryview, byte: int) -> bool:
    data = np.frombuffer(body, dtype=np.uint8)
    step = 1 << 26
    return any(bool((data[i : i + step] == byte).any()) for i in range(0, len(data), step))


def _empty(header: list[str]) -> pa.Table:
    return pa.table({h: pa.array([], pa.string()) for h in _unique_names(header)})


def _unique_names(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in header:
        n = seen.get(h, 0)
        seen[h] = n + 1
        out.append(h if n == 0 else f"{h}#{n + 1}")
    return out


def _arrow_read(buffer: pa.Buffer, names: list[str], handler=None, threads: bool = True) -> pa.Table:
    return pcsv.read_csv(
        buffer,
        read_options=pcsv.ReadOptions(column_names=names, use_threads=threads, block_size=1 << 24),
        parse_options=pcsv.ParseOptions(invalid_row_handler=handler),
        convert_options=pcsv.ConvertOptions(
            # An empty value is null; nothing else is ("NA" is a name, not a missing value).
            column_types={n: pa.string() for n in names}, null_values=[""], strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            check_utf8=False,  # read_csv_body validated the whole file once already
        ),
    )


def check_utf8(body: memoryview, first_line: int) -> None:
    """Raise ``EncodingProblem`` naming the line of the first invalid byte (Arrow's SIMD check, no copy)."""
    offsets = pa.py_buffer(np.array([0, len(body)], dtype=np.int64).tobytes())
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(body)]).cast(pa.large_string())
    except pa.ArrowInvalid:
        raise _encoding_problem(body, first_line) from None


def _encoding_problem(body: memoryview, first_line: int) -> EncodingProblem:
    data = bytes(body)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        return EncodingProblem(line, f"invalid byte 0x{data[exc.start]:02x} on line {line}")
    return EncodingProblem(first_line, "invalid UTF-8")


def _fast_parse(body: memoryview, header: list[str], names: list[str]) -> RawTable | None:
    """One threaded parse; ``None`` when the file needs the line-by-line path."""
    invalid: list[str] = []

    def collect(row: pcsv.InvalidRow) -> str:
        invalid.append(row.text)
        return "skip"

    buffer = pa.py_buffer(body)
    try:
        table = _arrow_read(buffer, names, collect)
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc):
            raise _encoding_problem(body, 2) from None
        return None
    if invalid:
        return None
    newlines = _count_newlines(body)
    expected_rows = newlines + (0 if bytes(body[-1:]) == b"\n" else 1)
    if table.num_rows != expected_rows:
        return None  # blank lines, quoted line breaks or lone CRs: line numbers need the slow path
    table = table.rename_columns(_unique_names(header))
    return RawTable(header, table, None, table.num_rows, [])


def _count_newlines(body: memoryview) -> int:
    """Newlines in ``body``, without copying it; counted in slices to bound the temporary memory."""
    data = np.frombuffer(body, dtype=np.uint8)
    step = 1 << 26
    return sum(int(np.count_nonzero(data[i : i + step] == 10)) for i in range(0, len(data), step))


def _split_lines(body: memoryview) -> pa.Array:
    """Every physical line as one string (\\n, \\r\\n and \\r all end a line)."""
    data = bytes(body)
    delimiter = next((d for d in _SPLIT_DELIMITERS if d not in data), None)
    if delimiter is None:
        return pa.array(data.decode("utf-8").splitlines(), pa.string())
    table = pcsv.read_csv(
        pa.py_buffer(body),
        read_options=pcsv.ReadOptions(column_names=["line"], use_threads=True, block_size=1 << 24),
        parse_options=pcsv.ParseOptions(delimiter=delimiter.decode(), quote_char=False, ignore_empty_lines=False),
        convert_options=pcsv.ConvertOptions(column_types={"line": pa.string()}, strings_can_be_null=False),
    )
    return table.column(0).combine_chunks()


def _first_field(text: str) -> str | None:
    try:
        fields = next(csv.reader([text]))
    except (csv.Error, StopIteration):
        fields = text.split(",", 1)
    value = fields[0].strip() if fields else ""
    return value or None


def _parse_python(text: str) -> list[str] | None:
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None


def _line_by_line_parse(body: memoryview, header: list[str], names: list[str], allow_line_breaks: bool) -> RawTable:
    try:
        lines = _split_lines(body)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        raise _encoding_problem(body, 2) from None
    n_lines = len(lines)
    line_numbers = np.arange(2, 2 + n_lines, dtype=np.int64)
    ncols = len(header)
    findings: list[LineFinding] = []

    quotes = pc.count_substring(lines, '"').to_numpy(zero_copy_only=False)
    blank = (pc.utf8_length(lines).to_numpy(zero_copy_only=False) == 0)
    odd = (quotes % 2) == 1
    consumed = blank.copy()
    rescued_rows: list[list[str]] = []
    rescued_lines: list[int] = []

    odd_positions = np.flatnonzero(odd)
    pos_iter = iter(odd_positions.tolist())
    for i in pos_iter:
        if consumed[i]:
            continue
        consumed[i] = True
        text_i = lines[i].as_py()
        joined = None
        for j in range(i + 1, min(n_lines, i + MAX_LINES_PER_RECORD)):
            if not odd[j]:
                continue
            candidate = "\n".join(lines[k].as_py() for k in range(i, j + 1))
            fields = _parse_python(candidate)
            if fields is not None and len(fields) == ncols:
                joined = (j, fields)
            break
        if joined is None:
            raw_id = text_i.split(",", 1)[0].strip().strip('"').strip()
            findings.append(LineFinding("LineUnterminatedQuote", int(line_numbers[i]), raw_id or None))
            continue
        j, fields = joined
        consumed[i : j + 1] = True
        if allow_line_breaks:
            rescued_rows.append(fields)
            rescued_lines.append(int(line_numbers[i]))
        else:
            findings.append(
                LineFinding("LineBreakInValue", int(line_numbers[i]), fields[0].strip() or None, {"last_line": int(line_numbers[j])})
            )

    good = ~consumed
    good_lines = lines.filter(pa.array(good))
    good_numbers = line_numbers[good]
    table, ragged_mask = _parse_good_lines(good_lines, names)
    if ragged_mask.any():
        for k in np.flatnonzero(ragged_mask).tolist():
            text = good_lines[k].as_py()
            fields = _parse_python(text)
            actual = len(fields) if fields is not None else text.count(",") + 1
            findings.append(
                LineFinding("LineFieldCount", int(good_numbers[k]), _first_field(text), {"actual": actual, "expected": ncols})
            )
    row_lines = good_numbers[~ragged_mask]
    if rescued_rows:
        extra = pa.table({n: pa.array([r[c] or None for r in rescued_rows], pa.string()) for c, n in enumerate(names)})
        table = pa.concat_tables([table, extra])
        row_lines = np.concatenate([row_lines, np.array(rescued_lines, np.int64)])
        order = np.argsort(row_lines, kind="stable")
        table = table.take(pa.array(order))
        row_lines = row_lines[order]
    table = table.rename_columns(_unique_names(header))
    findings.sort(key=lambda f: f.line)
    records = table.num_rows + len(findings)  # each line finding is one dropped record
    return RawTable(header, table, row_lines, records, findings)


def _parse_good_lines(good_lines: pa.Array, names: list[str]) -> tuple[pa.Table, np.ndarray]:
    """Parse single-line records; returns the table and a mask of the lines that were ragged."""
    n = len(good_lines)
    if n == 0:
        return pa.table({c: pa.array([], pa.string()) for c in names}), np.zeros(0, bool)
    import polars as pl

    joined = pl.Series(good_lines).str.join("\n").item().encode("utf-8") + b"\n"
    ragged_texts: list[str] = []

    def collect(row: pcsv.InvalidRow) -> str:
        ragged_texts.append(row.text)
        return "skip"

    try:
        table = _arrow_read(pa.py_buffer(joined), names, collect)
    except pa.ArrowInvalid:
        table = None
    if table is not None and table.num_rows + len(ragged_texts) == n:
        if not ragged_texts:
            return table, np.zeros(n, bool)
        mask = pc.is_in(good_lines, value_set=pa.array(ragged_texts, pa.string())).to_numpy(zero_copy_only=False)
        if int(mask.sum()) == len(ragged_texts):
            return table, mask
    # Rare: quote characters that make the parser join lines. Parse each line on its own.
    rows, mask = [], np.zeros(n, bool)
    for k, text in enumerate(good_lines.to_pylist()):
        fields = _parse_python(text)
        if fields is None or len(fields) != len(names):
            mask[k] = True
        else:
            rows.append(fields)
    table = pa.table({c: pa.array([r[i] or None for r in rows], pa.string()) for i, c in enumerate(names)})
    return table, mask
