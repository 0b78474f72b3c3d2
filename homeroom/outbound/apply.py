"""The apply loop: hand a plan's operations to a target's writer in batches, record each result, resume after a crash.

- Operations go in ``seq`` order, in batches that never mix phases (units, users, groups, memberships), so that
  what a later phase points at exists; ids the writer returned for created objects are filled into the later
  operations that name them by key (a writer can also find them by anchor).
- After each batch its results are recorded (``record``), so a rerun skips what is done. An op whose result was
  never recorded (the process died between the write and the record) is applied again: writers look objects up
  by their anchor before creating them, and membership adds and removes are idempotent, so nothing duplicates.
- A ``TransientError`` (429, 503) waits ``retry_after`` seconds when the target said so, else backs off
  exponentially, and retries the batch; after ``max_retries`` the error stops the apply (what was done is kept).
- A create's default password is filled in from the flow's secrets here, in the op handed to the writer only;
  it is never in the plan, a result or a log.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from homeroom.errors import ConfigurationError, TransientError

Writer = Callable[[Any, list[dict]], list[dict]]
PHASES = {"create_unit": 0, "update_unit": 0, "create_user": 1, "update_user": 1, "disable_user": 1,
          "create_group": 2, "update_group": 2}
MEMBERSHIP_PHASE = 3
FINISHED = ("done", "skipped")
OP_FIELDS = ("target", "seq", "op", "objectKind", "groupKind", "objectKey", "accountId", "memberKey", "memberId",
             "attributes", "old", "reason")


@dataclass
class ApplyReport:
    """What an apply did."""

    total: int = 0
    already_done: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    retries: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


def writer_for(kind: str) -> Writer:
    """The ``apply`` of ``homeroom/targets/<kind>/writer.py``; a kind without a writer yet is a configuration error."""
    module = f"homeroom.targets.{kind.replace('-', '_')}.writer"
    try:
        return importlib.import_module(module).apply
    except ModuleNotFoundError:
        raise ConfigurationError(f"target kind {kind!r} has no writer yet ({module}); its plan can be shown and "
                                 "exported but not applied") from None


def _batches(ops: list[dict], size: int) -> list[list[dict]]:
    batches: list[list[dict]] = []
    phase = None
    for op in ops:
        p = PHASES.get(op["op"], MEMBERSHIP_PHASE)
        if not batches or p != phase or len(batches[-1]) >= size:
            batches.append([])
            phase = p
        batches[-1].append(op)
    return batches


def _for_writer(op: dict, created: Mapping[tuple[str, str], str], secrets: Mapping[str, str]) -> dict:
    """The op as the writer gets it (the contract of ``homeroom/targets/base.py``): ids of objects created earlier
    filled in, ``attributes`` and ``old`` as JSON objects (dicts; the plan table keeps them as JSON text), the
    default password resolved."""
    op = {k: op.get(k) for k in OP_FIELDS}
    family = "user" if op["objectKind"] == "user" else op["objectKind"]
    if op["accountId"] is None and op["op"] not in ("create_user", "create_group", "create_unit"):
        op["accountId"] = created.get((family, op["objectKey"]))
    if op["memberKey"] is not None and op["memberId"] is None:
        op["memberId"] = created.get(("user", op["memberKey"]))
    for field in ("attributes", "old"):
        if isinstance(op.get(field), str):
            op[field] = json.loads(op[field]) if op[field] else None
    if op["op"] == "create_user" and op["attributes"]:
        secret = op["attributes"].pop("password_from", None)
        if secret is not None and secrets.get(secret) is not None:
            op["attributes"]["password"] = secrets[secret]
    return op


def apply_plan(
    plan: pl.DataFrame,
    writer: Writer,
    target: Any,
    *,
    record: Callable[[list[dict]], None],
    secrets: Mapping[str, str] | None = None,
    batch_size: int = 200,
    max_retries: int = 8,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str], None] | None = None,
) -> ApplyReport:
    """Apply the ops of ``plan`` (a stored plan: ``status`` says what earlier applies did) through ``writer``."""
    say = progress or (lambda _m: None)
    secrets = secrets or {}
    rows = plan.sort("seq").to_dicts()
    report = ApplyReport(total=len(rows))
    created: dict[tuple[str, str], str] = {}
    for row in rows:  # ids earlier applies got for the objects they created
        if row.get("status") == "done" and row["op"].startswith("create_") and row.get("resultAccountId"):
            created[(row["objectKind"], row["objectKey"])] = row["resultAccountId"]
    pending = [r for r in rows if r.get("status") not in FINISHED]
    report.already_done = report.total - len(pending)
    for batch in _batches(pending, batch_size):
        attempt = 0
        while True:
            try:
                results = writer(target, [_for_writer(op, created, secrets) for op in batch])
                break
            except TransientError as exc:
                attempt += 1
                report.retries += 1
                if attempt > max_retries:
                    report.errors.append(str(exc))
                    raise
                wait = exc.retry_after if exc.retry_after is not None else min(60.0, 0.5 * 2 ** (attempt - 1))
                say(f"throttled ({exc}); retrying in {wait:g}s")
                sleep(wait)
        by_seq = {op["seq"]: op for op in batch}
        for result in results:
            op = by_seq.get(result["seq"])
            if op is None:
                continue
            status = result["status"]
            if status == "done" and op["op"].startswith("create_") and result.get("accountId"):
                created[(op["objectKind"], op["objectKey"])] = result["accountId"]
            report.done += status == "done"
            report.failed += status == "failed"
            report.skipped += status == "skipped"
            if status == "failed" and result.get("error"):
                report.errors.append(f"op {op['seq']} ({op['op']} {op['objectKey']}): {result['error']}")
        record([{"seq": r["seq"], "status": r["status"], "accountId": r.get("accountId"), "error": r.get("error")} for r in results])
        report.batches += 1
        say(f"applied {report.already_done + report.done + report.failed + report.skipped:,} of {report.total:,} operations")
    return report
