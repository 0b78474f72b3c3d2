"""Record checks, as column expressions over whole files.

For each file, in dependency order (orgs -> sessions -> courses -> users -> roles -> classes ->
enrollments -> demographics -> flags -> relationships):

1. field checks: required values, enums, formats. An error drops the record, a warning clears the field;
2. uniqueness: ``sourcedId`` per file and ``username`` across users (errors), natural keys of
   association files (warnings: the later row is ignored);
3. references, resolved against the records of earlier files that survived, so that dropping a
   record drops what depends on it (``ReferenceDropped``);
4. contact rules for relationships.

Nothing here loops over rows in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from homeroom.findings import Findings
from homeroom.inbound.batch import DROPPED, KEEP_PREFIX, OPEN_REFERENCES, SourceRows
from homeroom.model.entities import Entity, Field, Kind
from homeroom.model.reference import ZERO_PADDED_TYPES, ReferenceData
from homeroom.settings import Settings
from homeroom.validate import rules  # noqa: F401  (registers the codes of these checks)

# RFC 5322 dot-atom addr-spec (the form SDS checks); quoted local parts are not accepted.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
EMAIL_PATTERN = rf"^{_ATEXT}+(\.{_ATEXT}+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
USERNAME_PATTERN = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
YEAR_PATTERN = r"^[0-9]{4}$"

_INVALID_RULE = {
    Kind.ENUM: "InvalidEnumValue",
    Kind.ENUM_LIST: "InvalidEnumValue",
    Kind.USERNAME: "InvalidUsername",
    Kind.EMAIL: "InvalidEmail",
    Kind.PHONE: "InvalidPhone",
    Kind.DATE: "InvalidDate",
    Kind.BOOL: "InvalidBoolean",
    Kind.YEAR: "InvalidYear",
}


#: Seeds of the 64-bit hashes used to compare ids. A reference that is really missing matches an
#: existing id by accident with probability (ids in the target file) / 2**64, below 1e-12 even
#: for the largest districts; keys found to repeat are always compared exactly.
_ID_SEED = 0x5EED
_KEY_SEEDS = (11, 23, 37, 41, 59)


def _id_hash(values: pl.Series | pl.Expr):
    return values.hash(_ID_SEED)


def _found_in(hashes: pl.Series, ids: pl.Series) -> pl.Series:
    """Whether each of a few ``hashes`` is one of many ``ids``: a set of the few, probed by the many, is far
    cheaper than a set of the many (``is_in`` builds its set on every call)."""
    present = ids.filter(ids.is_in(hashes.implode()))
    return hashes.is_in(present.implode())


@dataclass
class EntityKeys:
    """What later files need to know about an entity's records to resolve references to them."""

    file: str
    present: bool
    all_ids: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.UInt64))  # hashes of every id read
    valid_ids: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.UInt64))  # hashes of ids that passed
    valid: pl.DataFrame | None = None  # the validated records (users: for contact rules)
    #: (__file, __line) of the records dropped; a row derived from the same line of the same file
    #: (SDS v1: a Student.csv row is a user and a role) is dropped with it without a finding of its own.
    dropped_rows: pl.DataFrame | None = None


def _enum_key(v: pl.Expr, reference_type: str) -> pl.Expr:
    key = v.str.to_lowercase()
    if reference_type in ZERO_PADDED_TYPES:
        key = pl.when(key.str.contains(r"^[0-9]$")).then(pl.lit("0") + key).otherwise(key)
    return key


def _enum_value(v: pl.Expr, reference: ReferenceData, reference_type: str) -> pl.Expr:
    """The canonical code of ``v``, or null: the exact spelling first (cheap), any case as a fallback."""
    codes = reference.codes(reference_type)
    exact = {code: code for code in codes.values()} | {lower: code for lower, code in codes.items()}
    return v.replace_strict(exact, default=None, return_dtype=pl.String)


def _enum_value_any_case(v: pl.Expr, reference: ReferenceData, reference_type: str) -> pl.Expr:
    return _enum_key(v, reference_type).replace_strict(reference.codes(reference_type), default=None, return_dtype=pl.String)


def _field_value(f: Field, v: pl.Expr, reference: ReferenceData, settings: Settings) -> pl.Expr:
    """The validated value of a stripped, blank-is-null text column ``v``; null where ``v`` is invalid.

    A field is therefore invalid exactly where ``v`` is not null and the value is null.
    """
    match f.kind:
        case Kind.ID | Kind.STRING | Kind.SECRET:
            return v
        case Kind.USERNAME:
            return pl.when(v.str.contains(USERNAME_PATTERN)).then(v)
        case Kind.ENUM:
            return _enum_value(v, reference, f.reference_type)
        case Kind.ENUM_LIST:
            items = v.str.split(",").list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != ""))
            mapped = items.list.eval(_enum_value_any_case(pl.element(), reference, f.reference_type))
            return pl.when(~mapped.list.eval(pl.element().is_null()).list.any()).then(mapped)
        case Kind.ID_LIST:
            return v.str.split(",").list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != ""))
        case Kind.EMAIL:
            lower = v.str.to_lowercase()
            return pl.when(lower.str.contains(EMAIL_PATTERN)).then(lower)
        case Kind.PHONE:
            digits = v.str.replace_all(r"[()\-.\s]", "")
            if settings.default_phone_country_code:
                digits = (
                    pl.when(digits.str.contains(r"^[0-9]+$"))
                    .then(pl.lit("+" + settings.default_phone_country_code) + digits)
                    .otherwise(digits)
                )
            return pl.when(digits.str.contains(E164_PATTERN)).then(digits)
        case Kind.DATE:
            return pl.when(v.str.contains(DATE_PATTERN)).then(v.str.to_date("%Y-%m-%d", strict=False))
        case Kind.BOOL:
            lower = v.str.to_lowercase()
            return pl.when(lower == "true").then(True).when(lower == "false").then(False)
        case Kind.YEAR:
            return pl.when(v.str.contains(YEAR_PATTERN)).then(v.cast(pl.Int16, strict=False))
    raise AssertionError(f.kind)


def _record_id(entity: Entity) -> pl.Expr:
    if entity.has_sourced_id:
        return pl.col("sourcedId")
    return pl.concat_str([pl.col(k).fill_null("") for k in entity.key], separator="/")


def _key_hash(key: list[pl.Expr]) -> pl.Expr:
    """A 64-bit hash of a composite key (independent seeds per column, combined with XOR)."""
    h = key[0].hash(_KEY_SEEDS[0])
    for seed, expr in zip(_KEY_SEEDS[1:], key[1:]):
        h = h ^ expr.hash(seed)
    return h


@dataclass
class EntityRows:
    """The files one entity's records come from, and how each file names the fields."""

    entity: Entity
    headers: dict[str, dict[str, str]]  # file -> canonical field -> header in that file

    @property
    def files(self) -> list[str]:
        return list(self.headers)

    @property
    def name(self) -> str:
        """The file name(s), for messages."""
        return " / ".join(self.headers)

    def file(self) -> str | pl.Expr:
        """The file of a finding: constant for one file, per row (``__file``) for several."""
        return self.files[0] if len(self.headers) == 1 else pl.col("__file")

    def field(self, name: str) -> str | pl.Expr:
        """How the file of each row spells a canonical field."""
        spellings = {file: headers.get(name, name) for file, headers in self.headers.items()}
        if len(set(spellings.values())) == 1:
            return next(iter(spellings.values()))
        return pl.col("__file").replace_strict(spellings, return_dtype=pl.String)


class RecordChecker:
    """Runs the record checks of one package, file by file, in dependency order."""

    def __init__(self, reference: ReferenceData, settings: Settings, findings: Findings):
        self.reference = reference
        self.settings = settings
        self.findings = findings
        self.keys: dict[str, EntityKeys] = {}

    def absent(self, entity: Entity, file: str) -> None:
        """Record that an entity's file is not in the package (references to it cannot resolve)."""
        self.keys[entity.name] = EntityKeys(file, present=False)

    def _emit(self, src: EntityRows, code: str, level: str, field: str | pl.Expr | None, rows: pl.DataFrame, **kwargs) -> int:
        rows = rows.with_columns(_record_id(src.entity).alias("__id")) if "__id" not in rows.columns else rows
        value = kwargs.pop("value", pl.col("__value") if "__value" in rows.columns else pl.lit(None, pl.String))
        extra = kwargs.pop("row_values", {})
        frame = rows.select(
            "__line", "__id", value.cast(pl.String).alias("__value"),
            *[pl.col(c) for c in rows.columns if c.startswith("__x_") or c == "__file"],
        )
        return self.findings.add_rows(code, level, src.file(), field, frame, row_values=extra, **kwargs)

    def check(self, entity: Entity, sources: list[SourceRows]) -> tuple[pl.DataFrame, dict[str, int]]:
        """Validate one entity's records; return the survivors (canonical schema) and how many per file."""
        src = EntityRows(entity, {s.file: s.headers for s in sources})
        if len(sources) == 1:
            df = sources[0].frame
        else:
            df = pl.concat(
                [s.frame.with_columns(pl.lit(s.file).alias("__file")) for s in sources], how="diagonal_relaxed"
            )
        # Rows the format already dropped (with their own finding) only count as read: a reference to
        # one of them is ReferenceDropped rather than ReferenceNotFound.
        dropped_ids = pl.Series("sourcedId", [], dtype=pl.String)
        if DROPPED in df.columns:
            if entity.has_sourced_id:
                dropped_ids = df.filter(pl.col(DROPPED).fill_null(False)).get_column("sourcedId").drop_nulls()
            df = df.filter(~pl.col(DROPPED).fill_null(False)).drop(DROPPED)
        # Rows are identified by __rid: line numbers repeat when the rows come from several files.
        df = df.with_row_index("__rid")
        read_rows = df.select("__rid", "__line", pl.col("__file") if len(sources) > 1 else pl.lit(sources[0].file).alias("__file"))
        required_in = {s.file: s.required for s in sources if s.required}  # optional fields a file requires

        # 1. field checks: every value computed once; a flag is "given but no valid value".
        values: list[pl.Expr] = []
        per_distinct: list[tuple[Field, pl.Expr]] = []
        for f in entity.fields:
            value = _field_value(f, pl.col(f.name), self.reference, self.settings)
            if f.kind is Kind.ENUM_LIST:
                per_distinct.append((f, value))  # few distinct cells, costly list work: once per cell value
            else:
                values.append(value.alias(f"__v_{f.name}"))
        df = df.with_columns(values)
        for f, value in per_distinct:
            distinct = df.select(pl.col(f.name).unique().drop_nulls()).with_columns(value.alias(f"__v_{f.name}"))
            df = df.join(distinct, on=f.name, how="left", maintain_order="left")
        for f in entity.fields:  # codes spelled in another case: only those rows pay for lower-casing
            if f.kind is not Kind.ENUM:
                continue
            missed = df.select(pl.col(f.name).is_not_null() & pl.col(f"__v_{f.name}").is_null()).to_series()
            if not missed.any():
                continue
            rows = missed.arg_true()
            retried = df.select(pl.col(f.name).gather(rows)).select(
                _enum_value_any_case(pl.col(f.name), self.reference, f.reference_type)
            ).to_series()
            df = df.with_columns(df.get_column(f"__v_{f.name}").scatter(rows, retried))
        flags: dict[str, pl.Expr] = {}
        error_flags: list[pl.Expr] = []
        for f in entity.fields:
            files = [file for file, names in required_in.items() if f.name in names]
            if f.required or files:
                missing = pl.col(f.name).is_null()
                if not f.required and len(sources) > 1:
                    missing = missing & pl.col("__file").is_in(files)
                flags[f"__missing_{f.name}"] = missing
                error_flags.append(missing)
            if f.kind in _INVALID_RULE:
                flags[f"__bad_{f.name}"] = pl.col(f.name).is_not_null() & pl.col(f"__v_{f.name}").is_null()
                if f.required:
                    error_flags.append(flags[f"__bad_{f.name}"])
        raised = df.select(e.any().alias(name) for name, e in flags.items()).row(0, named=True) if flags else {}
        for f in entity.fields:
            if raised.get(f"__missing_{f.name}"):
                self._emit(src, "RequiredValueMissing", "error", src.field(f.name), df.filter(flags[f"__missing_{f.name}"]))
        for f in entity.fields:
            if not raised.get(f"__bad_{f.name}"):
                continue
            static = {}
            if f.reference_type:
                examples = sorted(self.reference.codes(f.reference_type).values(), key=str.lower)[:5]
                static = {"reference_type": f.reference_type, "examples": ", ".join(examples)}
            rows = df.filter(flags[f"__bad_{f.name}"])
            if f"__hint_{f.name}" in rows.columns:  # the source says, per row, how to fix the value
                rows = rows.with_columns(pl.col(f"__hint_{f.name}").alias("__x_hint"))
                static["row_values"] = {"hint": pl.col("__x_hint")}
            else:
                static["hint"] = ""
            self._emit(
                src, _INVALID_RULE[f.kind], "error" if f.required else "warning", src.field(f.name),
                rows, value=pl.col(f.name), **static,
            )
        all_ids = _id_hash(pl.concat([df.get_column("sourcedId").drop_nulls(), dropped_ids])) if entity.has_sourced_id else None
        if any(raised.values()) and error_flags:
            df = df.filter(~pl.any_horizontal(error_flags))
        # Invalid optional values are already null: the warned field is cleared.
        carried = [c for c in df.columns if c.startswith(KEEP_PREFIX) or c in ("__file", "__rid", OPEN_REFERENCES)]
        df = df.select("__line", *carried, *[pl.col(f"__v_{f.name}").alias(f.name) for f in entity.fields])
        if entity.date_range:
            start, end = entity.date_range
            bad = pl.col(end) < pl.col(start)
            rows = df.filter(bad).with_columns(pl.col(start).cast(pl.String).alias("__x_start"))
            self._emit(
                src, "InvalidDateRange", "error", src.field(end), rows, value=pl.col(end),
                row_values={"start": pl.col("__x_start")}, start_field=src.field(start),
            )
            df = df.filter(~bad)

        # 2. uniqueness
        df = self._uniqueness(src, df)

        # 3. references, 4. contact rules
        df = self._references(src, df)
        if entity.contact_rules:
            df = self._contacts(src, df)

        per_file = (
            {src.files[0]: df.height} if len(sources) == 1
            else dict(df.group_by("__file").len().iter_rows())
        )
        kept = [pl.col(c).alias(c[len(KEEP_PREFIX):]) for c in df.columns if c.startswith(KEEP_PREFIX)]
        valid = df.select(*[pl.col(n).cast(t) for n, t in entity.polars_schema.items()], *kept)
        if entity.has_sourced_id:
            valid_ids = _id_hash(valid.get_column("sourcedId"))
        keys = EntityKeys(src.name, present=True, valid=valid if entity.name == "users" else None)
        if entity.has_sourced_id:
            keys.all_ids = all_ids
            keys.valid_ids = valid_ids
        if df.height < read_rows.height:
            keys.dropped_rows = read_rows.filter(~pl.col("__rid").is_in(df.get_column("__rid").implode())).select("__file", "__line")
        self.keys[entity.name] = keys
        return valid, per_file

    def _uniqueness(self, src: EntityRows, df: pl.DataFrame) -> pl.DataFrame:
        entity = src.entity
        if not entity.has_sourced_id:
            key_text = " + ".join(src.headers[src.files[0]].get(k, k) for k in entity.key)
            return self._drop_later_duplicates(
                src, df, [pl.col(k) for k in entity.key], None, "DuplicateRecord", "warning", None, key_text=key_text
            )
        df = self._drop_later_duplicates(
            src, df, [pl.col("sourcedId")], pl.col("sourcedId"), "DuplicateSourcedId", "error", src.field("sourcedId")
        )
        if entity.name == "users":
            df = self._drop_later_duplicates(
                src, df, [pl.col("username").str.to_lowercase()], pl.col("username"),
                "DuplicateUsername", "error", src.field("username"),
            )
        return df

    def _drop_later_duplicates(
        self,
        src: EntityRows,
        df: pl.DataFrame,
        key: list[pl.Expr],
        value: pl.Expr | None,
        code: str,
        level: str,
        field: str | pl.Expr | None,
        **static: object,
    ) -> pl.DataFrame:
        """Keep the first record of each key; report and remove the later ones.

        A hash of the key finds the (usually zero) candidates cheaply; candidates are then
        compared on the key itself, so the result is exact.
        """
        if df.height < 2:
            return df
        hashes = df.select(_key_hash(key).alias("h")).get_column("h")
        if hashes.n_unique() == df.height:
            return df
        ordered = hashes.sort()
        repeated = ordered.filter(ordered == ordered.shift(1)).unique()  # hashes seen more than once
        indexed = df.with_row_index("__row")
        candidates = indexed.filter(hashes.is_in(repeated.implode())).with_columns(pl.struct(key).alias("__key"))
        first = candidates.get_column("__key").is_first_distinct()
        later = candidates.filter(~first)
        if later.height == 0:
            return df
        # With several files, the first occurrence may be in another file: say which.
        # concat_str, not pl.format: Polars 2.1's format panics on a filtered text column of several chunks.
        line_text = pl.concat_str([pl.lit("line "), pl.col("__line").cast(pl.String)])
        where = line_text if len(src.headers) == 1 else pl.concat_str([line_text, pl.lit(" of "), pl.col("__file")])
        firsts = candidates.filter(first & pl.col("__key").is_in(later.get_column("__key").implode())).select(
            "__key", pl.col("__line").alias("__x_first_line"), where.alias("__x_first_where"),
            _record_id(src.entity).alias("__x_first_id"),
        )
        rows = later.join(firsts, on="__key", how="left", maintain_order="left")
        self._emit(
            src, code, level, field, rows, value=value if value is not None else _record_id(src.entity),
            row_values={
                "first_line": pl.col("__x_first_line"), "first_where": pl.col("__x_first_where"), "first_id": pl.col("__x_first_id"),
            },
            **static,
        )
        return indexed.filter(~pl.col("__row").is_in(later.get_column("__row").implode())).drop("__row")

    def _target_text(self, target: EntityKeys) -> str:
        return target.file if target.present else f"{target.file}, which is not in the package"

    def _references(self, src: EntityRows, df: pl.DataFrame) -> pl.DataFrame:
        entity = src.entity
        if entity.contact_rules:
            self_rel = pl.col("userSourcedId") == pl.col("relationshipUserSourcedId")
            self._emit(src, "SelfRelationship", "error", src.field("relationshipUserSourcedId"), df.filter(self_rel),
                       value=pl.col("userSourcedId"))
            df = df.filter(~self_rel)
        drop_rows: list[pl.Series] = []
        clears: dict[str, pl.Series] = {}
        for f in entity.fields:
            if f.references is None:
                continue
            if f.references == entity.name:  # a reference within the file: all its records are known now
                own = _id_hash(df.get_column("sourcedId"))
                target = EntityKeys(src.name, True, own, own)
            else:
                target = self.keys[f.references]
            header = src.field(f.name)
            level = "error" if f.required else "warning"
            if f.kind is Kind.ID_LIST:
                items = df.select("__rid", pl.col(f.name).alias("__item")).explode("__item").drop_nulls("__item")
                missing = items.filter(~_id_hash(pl.col("__item")).is_in(target.valid_ids.implode()))
                if missing.height == 0:
                    continue
                missing = missing.with_columns(_found_in(_id_hash(missing.get_column("__item")), target.all_ids).alias("__was_read"))
                if OPEN_REFERENCES in df.columns:  # an open row's id that is not in the package is not checked
                    is_open = pl.col(OPEN_REFERENCES).fill_null(False)
                    missing = missing.join(df.select("__rid", OPEN_REFERENCES), on="__rid").filter(pl.col("__was_read") | ~is_open)
                    if missing.height == 0:
                        continue
                per_row = missing.group_by("__rid").agg(pl.col("__was_read").all().alias("__all_dropped"))
                bad = df.join(per_row, on="__rid", how="inner", maintain_order="left")
                value = pl.col(f.name).list.join(",")
                not_found, was_dropped = bad.filter(~pl.col("__all_dropped")), bad.filter(pl.col("__all_dropped"))
            else:
                unresolved = df.select(
                    pl.col(f.name).is_not_null() & ~_id_hash(pl.col(f.name)).is_in(target.valid_ids.implode())
                ).to_series()
                if not unresolved.any():
                    continue
                bad = df.filter(unresolved)
                read = _found_in(_id_hash(bad.get_column(f.name)), target.all_ids)
                if OPEN_REFERENCES in df.columns:  # an open row's id that is not in the package is not checked
                    keep = read | ~bad.get_column(OPEN_REFERENCES).fill_null(False)
                    bad, read = bad.filter(keep), read.filter(keep)
                value = pl.col(f.name)
                not_found, was_dropped = bad.filter(~read), bad.filter(read)
            if target.dropped_rows is not None and was_dropped.height:  # the referenced record is this very line
                on_file = was_dropped if "__file" in was_dropped.columns else was_dropped.with_columns(pl.lit(src.files[0]).alias("__file"))
                was_dropped = on_file.join(target.dropped_rows, on=["__file", "__line"], how="anti", maintain_order="left")
                if len(src.headers) == 1:
                    was_dropped = was_dropped.drop("__file")
            target_text = self._target_text(target)
            self._emit(src, "ReferenceNotFound", level, header, not_found, value=value, target_file=target_text)
            self._emit(src, "ReferenceDropped", level, header, was_dropped, value=value, target_file=target_text)
            if f.required:
                drop_rows.append(bad.get_column("__rid"))
            else:
                clears[f.name] = bad.get_column("__rid")
        if clears:
            df = df.with_columns(
                pl.when(pl.col("__rid").is_in(rows.implode())).then(None).otherwise(pl.col(name)).alias(name)
                for name, rows in clears.items()
            )
        if drop_rows:
            df = df.filter(~pl.col("__rid").is_in(pl.concat(drop_rows).implode()))
        return df

    def _contacts(self, src: EntityRows, df: pl.DataFrame) -> pl.DataFrame:
        users = self.keys["users"].valid
        if users is None or df.height == 0:
            return df
        incomplete = users.filter(
            pl.col("givenName").is_null() | pl.col("familyName").is_null() | pl.col("email").is_null()
        ).select(
            pl.col("sourcedId").alias("relationshipUserSourcedId"),
            pl.concat_list(
                pl.when(pl.col("givenName").is_null()).then(pl.lit("givenName")),
                pl.when(pl.col("familyName").is_null()).then(pl.lit("familyName")),
                pl.when(pl.col("email").is_null()).then(pl.lit("email")),
            ).list.drop_nulls().list.join(", ").alias("__x_missing"),
        )
        if incomplete.height == 0:
            return df
        rows = df.join(incomplete, on="relationshipUserSourcedId", how="inner", maintain_order="left")
        self._emit(
            src, "ContactMissingData", "error", src.field("relationshipUserSourcedId"), rows,
            value=pl.col("relationshipUserSourcedId"), row_values={"missing": pl.col("__x_missing")},
        )
        return df.filter(~pl.col("__rid").is_in(rows.get_column("__rid").implode()))
