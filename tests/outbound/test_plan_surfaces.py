"""A run's plan through the CLI (``homeroom plan``) and the API (``GET runs/{id}/plan``)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from pathlib import Path

import polars as pl
import pytest

from provisioning import TARGET, TENANT, make_flow_set, run_package
from directory_double import DirectoryDouble

from homeroom.runs import Runner
from homeroom.settings import Settings

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
from apitools import BASE, Api  # noqa: E402

HOSTILE = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def planned(district, tmp_path, monkeypatch):
    """A run of a district whose first student's given name is a spreadsheet formula, with its plan made."""
    package = tmp_path / "package"
    shutil.copytree(district, package)
    users = pl.read_csv(package / "users.csv", infer_schema=False)
    users.with_columns(pl.when(pl.col("sourcedId") == "stu-1").then(pl.lit(HOSTILE)).otherwise(pl.col("givenName"))
                       .alias("givenName")).write_csv(package / "users.csv")
    settings = Settings(data_dir=tmp_path / "data")
    monkeypatch.setenv("HOMEROOM_DATA_DIR", str(settings.data_dir))
    from homeroom.settings import get_settings
    get_settings.cache_clear()
    runner = Runner(TENANT, settings=settings)
    run_id = run_package(runner, package)
    make_flow_set(runner)
    yield settings, runner, run_id
    get_settings.cache_clear()


def _cli(*args):
    from typer.testing import CliRunner

    from homeroom.cli import app
    return CliRunner().invoke(app, list(args))


def test_plan_make_show_export_through_the_cli(planned, tmp_path):
    settings, runner, run_id = planned
    made = _cli("plan", "make", run_id, "--flow-set", "All schools", "--target", TARGET, "--kind", "entra", "--tenant", TENANT)
    assert made.exit_code == 0, made.output
    assert "│ create_user  │ UserUnmatchedCreate │ 1,578  │ 0    │" in made.stdout
    shown = _cli("plan", "show", run_id, "--tenant", TENANT, "--limit", "3")
    assert shown.exit_code == 0 and "First 3 of 20,263 operations" in shown.stdout
    exported = tmp_path / "plan.csv"
    result = _cli("plan", "export", run_id, "--out", str(exported), "--tenant", TENANT)
    assert result.exit_code == 0 and "wrote 20,263 operations" in result.stderr
    raw = exported.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 20263
    hostile = next(r for r in rows if r["objectKey"] == "stu-1" and r["op"] == "create_user")
    assert json.loads(hostile["attributes"])["given_name"] == HOSTILE  # inside JSON text, not a formula cell
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    as_json = tmp_path / "plan.json"
    assert _cli("plan", "export", run_id, "--out", str(as_json), "--tenant", TENANT).exit_code == 0
    document = json.loads(as_json.read_text("utf-8"))
    assert len(document["value"]) == 20263 and document["value"][0]["attributes"]["kind"] == "unit"


def test_a_display_name_starting_with_a_formula_sign_is_neutralised_in_csv(planned):
    from homeroom.outbound.export import plan_csv
    frame = pl.DataFrame({c: ["=1+1"] for c in ("runId", "flowSetId", "target", "op", "objectKind", "groupKind", "objectKey",
                                                "accountId", "memberKey", "memberId", "reason", "attributes", "old", "status", "error")}
                         ).with_columns(pl.lit(1).alias("seq"))
    text = plan_csv(frame).decode("utf-8-sig")
    assert text.splitlines()[1].split(",")[3] == "'=1+1"


def test_cli_errors_are_one_line(planned):
    settings, runner, run_id = planned
    missing = _cli("plan", "show", run_id, "--tenant", TENANT)
    assert missing.exit_code == 2 and f"run {run_id} has no provisioning plan" in missing.stderr
    bad_kind = _cli("plan", "make", run_id, "--flow-set", "All schools", "--target", TARGET, "--kind", "novell", "--tenant", TENANT)
    assert bad_kind.exit_code == 2 and "--kind must be one of active-directory, ldap, scim, entra, google" in bad_kind.stderr
    no_set = _cli("plan", "make", run_id, "--flow-set", "Nope", "--target", TARGET, "--kind", "entra", "--tenant", TENANT)
    assert no_set.exit_code == 2 and "no outbound flow set 'Nope'" in no_set.stderr
    _cli("plan", "make", run_id, "--flow-set", "All schools", "--target", TARGET, "--kind", "entra", "--tenant", TENANT)
    no_target = _cli("plan", "apply", run_id, "--tenant", TENANT)  # the plan's target was never stored
    assert no_target.exit_code == 2 and no_target.stderr == (
        f"error: no target '{TARGET}' in tenant '{TENANT}'; its targets: none yet (homeroom targets add)\n")


def test_the_api_serves_a_runs_plan_to_its_tenant_only(planned):
    settings, runner, run_id = planned
    from homeroom.outbound.service import Provisioner
    provisioner = Provisioner(TENANT, settings, runner.sessions)
    provisioner.plan(run_id, "All schools", target=TARGET, target_kind="entra")
    directory = DirectoryDouble("entra")
    directory.failing = {1}
    provisioner.apply(run_id, writer=directory.apply)
    api = Api(settings)
    client = api.client(TENANT, ["IndustryData-OutboundFlow.Read.All"])
    answer = client.get(f"{BASE}/runs/{run_id}/plan")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["runId"] == run_id and len(body["value"]) == 20263
    assert body["summary"][0] == {"op": "create_unit", "reason": "UnitCreate", "count": 6, "done": 5}
    assert body["value"][0]["status"] == "failed" and body["value"][0]["error"] == "refused op 1"
    as_csv = client.get(f"{BASE}/runs/{run_id}/plan?format=csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert len(as_csv.content.decode("utf-8-sig").splitlines()) == 20264
    other = api.client("other-tenant", ["IndustryData-OutboundFlow.Read.All"])
    assert other.get(f"{BASE}/runs/{run_id}/plan").status_code == 404
    runs_only = api.client(TENANT, ["IndustryData-Run.Read.All"])
    assert runs_only.get(f"{BASE}/runs/{run_id}/plan").status_code == 403
    assert client.get(f"{BASE}/runs/{run_id}/plan?format=xml").status_code == 400
