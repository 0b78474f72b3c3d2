"""When runs happen: the 12-hourly schedule and its skip after an on-demand run (the scheduler's ticks through a
serving app are tested in tests/api/test_api_uploads_runs.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from homeroom.runs.scheduler import next_scheduled


def test_next_scheduled_run_every_interval_skipping_one_within_ten_hours_of_an_on_demand_run():
    t0 = datetime(2026, 9, 1, 0, 0, tzinfo=timezone.utc)
    twelve, ten = timedelta(hours=12), timedelta(hours=10)
    assert next_scheduled(anchor=t0, last_scheduled=None, last_on_demand=None, interval=twelve, skip_window=ten) == t0 + twelve
    last = t0 + twelve
    assert next_scheduled(anchor=t0, last_scheduled=last, last_on_demand=None, interval=twelve, skip_window=ten) == last + twelve
    # an on-demand run 3 hours after the last scheduled one: the next is due 9 hours later, within 10: skipped
    on_demand = last + timedelta(hours=3)
    assert next_scheduled(anchor=t0, last_scheduled=last, last_on_demand=on_demand, interval=twelve, skip_window=ten) == last + 2 * twelve
    # one 1 hour after: the next is 11 hours later, not skipped
    early = last + timedelta(hours=1)
    assert next_scheduled(anchor=t0, last_scheduled=last, last_on_demand=early, interval=twelve, skip_window=ten) == last + twelve
