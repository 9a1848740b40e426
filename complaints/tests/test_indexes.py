"""The case table's indexes (migration 0011): every insert and update pays for each one, so none is
kept that another index already serves (docs/import.md, "What limits the rate")."""

from django.db import connection


def _indexes() -> dict[str, tuple[str, ...]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "complaints_complaint")
    return {name: tuple(info["columns"] or ()) for name, info in found.items() if info["index"]}


def test_no_single_column_index_that_a_composite_serves_and_no_like_copies(db):
    indexes = _indexes()
    columns = list(indexes.values())
    for redundant in [("status",), ("priority",), ("department_id",), ("owner_id",)]:
        assert redundant not in columns, redundant
    for lead in ["status", "priority", "department_id", "owner_id"]:  # still served, by a composite
        assert any(len(c) > 1 and c[0] == lead for c in columns), lead
    assert not [name for name in indexes if name.endswith("_like") and "tracking_no" not in name]
    for name, column in [
        ("complaint_phone_hash", "complainant_phone_hash"),
        ("complaint_email_hash", "complainant_email_hash"),
        ("complaint_product_sku", "product_sku"),
        ("complaint_province_code", "province_code"),
    ]:
        assert indexes[name] == (column,) and columns.count((column,)) == 1
    # What the list, the search and the imports need is still there.
    for kept in ["complaint_list_filters_due", "complaint_open_by_due", "complaints__departm_77b491_idx"]:
        assert kept in indexes, kept
    with connection.cursor() as cursor:
        every = connection.introspection.get_constraints(cursor, "complaints_complaint")
    assert any(info["unique"] and info["columns"] == ["tracking_no"] for info in every.values())
    assert any(info["unique"] and info["columns"] == ["external_source", "external_id"] for info in every.values())


def test_the_migration_runs_again_over_what_it_left(db):
    """Found by columns, not by name: running it on a table it already changed changes nothing."""
    from importlib import import_module

    class Editor:  # records what the migration would run
        def __init__(self) -> None:
            self.connection, self.statements = connection, []

        def quote_name(self, name: str) -> str:
            return connection.ops.quote_name(name)

        def execute(self, sql: str) -> None:
            self.statements.append(sql)

    editor = Editor()
    import_module("complaints.migrations.0011_fewer_indexes").forwards(None, editor)
    assert [s for s in editor.statements if not s.startswith("SET LOCAL")] == []


def test_a_ledger_event_pays_for_two_indexes_and_the_primary_key(db):
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "ledger_ledgerevent")
    indexes = sorted(
        tuple(info["columns"])
        for info in found.values()
        if (info["index"] or info["unique"]) and not info["primary_key"] and not info["foreign_key"]
    )
    assert indexes == [("complaint_id", "seq"), ("created_at",)]


def test_customer_look_ups_have_plain_indexes_only(db):
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "customers_customer")
    indexes = {name: tuple(info["columns"]) for name, info in found.items() if info["index"]}
    assert not [name for name in indexes if name.endswith("_like")]
    for name, column in [
        ("customer_phone_hash", "phone_hash"),
        ("customer_email_hash", "email_hash"),
        ("customer_no", "customer_no"),
        ("customer_id_number_hash", "id_number_hash"),
        ("customer_value_tier", "value_tier"),
    ]:
        assert indexes[name] == (column,) and list(indexes.values()).count((column,)) == 1
