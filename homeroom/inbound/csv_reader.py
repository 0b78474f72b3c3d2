"""Strict, fast CSV reading with exact source line numbers.

SDS does not allow line breaks inside values, so every physical line is one record. The reader
returns every column as text together with the source line number of each row, and turns broken
lines into findings instead of failing:

- a line with more or fewer fields than the header (``LineFieldCount``),
- a quoted value that is not closed on its line (``LineUnterminatedQuote``),
- a quoted value that runs over a line break (``LineBreakInValue``).

The rest of the file is always read. Every file is parsed once, in parts side by side, by a parse that
numbers its invalid rows; a clean file then needs only a newline count, a file with broken or blank
lines a scan for the line numbers, and only a file with unbalanced quotes a second parse.
"""

from __future__ import annotations

import csv
import io
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

UTF8_BOM = b"\xef\xbb\xbf"
#: A physical line that opens a quote is joined with at most this many following lines.
MAX_LINES_PER_RECORD = 20
#: Files at least this large are parsed in parts, side by side (see ``_numbered_read``).
PARALLEL_MIN_BYTES = 4 * 1024 * 1024


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
    raw = _parse(body, header, names, allow_line_breaks)
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


def _arrow_read(buffer: pa.Buffer, names: list[str], handler) -> pa.Table:
    """Parse single-threaded, the only way PyArrow numbers invalid rows (by non-empty line: empty ones are skipped)."""
    return pcsv.read_csv(
        buffer,
        read_options=pcsv.ReadOptions(column_names=names, use_threads=False, block_size=1 << 24),
        parse_options=pcsv.ParseOptions(invalid_row_handler=handler, ignore_empty_lines=True),
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


def _parse(body: memoryview, header: list[str], names: list[str], allow_line_breaks: bool) -> RawTable:
    """One parse, on every core, that numbers its invalid rows (``_numbered_read``).

    A file whose every line is one valid record needs nothing more (its row ``i`` is line ``i + 2``).
    Otherwise the careful path takes over, and reuses this parse unless some line's quotes do not balance
    (those lines are blanked and the rest parsed again).
    """
    try:
        first = _numbered_read(body, names)
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc):
            raise _encoding_problem(body, 2) from None
        first = None
    if first is not None and not first[1]:
        table = first[0]
        newlines = _count_newlines(body)
        if table.num_rows == newlines + (0 if bytes(body[-1:]) == b"\n" else 1):
            table = table.rename_columns(_unique_names(header))
            return RawTable(header, table, None, table.num_rows, [])
    return _line_by_line_parse(body, header, names, allow_line_breaks, first)


def _count_newlines(body: memoryview) -> int:
    """Newlines in ``body``, without copying it; counted in slices to bound the temporary memory."""
    data = np.frombuffer(body, dtype=np.uint8)
    step = 1 << 26
    return sum(int(np.count_nonzero(data[i : i + step] == 10)) for i in range(0, len(data), step))


def _nonempty_lines(body: memoryview) -> np.ndarray:
    """0-based indices of the physical lines that hold more than their line break (\n, \r\n or a lone \r).

    Counted in slices, so that the memory used is bounded by the lines kept, not by the file's line count
    (a file of blank lines costs nothing but the scan).
    """
    data = np.frombuffer(body, dtype=np.uint8)
    n = len(data)
    has_cr = _contains_byte(body, 13)
    found: list[np.ndarray] = []
    line, start = 0, 0  # the index of the line that starts at byte ``start``
    step = 1 << 20  # a slice's temporaries take at most a few dozen MB, whatever the line length
    for at in range(0, n, step):
        chunk = data[at : at + step]
        ends = np.flatnonzero(chunk == 10) + at
        if has_cr:
            crs = np.flatnonzero(chunk == 13) + at
            lone = crs[(crs + 1 >= n) | (data[np.minimum(crs + 1, n - 1)] != 10)]
            if len(lone):
                ends = np.sort(np.concatenate([ends, lone]))
        if not len(ends):
            continue
        starts = np.concatenate([[start], ends[:-1] + 1])
        length = ends - starts
        if has_cr:  # \r\n: the content stops before the \r
            length -= (length > 0) & (data[ends] == 10) & (data[np.maximum(ends - 1, 0)] == 13)
        found.append(np.flatnonzero(length > 0) + line)
        line, start = line + len(ends), int(ends[-1]) + 1
    if start < n:  # the last line has no line break
        found.append(np.array([line], dtype=np.int64))
    return np.concatenate(found).astype(np.int64) if found else np.empty(0, np.int64)


def _line_bounds(body: memoryview) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) byte offsets of every physical line's content; \n, \r\n and a lone \r end a line."""
    data = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    crs = int(np.count_nonzero(data == 13))
    if crs:
        lone = np.flatnonzero(data == 13)
        lone = lone[(lone + 1 >= len(data)) | (data[np.minimum(lone + 1, len(data) - 1)] != 10)]
        if len(lone):
            ends = np.sort(np.concatenate([ends, lone]))
    starts = np.concatenate([[0], ends + 1])
    if len(starts) and starts[-1] >= len(data):  # the data ends with a line break: no line after it
        starts = starts[:-1]
    content_ends = np.concatenate([ends, [len(data)]])[: len(starts)]
    if crs:  # \r\n: the content stops before the \r
        crlf = (content_ends > starts) & (data[np.maximum(content_ends - 1, 0)] == 13) & (content_ends < len(data))
        crlf &= data[np.minimum(content_ends, len(data) - 1)] == 10
        content_ends = content_ends - crlf
    return starts, content_ends


def _parse_python(text: str) -> list[str] | None:
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None


#: The longest value the last-resort parser reads (Python's csv module's default limit); a line PyArrow cannot
#: parse and with a longer value is reported as ``LineFieldTooLong``. A constant, and checked here, not read from
#: ``csv.field_size_limit()``: that limit is one setting for the whole process, which other code may change.
MAX_FIELD_CHARS = 131_072


def _too_long(text: str, fields: list[str] | None) -> bool:
    """Whether a line that PyArrow could not parse has a value longer than ``MAX_FIELD_CHARS`` (whether or not
    Python's csv module, under the process's current limit, read it), rather than a problem with its quotes."""
    if fields is not None:
        return any(len(f) > MAX_FIELD_CHARS for f in fields)
    try:
        list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        return "field larger than field limit" in str(exc)
    return False


def _first_field(text: str) -> str | None:
    value = text.split(",", 1)[0].strip().strip('"').strip()
    return value or None


def _line_by_line_parse(
    body: memoryview, header: list[str], names: list[str], allow_line_breaks: bool,
    first: tuple[pa.Table, list[tuple[int, str, int]]] | None = None,
) -> RawTable:
    """The careful path: exact line numbers for files with broken lines, blank lines or odd quotes.

    Lines whose quotes do not balance are found first (with numpy) and blanked out, so that
    a numbered PyArrow parse sees one record per physical line and can report the line
    number of every ragged record. ``first`` is the numbered parse of ``body`` already made, used
    when no line had to be blanked.
    """
    ncols = len(header)
    findings: list[LineFinding] = []
    rescued_rows: list[list[str]] = []
    rescued_lines: list[int] = []
    blanked: set[int] = set()  # body line numbers (1-based) already accounted for
    data = body
    if _contains_byte(body, 34):
        starts, ends = _line_bounds(body)
        quotes = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == 34)
        per_line = np.bincount(np.searchsorted(starts, quotes, side="right") - 1, minlength=len(starts))
        odd = np.flatnonzero(per_line % 2 == 1)
        if len(odd):
            text_of = lambda i: bytes(body[starts[i] : ends[i]]).decode("utf-8")  # noqa: E731
            odd_set = set(odd.tolist())
            buffer = bytearray(body)
            handled: set[int] = set()  # 0-based indices of lines already part of a finding
            for i in odd.tolist():
                if i in handled:
                    continue
                joined = None
                for j in range(i + 1, min(len(starts), i + MAX_LINES_PER_RECORD)):
                    if j in odd_set:
                        fields = _parse_python("\n".join(text_of(k) for k in range(i, j + 1)))
                        if fields is not None and len(fields) == ncols:
                            joined = (j, fields)
                        break
                last = joined[0] if joined else i
                for k in range(i, last + 1):
                    handled.add(k)
                    blanked.add(k + 1)
                    buffer[starts[k] : ends[k]] = b" " * (ends[k] - starts[k])
                if joined is None:
                    findings.append(LineFinding("LineUnterminatedQuote", i + 2, _first_field(text_of(i))))
                elif allow_line_breaks:
                    rescued_rows.append(joined[1])
                    rescued_lines.append(i + 2)
                else:
                    findings.append(LineFinding("LineBreakInValue", i + 2, joined[1][0].strip() or None, {"last_line": last + 2}))
            data = memoryview(buffer)

    if first is None or data is not body:
        try:
            first = _numbered_read(data, names)
        except pa.ArrowInvalid:
            first = None
    if first is None:
        return _python_parse(body, header, names, allow_line_breaks)
    table, invalid = first
    # PyArrow skips empty lines and numbers the others: the k-th of them is physical line nonempty[k - 1] + 1.
    nonempty = _nonempty_lines(data)
    if table.num_rows + len(invalid) != len(nonempty):  # some line was joined to another
        return _python_parse(body, header, names, allow_line_breaks)
    numbers = np.ones(table.num_rows + len(invalid) + 1, dtype=bool)
    numbers[0] = False
    for number, text, actual in invalid:
        numbers[number] = False
        physical = int(nonempty[number - 1]) + 1
        if physical in blanked:
            continue
        findings.append(LineFinding("LineFieldCount", physical + 1, _first_field(text), {"actual": actual, "expected": ncols}))
    row_lines = nonempty[np.flatnonzero(numbers) - 1].astype(np.int64) + 2
    # Lines of nothing but separators come back as rows with no value: drop them.
    empty = pc.is_null(table.column(0))
    for column in table.columns[1:]:
        empty = pc.and_(empty, pc.is_null(column))
    keep = pc.invert(empty)
    if not pc.all(keep).as_py():
        table = table.filter(keep)
        row_lines = row_lines[keep.to_numpy(zero_copy_only=False)]
    if rescued_rows:
        extra = pa.table({n: pa.array([r[c] or None for r in rescued_rows], pa.string()) for c, n in enumerate(names)})
        table = pa.concat_tables([table, extra])
        row_lines = np.concatenate([row_lines, np.array(rescued_lines, np.int64)])
        order = np.argsort(row_lines, kind="stable")
        table = table.take(pa.array(order))
        row_lines = row_lines[order]
    findings.sort(key=lambda f: f.line)
    return RawTable(header, table.rename_columns(_unique_names(header)), row_lines, table.num_rows + len(findings), findings)


def _numbered_read(data: memoryview, names: list[str]) -> tuple[pa.Table, list[tuple[int, str, int]]]:
    """Parse ``data`` (lines with odd quotes may have been blanked) knowing the row number
    of every invalid row, which PyArrow reports only when it parses single-threaded: so the data is cut at line
    breaks into one part per core, parsed side by side (PyArrow releases the GIL), and the numbers offset."""
    cuts = [0]
    if len(data) >= PARALLEL_MIN_BYTES:
        parts = max(1, min(os.cpu_count() or 1, 8))
        for k in range(1, parts):
            at = max(len(data) * k // parts, cuts[-1])
            window = bytes(data[at : at + (1 << 20)])
            nl = window.find(b"\n")
            while nl < 0 and at + len(window) < len(data):  # a line longer than the window
                at += len(window)
                window = bytes(data[at : at + (1 << 20)])
                nl = window.find(b"\n")
            if nl >= 0 and at + nl + 1 < len(data):
                cuts.append(at + nl + 1)
    cuts.append(len(data))

    def parse(start: int, end: int) -> tuple[pa.Table, list[tuple[int, str, int]]]:
        invalid: list[tuple[int, str, int]] = []

        def collect(row: pcsv.InvalidRow) -> str:
            invalid.append((row.number, row.text, row.actual_columns))
            return "skip"
        return _arrow_read(pa.py_buffer(data[start:end]), names, collect), invalid

    spans = [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]
    if len(spans) == 1:
        return parse(*spans[0])
    with ThreadPoolExecutor(len(spans)) as pool:
        results = list(pool.map(lambda span: parse(*span), spans))
    offset, invalid = 0, []
    for table, found in results:
        invalid.extend((number + offset, text, actual) for number, text, actual in found)
        offset += table.num_rows + len(found)  # every physical line of the part is a row or an invalid row
    return pa.concat_tables([t for t, _ in results]), invalid


def _python_parse(body: memoryview, header: list[str], names: list[str], allow_line_breaks: bool) -> RawTable:
    """Last resort for pathological quoting: every physical line parsed on its own by Python's csv module."""
    ncols = len(header)
    text = bytes(body).decode("utf-8")
    rows: list[list[str]] = []
    lines: list[int] = []
    findings: list[LineFinding] = []
    physical = re.split(r"\r\n|\r|\n", text)
    if physical and physical[-1] == "":
        physical.pop()
    for number, line in enumerate(physical, start=2):
        if not line:
            continue
        fields = _parse_python(line)
        if _too_long(line, fields):
            findings.append(LineFinding("LineFieldTooLong", number, _first_field(line), {"limit": MAX_FIELD_CHARS}))
        elif fields is None:
            findings.append(LineFinding("LineUnterminatedQuote", number, _first_field(line)))
        elif len(fields) != ncols:
            findings.append(LineFinding("LineFieldCount", number, _first_field(line), {"actual": len(fields), "expected": ncols}))
        elif any(fields):
            rows.append(fields)
            lines.append(number)
    table = pa.table({c: pa.array([r[i] or None for r in rows], pa.string()) for i, c in enumerate(names)})
    return RawTable(header, table.rename_columns(_unique_names(header)), np.array(lines, np.int64), len(rows) + len(findings), findings)
