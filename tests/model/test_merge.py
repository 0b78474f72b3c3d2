"""apply_delta: upserts, tobedeleted removals, untouched entities, and rows restated by their owner."""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from homeroom.model.merge import Owner, apply_delta


def arrow(rows: list[dict], schema: dict | None = None) -> pa.Table:
    return pl.DataFrame(rows, schema=schema, orient="row").to_arrow()


def rows(table: pa.Table) -> list[tuple]:
    return pl.from_arrow(table).rows()


USERS = arrow(
    [("u1", "ann@x.example", None), ("u2", "bob@x.example", None), ("u3", "cy@x.example", None)],
    {"sourcedId": pl.String, "username": pl.String, "status": pl.String},
)


def test_delta_rows_upsert_by_key_and_tobedeleted_rows_remove():
    delta = arrow(
        [("u2", "robert@x.example", "active"), ("u4", "dee@x.example", "active"), ("u3", "cy@x.example", "tobedeleted")],
        {"sourcedId": pl.String, "username": pl.String, "status": pl.String},
    )
    merged = apply_delta({"users": USERS}, {"users": delta})
    assert rows(merged["users"]) == [
        ("u1", "ann@x.example", None), ("u2", "robert@x.example", "active"), ("u4", "dee@x.example", "active"),
    ]


def test_entities_not_in_the_delta_keep_their_rows_and_new_entities_are_added():
    orgs = arrow([("o1", "North")], {"sourcedId": pl.String, "name": pl.String})
    delta = {"orgs": arrow([("o2", "South", "active")], {"sourcedId": pl.String, "name": pl.String, "status": pl.String})}
    merged = apply_delta({"users": USERS}, delta)
    assert merged["users"] is USERS
    assert rows(merged["orgs"]) == [("o2", "South", "active")]
    assert rows(apply_delta({"users": USERS, "orgs": orgs}, {})["orgs"]) == [("o1", "North")]


def test_deleting_a_record_that_was_never_sent_changes_nothing_and_status_ignores_case():
    delta = arrow([("u9", "zed@x.example", "TOBEDELETED")], {"sourcedId": pl.String, "username": pl.String, "status": pl.String})
    assert rows(apply_delta({"users": USERS}, {"users": delta})["users"]) == rows(USERS)
    assert rows(apply_delta({}, {"users": delta})["users"]) == []


def test_natural_keys_identify_association_rows():
    schema = {"classSourcedId": pl.String, "userSourcedId": pl.String, "role": pl.String, "status": pl.String}
    previous = arrow([("c1", "u1", "student", None), ("c1", "u2", "student", None), ("c2", "u1", "student", None)], schema)
    delta = arrow([("c1", "u2", "student", "tobedeleted"), ("c2", "u1", "teacher", "active")], schema)
    merged = apply_delta({"enrollments": previous}, {"enrollments": delta})
    assert rows(merged["enrollments"]) == [("c1", "u1", "student", None), ("c2", "u1", "student", None), ("c2", "u1", "teacher", "active")]


def test_an_owner_restates_all_of_its_rows():
    schema = {"userSourcedId": pl.String, "orgSourcedId": pl.String, "role": pl.String, "status": pl.String}
    previous = arrow(
        [("u1", "o1", "student", None), ("u1", "o2", "student", None), ("u2", "o1", "teacher", None), ("u3", "o1", "aide", None)], schema
    )
    # u1 now belongs to o3 only; u2's new users row lists no org at all; u3 is not in the delta.
    delta_roles = arrow([("u1", "o3", "student", "active")], schema)
    delta_users = arrow([("u1", "active"), ("u2", "active")], {"sourcedId": pl.String, "status": pl.String})
    owners = {"roles": Owner("userSourcedId", "users")}
    merged = apply_delta({"roles": previous}, {"roles": delta_roles, "users": delta_users}, owners)
    assert rows(merged["roles"]) == [("u3", "o1", "aide", None), ("u1", "o3", "student", "active")]
    # Without the owner, rows are matched by key only.
    assert len(rows(apply_delta({"roles": previous}, {"roles": delta_roles, "users": delta_users})["roles"])) == 5


def test_an_owner_column_of_the_rows_themselves_matches_a_record_whose_key_changed():
    schema = {"classSourcedId": pl.String, "userSourcedId": pl.String, "role": pl.String, "oneRosterSourcedId": pl.String, "status": pl.String}
    previous = arrow([("c1", "u1", "student", "e1", None), ("c2", "u2", "student", "e2", None)], schema)
    delta = arrow([("c3", "u1", "student", "e1", "active"), ("c2", "u2", "student", "e2", "tobedeleted")], schema)
    merged = apply_delta({"enrollments": previous}, {"enrollments": delta}, {"enrollments": Owner("oneRosterSourcedId")})
    assert rows(merged["enrollments"]) == [("c3", "u1", "student", "e1", "active")]


def test_columns_of_either_side_are_kept_and_filled_with_null():
    previous = arrow([("u1", "ann@x.example")], {"sourcedId": pl.String, "username": pl.String})
    delta = arrow([("u2", "bob@x.example", "active", '{"k":"v"}')],
                  {"sourcedId": pl.String, "username": pl.String, "status": pl.String, "metadata": pl.String})
    merged = pl.from_arrow(apply_delta({"users": previous}, {"users": delta})["users"])
    assert merged.columns == ["sourcedId", "username", "status", "metadata"]
    assert merged.rows() == [("u1", "ann@x.example", None, None), ("u2", "bob@x.example", "active", '{"k":"v"}')]
