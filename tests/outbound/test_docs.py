"""docs/provisioning.md lists exactly the registered reason codes, and every code a plan can carry is registered."""

from __future__ import annotations

import re
from pathlib import Path

from homeroom.outbound import plan
from homeroom.outbound.reasons import REASONS, reasons_markdown

DOC = Path(__file__).parents[2] / "docs" / "provisioning.md"


def test_the_reason_codes_table_is_the_registry():
    text = DOC.read_text("utf-8")
    table = text.split("<!-- reasons -->\n", 1)[1].split("\n<!-- /reasons -->", 1)[0]
    assert table.splitlines() == reasons_markdown()


def test_every_reason_the_planner_writes_is_registered():
    written = set(re.findall(r'"([A-Z][A-Za-z]+(?:Create|Changed|Renamed|Reenabled|Disable|Expire|Added|Removed))"',
                             Path(plan.__file__).read_text("utf-8")))
    written |= {f"{kind}{rel}{verb}" for kind in ("Class",) for rel in ("Owner", "Member") for verb in ("Added", "Removed")}
    written |= {f"{kind}Member{verb}" for kind in ("Unit", "Group") for verb in ("Added", "Removed")}
    assert written <= set(REASONS)
    assert {r.op for r in REASONS.values()} == set(plan.OP_ORDER)
