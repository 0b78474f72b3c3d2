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

from homeroom.inbound.csv_reader import RawTable
from homeroom.inbound.formats.base import FileSpec
from homeroom.model.entities import Entity, Field, Kind
from homeroom.model.reference import ZERO_PADDED_TYPES, ReferenceData
from homeroom.settings import Settings
from homeroom.validate.findings import Findings

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


@dataclass
class EntityKeys:
    """What later files need to know about an entity's records to resolve references to them."""

    file: str
    present: bool
    all_ids: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.String))
    valid_ids: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.String))
    valid: pl.DataFrame | None = None  # the validated records (users: for contact rules)


def _enum_key(v: pl.Expr, reference_type: str) -> pl.Expr:
    key = v.str.to_lowercase()
    if reference_type in ZERO_PADDED_TYPES:
        key = pl.when(key.str.contains(r"^[0-9]$")).then(pl.lit("0") + key).otherwise(key)
    return key


def _field_value(f: Field, v: pl.Expr, reference: ReferenceData, settings: Settings) -> tuple[pl.Expr, pl.Expr]:
    """(validated value, is-invalid) for a stripped, blank-is-null text column ``v``."""
    false = pl.lit(False)
    match f.kind:
        case Kind.ID | Kind.STRING | Kind.SECRET:
            return v, false
        case Kind.USERNAME:
            return v, ~v.str.contains(USERNAME_PATTERN)
        case Kind.ENUM:
            codes = reference.codes(f.reference_type)
            mapped = _enum_key(v, f.reference_type).replace_strict(codes, default=None, return_dtype=pl.String)
            return mapped, v.is_not_null() & mapped.is_null()
        case Kind.ENUM_LIST:
            codes = reference.codes(f.reference_type)
            items = v.str.split(",").list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != ""))
            mapped = items.list.eval(
                _enum_key(pl.element(), f.reference_type).replace_strict(codes, default=None, return_dtype=pl.String)
            )
            bad = mapped.list.eval(pl.element().is_null()).list.any()
            return mapped, v.is_not_null() & bad
        case Kind.ID_LIST:
            items = v.str.split(",").list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != ""))
            return items, false
        case Kind.EMAIL:
            lower = v.str.to_lowercase()
            return lower, ~lower.str.contains(EMAIL_PATTERN)
        case Kind.PHONE:
            digits = v.str.replace_all(r"[()\-.\s]", "")
            if settings.default_phone_country_code:
                digits = (
                    pl.when(digits.str.contains(r"^[0-9]+$"))
                    .then(pl.lit("+" + settings.default_phone_country_code) + digits)
                    .otherwise(digits)
                )
            return digits, ~digits.str.contains(E164_PATTERN)
        case Kind.DATE:
            parsed = pl.when(v.str.contains(DATE_PATTERN)).then(v.str.to_date("%Y-%m-%d", strict=False))
            return parsed, v.is_not_null() & parsed.is_null()
        case Kind.BOOL:
            lower = v.str.to_lowercase()
            return lower == "true", ~lower.is_in(["true", "false"])
        case Kind.YEAR:
            ok = v.str.contains(YEAR_PATTERN)
            return pl.when(ok).then(v.cast(pl.Int16, strict=False)), ~ok
    raise AssertionError(f.kind)


def _record_id(entity: Entity) -> pl.Expr:
    if entity.has_sourced_id:
        return pl.col("sourcedId")
    return pl.concat_str([pl.col(k).fill_null("") for k in entity.key], separator="/")


def _rows(df: pl.DataFrame, mask: pl.Expr, value: pl.Expr, extra: dict[str, pl.Expr] | None = None) -> pl.DataFrame:
    cols = [pl.col("__line"), pl.col("__id"), value.alias("__value")]
    cols += [e.alias(k) for k, e in (extra or {}).items()]
    return df.filter(mask).select(cols)


class RecordChecker:
    """Runs the record checks of one package, file by file, in dependency order."""

    def __init__(self, reference: ReferenceData, settings: Settings, findings: Findings):
        self.reference = reference
        self.settings = settings
        self.findings = findings
        self.keys: dict[str, EntityKeys] = {}

    def absent(self, spec: FileSpec) -> None:
        """Record that a file is not in the package (references to it cannot resolve)."""
        self.keys[spec.entity.name] = EntityKeys(spec.name, present=False)

    def check(self, spec: FileSpec, raw: RawTable) -> pl.DataFrame:
        """Validate one file; return its surviving records in the canonical schema."""
        entity = spec.entity
        header_of = {name: header for header, name in spec.columns}
        df = self._canonical_frame(spec, raw)
        df = df.with_columns(_record_id(entity).alias("__id"))

        # 1. field checks
        values, errors, warned = [], [], []
        for f in entity.fields:
            header = header_of[f.name]
            v = pl.col(f.name)
            if f.required:
                rows = _rows(df, v.is_null(), pl.lit(None, pl.String))
                self.findings.add_rows("RequiredValueMissing", "error", spec.name, header, rows)
                errors.append(v.is_null())
            value, invalid = _field_value(f, v, self.reference, self.settings)
            if f.kind in _INVALID_RULE:
                level = "error" if f.required else "warning"
                rows = _rows(df, v.is_not_null() & invalid, v)
                static = {}
                if f.reference_type:
                    examples = sorted(self.reference.codes(f.reference_type).values(), key=str.lower)[:5]
                    static = {"reference_type": f.reference_type, "examples": ", ".join(examples)}
                self.findings.add_rows(_INVALID_RULE[f.kind], level, spec.name, header, rows, **static)
                if f.required:
                    errors.append(v.is_not_null() & invalid)
                    values.append(value.alias(f.name))
                else:
                    warned.append(f.name)
                    values.append(pl.when(v.is_not_null() & invalid).then(None).otherwise(value).alias(f.name))
            else:
                values.append(value.alias(f.name))
        dropped = pl.any_horizontal(errors) if errors else pl.lit(False)
        df = df.with_columns(dropped.alias("__dropped"))
        all_ids = df.get_column("sourcedId").drop_nulls().unique() if entity.has_sourced_id else None
        df = df.filter(~pl.col("__dropped")).with_columns(values)
        if entity.date_range:
            start, end = entity.date_range
            bad = pl.col(end) < pl.col(start)
            rows = _rows(df, bad, pl.col(end).cast(pl.String), {"__start": pl.col(start).cast(pl.String)})
            self.findings.add_rows(
                "InvalidDateRange", "error", spec.name, header_of[end], rows,
                row_values={"start": pl.col("__start")}, start_field=header_of[start],
            )
            df = df.filter(~bad)

        # 2. uniqueness
        df = self._uniqueness(spec, df, header_of)

        # 3. references, 4. contact rules
        df = self._references(spec, df, header_of)
        if entity.contact_rules:
            df = self._contacts(spec, df, header_of)

        valid = df.select(list(entity.polars_schema.names())).cast(dict(entity.polars_schema))
        keys = EntityKeys(spec.name, present=True, valid=valid if entity.name == "users" else None)
        if entity.has_sourced_id:
            keys.all_ids = all_ids
            keys.valid_ids = valid.get_column("sourcedId")
        self.keys[entity.name] = keys
        return valid

    def _canonical_frame(self, spec: FileSpec, raw: RawTable) -> pl.DataFrame:
        mapping = {h: name for h, name in (*spec.columns, *spec.aliases)}
        df = pl.from_arrow(raw.table)
        assert isinstance(df, pl.DataFrame)
        cols = []
        taken = set()
        for header in df.columns:
            name = mapping.get(header)
            if name is None or name in taken:
                continue
            taken.add(name)
            s = pl.col(header).str.strip_chars()
            cols.append(pl.when(s == "").then(None).otherwise(s).alias(name))
        cols += [pl.lit(None, pl.String).alias(f.name) for f in spec.entity.fields if f.name not in taken]
        return df.select(cols).with_columns(pl.Series("__line", raw.lines))

    def _uniqueness(self, spec: FileSpec, df: pl.DataFrame, header_of: dict[str, str]) -> pl.DataFrame:
        entity = spec.entity
        if not entity.has_sourced_id:
            key_text = " + ".join(header_of[k] for k in entity.key)
            return self._drop_later_duplicates(
                spec, df, [pl.col(k) for k in entity.key], pl.col("__id"), "DuplicateRecord", "warning", None, key_text=key_text
            )
        df = self._drop_later_duplicates(
            spec, df, [pl.col("sourcedId")], pl.col("sourcedId"), "DuplicateSourcedId", "error", header_of["sourcedId"]
        )
        if entity.name == "users":
            df = self._drop_later_duplicates(
                spec, df, [pl.col("username").str.to_lowercase()], pl.col("username"),
                "DuplicateUsername", "error", header_of["username"],
            )
        return df

    def _drop_later_duplicates(
        self,
        spec: FileSpec,
        df: pl.DataFrame,
        key: list[pl.Expr],
        value: pl.Expr,
        code: str,
        level: str,
        field: str | None,
        **static: object,
    ) -> pl.DataFrame:
        """Keep the first record of each key; report and remove the later ones."""
        keyed = df.with_columns(pl.struct(key).alias("__key"))
        first = keyed.get_column("__key").is_first_distinct()
        if first.all():
            return df
        later = keyed.filter(~first)
        firsts = keyed.filter(first & pl.col("__key").is_in(later.get_column("__key").implode())).select(
            "__key", pl.col("__line").alias("__first_line"), pl.col("__id").alias("__first_id")
        )
        rows = later.join(firsts, on="__key", how="left", maintain_order="left").select(
            "__line", "__id", value.alias("__value"), "__first_line", "__first_id"
        )
        self.findings.add_rows(
            code, level, spec.name, field, rows,
            row_values={"first_line": pl.col("__first_line"), "first_id": pl.col("__first_id")}, **static,
        )
        return keyed.filter(first).drop("__key")

    def _target_text(self, target: EntityKeys) -> str:
        return target.file if target.present else f"{target.file}, which is not in the package"

    def _references(self, spec: FileSpec, df: pl.DataFrame, header_of: dict[str, str]) -> pl.DataFrame:
        entity = spec.entity
        if entity.contact_rules:
            self_rel = pl.col("userSourcedId") == pl.col("relationshipUserSourcedId")
            rows = _rows(df, self_rel, pl.col("userSourcedId"))
            self.findings.add_rows("SelfRelationship", "error", spec.name, header_of["relationshipUserSourcedId"], rows)
            df = df.filter(~self_rel)
        drop = pl.lit(False)
        clears = []
        for f in entity.fields:
            if f.references is None:
                continue
            target = self.keys[f.references] if f.references != entity.name else None
            if target is None:  # a reference to the same file: its records are all read by now
                target = EntityKeys(spec.name, True, df.get_column("sourcedId"), df.get_column("sourcedId"))
            header = header_of[f.name]
            level = "error" if f.required else "warning"
            if f.kind is Kind.ID_LIST:
                items = df.select("__line", pl.col(f.name).alias("__item")).explode("__item").drop_nulls("__item")
                missing = items.filter(~pl.col("__item").is_in(target.valid_ids.implode()))
                dropped_lines = missing.filter(pl.col("__item").is_in(target.all_ids.implode())).get_column("__line").unique()
                missing_lines = missing.get_column("__line").unique()
                not_found = pl.col("__line").is_in(missing_lines.implode()) & ~pl.col("__line").is_in(dropped_lines.implode())
                was_dropped = pl.col("__line").is_in(dropped_lines.implode())
                value = pl.col(f.name).list.join(",")
            else:
                v = pl.col(f.name)
                not_found = v.is_not_null() & ~v.is_in(target.all_ids.implode())
                was_dropped = v.is_not_null() & v.is_in(target.all_ids.implode()) & ~v.is_in(target.valid_ids.implode())
                value = v
            target_text = self._target_text(target)
            self.findings.add_rows("ReferenceNotFound", level, spec.name, header, _rows(df, not_found, value), target_file=target_text)
            self.findings.add_rows("ReferenceDropped", level, spec.name, header, _rows(df, was_dropped, value), target_file=target_text)
            if f.required:
                drop = drop | not_found | was_dropped
            else:
                clears.append(pl.when(not_found | was_dropped).then(None).otherwise(pl.col(f.name)).alias(f.name))
        return df.filter(~drop).with_columns(clears) if clears else df.filter(~drop)

    def _contacts(self, spec: FileSpec, df: pl.DataFrame, header_of: dict[str, str]) -> pl.DataFrame:
        users = self.keys["users"].valid
        if users is None or df.height == 0:
            return df
        contact = users.select(
            pl.col("sourcedId").alias("relationshipUserSourcedId"),
            pl.col("givenName").alias("__given"),
            pl.col("familyName").alias("__family"),
            pl.col("email").alias("__email"),
        )
        joined = df.join(contact, on="relationshipUserSourcedId", how="left")
        missing = pl.concat_list(
            [
                pl.when(pl.col("__given").is_null()).then(pl.lit("givenName")),
                pl.when(pl.col("__family").is_null()).then(pl.lit("familyName")),
                pl.when(pl.col("__email").is_null()).then(pl.lit("email")),
            ]
        ).list.drop_nulls()
        joined = joined.with_columns(missing.alias("__missing"))
        bad = pl.col("__missing").list.len() > 0
        rows = _rows(joined, bad, pl.col("relationshipUserSourcedId"), {"__missing_text": pl.col("__missing").list.join(", ")})
        self.findings.add_rows(
            "ContactMissingData", "error", spec.name, header_of["relationshipUserSourcedId"], rows,
            row_values={"missing": pl.col("__missing_text")},
        )
        return joined.filter(~bad).drop("__given", "__family", "__email", "__missing")
