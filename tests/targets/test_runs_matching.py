"""A flow's run snapshots its directory and matches after validation; getStatistics equals the match report, and a
run without a directory says so. The directory is the real scim2-server loaded with the planted accounts."""

from __future__ import annotations

import csv
import io
import json

import polars as pl
from planted import SETTINGS, expected_counts, planted_district  # noqa: F401 - fixture
from scimserver import TOKEN, load_accounts, scim_server  # noqa: F401 - fixture
from sqlalchemy import select

from homeroom.runs import Runner
from homeroom.settings import Settings
from homeroom.store.models import SourceSystem
from homeroom.targets import service
from tests.api.apitools import BASE, Api

TENANT = "district-m"


def test_runs_match_their_directory_and_statistics_equal_the_match_report(scim_server, planted_district, tmp_path):
    package, planted = planted_district
    settings = Settings(data_dir=tmp_path / "data")
    runner = Runner(TENANT, settings=settings)

    first = runner.run(package, flow_name="SIS", year="2026")
    stats = first.activity.statistics
    assert (stats["matchedPeopleByRole"], stats["unmatchedPeopleByRole"]) == ([], [])
    assert stats["@homeroom.matching"] == {"status": "noDirectory", "message": (
        "No directory target is configured for this flow's source system; people were not matched "
        "(homeroom targets add ... --source).")}

    load_accounts(scim_server, planted.accounts)
    with runner.sessions.begin() as db:
        source = db.scalars(select(SourceSystem).where(SourceSystem.tenant_id == TENANT)).one()
        source.user_matching_settings = SETTINGS
        service.add_target(db=db, tenant_id=TENANT, name="scim", kind="scim", settings={"base_url": scim_server},
                           secrets={"bearer_token": TOKEN}, source_systems=[source.display_name])
    second = runner.run(package, flow_name="SIS", year="2026")
    stats = second.activity.statistics
    matching = stats["@homeroom.matching"]
    assert (matching["status"], matching["targets"], matching["counts"]) == ("matched", ["scim"], expected_counts(planted))

    # By role: each person counts once under each role they hold (the district's staff hold one role code each).
    roles = pl.read_csv(package / "roles.csv", infer_schema=False).select("userSourcedId", "role").unique()
    outcomes = pl.DataFrame({"userSourcedId": list(planted.outcomes()), "outcome": list(planted.outcomes().values())})
    joined = roles.join(outcomes, on="userSourcedId")
    expected_matched = dict(joined.filter(pl.col("outcome") == "matched").group_by("role").len().rows())
    expected_unmatched = dict(joined.filter(pl.col("outcome") != "matched").group_by("role").len().rows())
    assert {r["role"]: r["count"] for r in stats["matchedPeopleByRole"]} == expected_matched
    assert {r["role"]: r["count"] for r in stats["unmatchedPeopleByRole"]} == expected_unmatched
    summaries = {f.rule: f.count for f in second.activity.findings if f.file == "directory:scim"}
    assert summaries == {"PersonMatched": 320, "PersonUnmatched": 6, "PersonMatchAmbiguous": 4, "PersonMatchConflicting": 8}

    api = Api(settings)
    reader = api.client(TENANT, ["IndustryData-Run.Read.All"])
    totals = reader.get(f"{BASE}/runs/{second.run.id}/getStatistics").json()["inboundTotals"]
    report = reader.get(f"{BASE}/directoryTargets/scim/matchReport")
    assert report.status_code == 200 and report.headers["content-disposition"] == 'attachment; filename="match-report-scim.json"'
    body = report.json()
    total = next(c for c in body["counts"] if c["roleGroup"] == "total")
    assert sum(r["count"] for r in totals["matchedPeopleByRole"] if r["role"] == "student") == next(
        c["matched"] for c in body["counts"] if c["roleGroup"] == "students")
    assert total["matched"] == len({p["personSourcedId"] for p in body["people"] if p["outcome"] == "matched"}) == 320
    assert [p["outcome"] for p in body["people"]][:8] == ["ambiguous"] * 4 + ["conflicting"] * 4
    people_by_role = joined.filter(pl.col("outcome") == "matched").group_by("role").len()
    assert sorted((r["role"], r["count"]) for r in totals["matchedPeopleByRole"]) == sorted(people_by_role.rows())

    as_csv = reader.get(f"{BASE}/directoryTargets/scim/matchReport", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8" and len(rows) == len(planted.people)
    assert [r["outcome"] for r in rows[:8]] == ["ambiguous"] * 4 + ["conflicting"] * 4

    no_permission = api.client(TENANT, ["IndustryData-DataConnector.Read.All"])
    assert no_permission.get(f"{BASE}/directoryTargets/scim/matchReport").status_code == 403
    listed = no_permission.get(f"{BASE}/directoryTargets").json()["value"]
    assert [(t["name"], t["kind"], t["secretsSet"]) for t in listed] == [("scim", "scim", ["bearer_token"])]
    assert TOKEN not in json.dumps(listed)
    other_tenant = api.client("other", ["IndustryData-Run.Read.All"])
    assert other_tenant.get(f"{BASE}/directoryTargets/scim/matchReport").status_code == 404
