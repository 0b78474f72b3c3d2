"""A plan's pages are read by seq range and equal the pages of the sorted plan, for every kind and every page."""

from __future__ import annotations

import polars as pl
import pytest

from homeroom.web import plans


def _plan(contiguous: bool = True) -> pl.LazyFrame:
    """Two flow sets' plans, stored out of order: set B then set A, each numbered 1.. in op order."""
    rows = []
    for set_id, counts in (("B", {"create_user": 7, "update_user": 3, "add_member": 61, "remove_member": 2}),
                           ("A", {"create_unit": 2, "create_user": 55, "disable_user": 4, "add_member": 9})):
        seq = 1
        for op, n in counts.items():
            for _ in range(n):
                rows.append({"flowSetId": set_id, "seq": seq, "op": op})
                seq += 1 if contiguous or op != "create_user" else 2  # a gap in create_user when not contiguous
    frame = pl.DataFrame(rows).with_columns(*(pl.lit(None, pl.String).alias(c) for c in plans.OPERATION_COLUMNS
                                              if c not in ("flowSetId", "seq", "op")))
    return frame.reverse().lazy()


@pytest.mark.parametrize("contiguous", [True, False], ids=["seq ranges", "sorted (a gap)"])
@pytest.mark.parametrize("kind", [None, *plans.KINDS])
def test_every_page_equals_the_sorted_plans(kind, contiguous):
    plan = _plan(contiguous)
    ops = None if kind is None else plans.KINDS[kind][1]
    expected = (plan if ops is None else plan.filter(pl.col("op").is_in(list(ops)))).sort("flowSetId", "seq").collect()
    for offset in range(0, expected.height + 20, 10):
        page = plans._page(plan, ops, offset, 10)
        assert page.select("flowSetId", "seq").rows() == expected.slice(offset, 10).select("flowSetId", "seq").rows(), offset
