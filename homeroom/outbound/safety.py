"""What holds a plan for approval: the checks of ``homeroom.runs.holds``, over a plan's counts.

A plan is held (nothing applied until an administrator approves it, or discards it) when:

- it creates, disables or removes memberships above the flow set's thresholds (a share of what exists now, and/or
  an absolute number): ``PlanThreshold``;
- it disables more than ``perOrgDisables`` of one organization's people at once (a school missing from the
  source, or its roles gone): ``OrgDisableThreshold``;
- the directory snapshot lost more than ``directoryShrink`` of its accounts since the snapshot before (it came in
  short, and would make the plan re-create what exists): ``DirectoryShort``;
- a file the inbound flow's last completed run had is missing from this run (``FileMissing``, shared with runs);
- the rename policy is ``approval`` and the plan renames accounts: ``RenamePending``.
"""

from __future__ import annotations

from homeroom.outbound.config import Limit, OutboundOptions
from homeroom.outbound.plan import Plan
from homeroom.runs import holds

_NEVER = float("inf")


def _guard(name: str, action: str, affected: int, existing: int, limit: Limit) -> tuple[holds.Guarded, dict[str, float]]:
    guarded = holds.Guarded(name, affected, existing, action=action, code="PlanThreshold", limit=limit.absolute)
    return guarded, {name: _NEVER if limit.share is None else limit.share}


def plan_hold_reasons(plan: Plan, options: OutboundOptions, *, previous_files: list[str] | None = None,
                      present_files: list[str] | None = None, directory_shrink: tuple[int, int] = (0, 0)) -> list[dict]:
    """Every reason to hold this plan (empty: it may be applied)."""
    t = options.thresholds
    c = plan.counts
    guarded, shares = [], {}
    for name, action, affected, existing, limit in (
        ("accounts", "created", c.get("creates", 0), c.get("existing", 0), t.creates),
        ("enabled accounts", "disabled", c.get("disables", 0), c.get("enabled", 0), t.disables),
        ("managed memberships", "removed", c.get("memberRemovals", 0), c.get("memberships", 0), t.member_removals),
    ):
        g, share = _guard(name, action, affected, existing, limit)
        guarded.append(g)
        shares.update(share)
    reasons = holds.threshold_reasons(guarded, shares, _NEVER)
    if plan.disables_by_org is not None:
        per_org = [holds.Guarded(f"people of {row['orgSourcedId']}", row["disables"], row["people"], action="disabled",
                                 code="OrgDisableThreshold")
                   for row in plan.disables_by_org.iter_rows(named=True)]  # one row per org, not per person
        reasons += holds.threshold_reasons(per_org, {}, t.per_org_disables)
    vanished, before = directory_shrink
    reasons += holds.threshold_reasons(
        [holds.Guarded("directory accounts", vanished, before, action="missing from the latest snapshot", code="DirectoryShort")],
        {}, t.directory_shrink)
    if previous_files is not None and present_files is not None:
        reasons += holds.missing_file_reasons(previous_files, present_files)
    if options.renames == "approval" and c.get("renames"):
        reasons.append({"code": "RenamePending", "renames": c["renames"],
                        "message": f"{c['renames']:,} accounts would be renamed (login name or UPN); the rename policy "
                        "asks for approval."})
    return reasons
