"""Churn: the next snapshot of a district, with a share of students leaving, arriving and renamed.

``churn_package(src, out, rate, seed)`` reads an SDS v2.1 package without broken lines and writes
the same district a little later: ``rate`` of the students leave (they and their roles,
enrollments, demographics, flags and relationships disappear), as many arrive (copies of existing
students with new ids, in the same classes), and as many change their given name. Deterministic per seed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl

from homeroom.errors import ConfigurationError
from homeroom.synthetic.vocabulary import GIVEN_NAMES

_BY_USER = {"roles.csv": "userSourcedId", "enrollments.csv": "userSourcedId", "demographics.csv": "userSourcedId",
            "userFlags.csv": "userSourcedId", "relationships.csv": "userSourcedId"}


def _read(path: Path) -> pl.DataFrame:
    try:
        return pl.read_csv(path, infer_schema=False, empty_string_is_null=False)
    except pl.exceptions.ComputeError as exc:
        raise ConfigurationError(f"{path.name} cannot be churned (it has broken lines; generate it without defects): {exc}") from None


def churn_package(src: Path, out: Path, rate: float, seed: int = 1) -> dict[str, int]:
    """Write the churned package into ``out``; returns how many students left, arrived and were renamed."""
    if not 0 < rate <= 0.5:
        raise ConfigurationError(f"--rate must be above 0 and at most 0.5, not {rate}")
    src, out = Path(src), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    users = _read(src / "users.csv")
    frames = {name: _read(src / name) for name in _BY_USER if (src / name).exists()}
    students = frames["roles.csv"].filter(pl.col("role").str.to_lowercase() == "student").get_column("userSourcedId").unique().sort()
    n = max(1, round(rate * students.len()))
    if 3 * n > students.len():
        raise ConfigurationError(f"the package has {students.len()} students, too few for a churn of {rate}")
    chosen = students.gather(rng.permutation(students.len())[: 3 * n])
    leaving, renamed, templates = chosen[:n], chosen[n : 2 * n], chosen[2 * n :]

    suffix = f"-c{seed}"
    names = pl.Series(list(GIVEN_NAMES)).gather(rng.integers(0, len(GIVEN_NAMES), n))
    renames = pl.DataFrame({"sourcedId": renamed, "__name": names})
    newcomers = users.filter(pl.col("sourcedId").is_in(templates.implode())).with_columns(
        (pl.col("sourcedId") + suffix).alias("sourcedId"),
        pl.concat_str(pl.lit(f"c{seed}."), pl.col("username")).alias("username"),
        pl.when(pl.col("email") != "").then(pl.concat_str(pl.lit(f"c{seed}."), pl.col("email"))).otherwise(pl.col("email")).alias("email"),
    )
    users = (
        users.filter(~pl.col("sourcedId").is_in(leaving.implode()))
        .join(renames, on="sourcedId", how="left", maintain_order="left")
        .with_columns(pl.coalesce("__name", "givenName").alias("givenName"))
        .drop("__name")
    )
    pl.concat([users, newcomers]).write_csv(out / "users.csv")
    for name, frame in frames.items():
        column = _BY_USER[name]
        kept = frame.filter(~pl.col(column).is_in(leaving.implode()))
        if name != "relationships.csv":  # newcomers get their template's roles, classes, demographics, flags
            copies = frame.filter(pl.col(column).is_in(templates.implode())).with_columns((pl.col(column) + suffix).alias(column))
            kept = pl.concat([kept, copies])
        kept.write_csv(out / name)
    for path in src.glob("*.csv"):
        if not (out / path.name).exists():
            shutil.copyfile(path, out / path.name)
    return {"left": n, "arrived": n, "renamed": n}
