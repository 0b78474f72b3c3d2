#!/usr/bin/env python3
"""Benchmark: matching 1.25M people against a 1.25M-account directory table, against PyArrow reading the same data.

In one invocation, on the same two Parquet files (written first, not timed):

- the floor: ``pyarrow.parquet.read_table`` of the people and of the accounts (the data read, nothing else);
- Homeroom: reading both with Polars and ``homeroom.match.engine.match_people`` with two rules per role group
  (username -> userPrincipalName, then sourcedId -> employeeId), lowercased comparison, outcomes for everyone.

The directory disagrees with the people as the test directories do: 2% differ in case, 2% were renamed (matched by
the second rule), 1% are missing, 0.1% have two accounts, 0.1% share an account. Prints the seconds of each (best of
``--repeat``), the ratio and the peak RSS of the process (goal, issue 11: at most 3x the floor).

    flock /work/.heavy.lock .venv/bin/python bench/match.py                # 1.25M people, 1.25M accounts
    .venv/bin/python bench/match.py --people 100000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from homeroom.match.engine import match_people  # noqa: E402
from homeroom.match.settings import rules_from_settings  # noqa: E402

SETTINGS = [
    {"priorityOrder": p, "sourceIdentifier": {"code": s}, "matchTarget": {"code": t}, "roleGroupId": g}
    for g in ("students", "staff") for p, (s, t) in enumerate((("username", "userPrincipalName"), ("sourcedId", "employeeId")))
]


def write_data(folder: Path, people: int, seed: int) -> tuple[Path, Path, dict]:
    """The people and the directory as Parquet files; returns their paths and the expected outcome counts."""
    rng = np.random.default_rng(seed)
    n = np.arange(people)
    staff = rng.random(people) < 0.12
    kind = rng.choice(6, size=people, p=[0.948, 0.02, 0.02, 0.01, 0.001, 0.001])  # exact, case, renamed, missing, two, shared
    person = pl.DataFrame({"n": n, "staff": staff, "kind": kind}).with_columns(
        pl.format("p-{}", "n").alias("personSourcedId"),
        pl.when("staff").then(pl.lit("staff")).otherwise(pl.lit("students")).alias("roleGroup"),
        pl.format("u{}@district.example.edu", "n").alias("username"),
    ).with_columns(pl.col("personSourcedId").alias("sourcedId"))
    login = pl.col("username")
    missing = person.filter(pl.col("kind") == 3).get_column("sourcedId")
    shared = person.filter(pl.col("kind") == 5)
    pairs = min(shared.height, missing.len())
    shared = shared.with_columns(pl.Series("claimed_by", [*missing.head(pairs).to_list(), *["p-none"] * (shared.height - pairs)]))
    accounts = pl.concat([
        person.filter(pl.col("kind") == 0).select(login.alias("user_principal_name"), pl.col("sourcedId").alias("employee_id")),
        person.filter(pl.col("kind") == 1).select(login.str.to_uppercase().alias("user_principal_name"), pl.col("sourcedId").alias("employee_id")),
        person.filter(pl.col("kind") == 2).select(("x" + login).alias("user_principal_name"), pl.col("sourcedId").alias("employee_id")),
        person.filter(pl.col("kind") == 4).select(("d1" + login).alias("user_principal_name"), pl.col("sourcedId").alias("employee_id")),
        person.filter(pl.col("kind") == 4).select(("d2" + login).alias("user_principal_name"), pl.col("sourcedId").alias("employee_id")),
        # one account claimed by two: its login is this person's, its employee id a missing person's
        shared.select(login.alias("user_principal_name"), pl.col("claimed_by").alias("employee_id")),
    ])
    accounts = accounts.with_row_index("i").select(
        pl.format("acc-{}", "i").alias("account_id"), "user_principal_name", pl.col("user_principal_name").alias("mail"),
        "employee_id", pl.lit(True).alias("enabled"))
    # hand-made accounts fill the directory up to as many accounts as people
    extra = max(people - accounts.height, 0)
    accounts = pl.concat([accounts, pl.DataFrame({"account_id": [f"hand-{i}" for i in range(extra)],
                                                 "user_principal_name": [f"hand{i}@district.example.edu" for i in range(extra)],
                                                 "mail": [None] * extra, "employee_id": [None] * extra, "enabled": [True] * extra},
                                                schema=accounts.schema)])
    k = {i: int((kind == i).sum()) for i in range(6)}
    counts = {"matched": k[0] + k[1] + k[2] + k[5] - pairs, "unmatched": k[3] - pairs, "ambiguous": k[4],
              "conflicting": 2 * pairs}
    people_path, accounts_path = folder / "people.parquet", folder / "accounts.parquet"
    person.select("personSourcedId", "roleGroup", "username", "sourcedId").write_parquet(people_path)
    accounts.write_parquet(accounts_path)
    return people_path, accounts_path, counts


def floor(people: Path, accounts: Path) -> float:
    start = time.perf_counter()
    a, b = pq.read_table(people), pq.read_table(accounts)
    assert a.num_rows and b.num_rows
    return time.perf_counter() - start


def homeroom(people: Path, accounts: Path) -> tuple[float, dict]:
    rules = rules_from_settings(SETTINGS, ["sourcedId", "username"])
    start = time.perf_counter()
    outcomes = match_people(pl.read_parquet(people), pl.read_parquet(accounts), rules)
    seconds = time.perf_counter() - start
    counts = dict(outcomes.group_by("outcome").len().rows())
    return seconds, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_250_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-match-") as tmp:
        people, accounts, expected = write_data(Path(tmp), args.people, args.seed)
        n_accounts = pq.read_metadata(accounts).num_rows
        floors, ours, counts = [], [], {}
        for _ in range(args.repeat):
            floors.append(floor(people, accounts))
            seconds, counts = homeroom(people, accounts)
            ours.append(seconds)
        best_floor, best = min(floors), min(ours)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"people {args.people:,}, accounts {n_accounts:,}")
        print(f"floor  pyarrow read_table of both: {best_floor:.3f} s")
        print(f"homeroom read + match:             {best:.3f} s")
        print(f"ratio {best / best_floor:.2f} (goal <= 3), peak RSS {peak_mb:,.0f} MB")
        got = {k: counts.get(k, 0) for k in expected}
        print(f"outcomes {got}")
        if got != expected:
            print(f"expected {expected}")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
