#!/usr/bin/env python3
"""Benchmark: planning a provisioning (desired state against the directory) against PyArrow reading the same tables.

Setup (once, cached in ``bench/.cache/``): a district generated and run into a lake; a directory of the same size
built from its desired state (an account per person, a group per class, unit and security group with its members,
a matched link per person) and written as the snapshot tables ``directory_accounts``, ``directory_groups`` and
``match_links``; then the next snapshot of the district (``--churn`` of the students leaving, arriving, renamed)
run into the lake. Then, each in a fresh subprocess so that peak memory is its own:

- the floor: PyArrow reading every table the plan reads (the Parquet files of the Delta tables' current versions:
  the roster partition, the directory snapshot and the match links);
- Homeroom: ``Provisioner.plan`` of the churned run: read the roster and the snapshot, desired state, plan, safety
  checks, and the plan kept in the lake.

Prints times, the ratio to the floor and peak RSS. Goal (issue 12): at most 3x the floor, for 1.25M people and
300k classes (1.1M students) against a directory of the same size.

    flock /work/.heavy.lock .venv/bin/python bench/provision.py                   # 1.1M students, 1% churn
    .venv/bin/python bench/provision.py --students 100000
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TENANT, TARGET, KIND, FLOW_SET = "bench", "bench-entra", "entra", "All schools"
FLOWS = [
    {"@odata.type": "#microsoft.graph.industryData.userProvisioningFlow", "createUnmatchedUsers": True,
     "managementOptions": {"additionalAttributes": ["userGradeLevel"]}},
    {"@odata.type": "#microsoft.graph.industryData.classGroupProvisioningFlow", "configuration": {
        "enrollmentMappings": {"ownerEnrollmentMappings": [{"code": "teacher"}], "memberEnrollmentMappings": [{"code": "student"}]}}},
    {"@odata.type": "#microsoft.graph.industryData.administrativeUnitProvisioningFlow",
     "creationOptions": {"createBasedOnOrg": True, "createBasedOnOrgPlusRoleGroup": True}},
    {"@odata.type": "#microsoft.graph.industryData.securityGroupProvisioningFlow",
     "creationOptions": {"createBasedOnRoleGroup": True, "createBasedOnOrgPlusRoleGroup": True}},
]


def _settings(data_dir: Path):
    from homeroom.settings import Settings

    return Settings(data_dir=data_dir)


def setup(data_dir: Path, first: Path, second: Path) -> dict:
    """Run the district, build the directory from its desired state, run the churned snapshot."""
    from datetime import datetime, timezone

    import polars as pl

    from homeroom.api.resources import OUTBOUND_FLOW_SETS, PROVISIONING_FLOWS
    from homeroom.outbound import storage
    from homeroom.outbound.desired import desired_state, read_roster
    from homeroom.outbound.plan import CAPABILITIES
    from homeroom.outbound.service import load_flow_set
    from homeroom.runs import Runner
    from homeroom.store.models import InboundFlow

    runner = Runner(TENANT, settings=_settings(data_dir))
    run1 = runner.run(first, flow_name="bench", year="2026").run.id
    with runner.sessions.begin() as db:
        row = OUTBOUND_FLOW_SETS.create(db=db, tenant_id=TENANT, raw=json.dumps({"displayName": FLOW_SET}).encode())
        for flow in FLOWS:
            PROVISIONING_FLOWS.create(db=db, tenant_id=TENANT, raw=json.dumps(flow).encode(), parent=row)
    with runner.sessions() as db:
        _row, config = load_flow_set(db, TENANT, FLOW_SET)
        source = db.query(InboundFlow).one().connector.source_system_id
    desired = desired_state(read_roster(runner.lake, source, "2026"), config, target_kind=KIND, year="2026")
    now = datetime(2026, 9, 1, tzinfo=timezone.utc)
    life = [pl.lit(True).alias("isActive"), pl.lit(now).alias("firstSeenDateTime"), pl.lit(now).alias("lastSeenDateTime")]
    users = desired.users.with_columns(pl.concat_str([pl.lit("acc-"), pl.col("objectKey")]).alias("account_id"))
    accounts = users.select(
        "account_id", "user_name", "user_principal_name", "mail", pl.lit(None, pl.String).alias("employee_id"),
        pl.lit(None, pl.String).alias("external_id"), "given_name", "family_name", "display_name", "enabled",
        pl.lit(None, pl.String).alias("distinguished_name"), pl.col("objectKey").alias("anchor"),
        pl.struct(pl.col("grade")).struct.json_encode().alias("extra"), *life)
    caps = CAPABILITIES[KIND]
    members = desired.memberships.with_columns(pl.concat_str([pl.lit("acc-"), pl.col("memberKey")]).alias("member"))
    lists = members.group_by("groupKey", "groupKind").agg(
        pl.col("member").filter(pl.col("relation") == "member").alias("members"),
        pl.col("member").filter(pl.col("relation") == "owner").alias("owners") if caps.owners else pl.lit([], pl.List(pl.String)).alias("owners"))
    groups = desired.groups.filter(~pl.col("ended")).join(lists, left_on=["objectKey", "groupKind"], right_on=["groupKey", "groupKind"], how="left").select(
        pl.concat_str([pl.lit("grp-"), pl.col("groupKind"), pl.lit("-"), pl.col("objectKey")]).alias("group_id"), "name", "display_name",
        pl.col("groupKind").alias("kind"), "distinguished_name", pl.col("objectKey").alias("anchor"),
        pl.col("members").fill_null(pl.lit([], pl.List(pl.String))), pl.col("owners").fill_null(pl.lit([], pl.List(pl.String))), *life)
    links = users.select(pl.lit(TARGET).alias("target"), pl.lit(source).alias("sourceSystemId"), pl.lit("2026").alias("year"),
                         pl.col("objectKey").alias("personSourcedId"), pl.col("roleGroup"), pl.lit("matched").alias("outcome"),
                         pl.col("account_id").alias("accountId"), pl.lit([], pl.List(pl.String)).alias("candidates"),
                         pl.lit("username->userPrincipalName").alias("matchedBy"), pl.lit(now).alias("firstLinkedDateTime"),
                         pl.lit(now).alias("lastSeenDateTime"), pl.lit(True).alias("isActive"), pl.lit(None, pl.String).alias("unlinkReason"))
    for spec, frame in ((storage.DIRECTORY_ACCOUNTS, accounts), (storage.DIRECTORY_GROUPS, groups), (storage.MATCH_LINKS, links.drop("target"))):
        runner.lake.replace_partition(spec.name, {"target": TARGET}, frame.with_columns(pl.lit(TARGET).alias("target")))
    run2 = runner.run(second, flow_name="bench", year="2026").run
    (data_dir / "bench.json").write_text(json.dumps({"run": run2.id, "status": run2.status}))
    return {"first": run1, "run": run2.id, "status": run2.status, "accounts": accounts.height, "groups": groups.height,
            "memberships": int(members.height), "classes": int(desired.groups.filter(pl.col("groupKind") == "class").height)}


def read_floor(data_dir: Path) -> dict:
    import pyarrow.dataset as ds
    from deltalake import DeltaTable

    from homeroom.lake.tables import Lake
    from homeroom.outbound.desired import ROSTER_TABLES

    lake = Lake.from_settings(_settings(data_dir), TENANT)
    rows = 0
    for name in (*ROSTER_TABLES, "directory_accounts", "directory_groups", "match_links"):
        files = DeltaTable(lake.uri(name)).file_uris()
        rows += ds.dataset(files, format="parquet").to_table().num_rows
    return {"rows": rows}


def plan(data_dir: Path) -> dict:
    from homeroom.outbound.service import Provisioner

    run_id = json.loads((data_dir / "bench.json").read_text())["run"]
    outcome = Provisioner(TENANT, settings=_settings(data_dir)).plan(run_id, FLOW_SET, target=TARGET, target_kind=KIND)
    counts = {f"{op}/{reason}": n for op, reason, n in outcome.plan.ops.group_by("op", "reason").len().sort("op", "reason").iter_rows()}
    return {"ops": outcome.plan.ops.height, "byReason": counts, "held": [r["code"] for r in outcome.reasons]}


def stage(name: str, data_dir: Path) -> dict:
    import pyarrow.dataset  # noqa: F401 - imports are not what is measured
    import deltalake  # noqa: F401
    import homeroom.outbound.service  # noqa: F401

    started = time.perf_counter()
    result = read_floor(data_dir) if name == "floor" else plan(data_dir)
    result["seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def run_stage(name: str, data_dir: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--stage", name, "--data-dir", str(data_dir)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=1_100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--churn", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many timings of each stage")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, args.data_dir)))
        return

    from homeroom.synthetic import generate_district
    from homeroom.synthetic.churn import churn_package

    first = args.cache / f"district-{args.students}-seed{args.seed}-defects0"
    if not (first / "expected-findings.json").exists():
        print(f"generating {args.students:,} students into {first} ...", flush=True)
        generate_district(first, args.students, seed=args.seed)
    second = args.cache / f"district-{args.students}-seed{args.seed}-churn{args.churn:g}"
    if not (second / "users.csv").exists():
        churn_package(first, second, args.churn, seed=args.seed)
    data_dir = args.cache / f"provision-{args.students}-seed{args.seed}-churn{args.churn:g}"
    if not (data_dir / "bench.json").exists():
        shutil.rmtree(data_dir, ignore_errors=True)
        print("setting up: two runs into the lake and a directory of the same size ...", flush=True)
        out = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); import provision, json; "
                              f"print(json.dumps(provision.setup(provision.Path({str(data_dir)!r}), provision.Path({str(first)!r}), "
                              f"provision.Path({str(second)!r}))))"], check=True, capture_output=True, text=True)
        print(out.stdout.strip().splitlines()[-1], flush=True)
    floors, plans = [], []
    for _ in range(args.repeat):
        floors.append(run_stage("floor", data_dir))
        print(f"floor: {floors[-1]['seconds']:.2f} s", flush=True)
        plans.append(run_stage("plan", data_dir))
        print(f"plan: {plans[-1]['seconds']:.2f} s", flush=True)
    floor = min(floors, key=lambda r: r["seconds"])
    best = min(plans, key=lambda r: r["seconds"])
    print(json.dumps({"students": args.students, "churn": args.churn, "floor": floor, "plan": best}, indent=2))
    print(f"floor (PyArrow reading {floor['rows']:,} rows): {floor['seconds']:.2f} s, peak RSS {floor['peak_rss_mb']:,.0f} MB")
    print(f"Homeroom plan ({best['ops']:,} operations): {best['seconds']:.2f} s, peak RSS {best['peak_rss_mb']:,.0f} MB")
    print(f"ratio: {best['seconds'] / floor['seconds']:.2f} (goal at most 3)")


if __name__ == "__main__":
    main()
