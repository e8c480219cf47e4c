"""Issue 16: a lookup by a foreign key must not read the referencing table whole once it holds
100 000 certificates' rows. Read from the database the migrations built (SQLite and
PostgreSQL): every single-column foreign key leads some index, unique constraint or primary key
(migration 0023 added the fourteen that lacked one, e.g. `certificate.replaces_id`, which every
completion on a reissued certificate's cycle follows)."""

from sqlalchemy import inspect

from certflow.db import db


def leading_columns(inspector, table: str) -> set[str]:
    """The first column of each index, unique constraint and the primary key of `table`."""
    firsts = {index["column_names"][0] for index in inspector.get_indexes(table)}
    firsts |= {unique["column_names"][0] for unique in inspector.get_unique_constraints(table)}
    primary = inspector.get_pk_constraint(table)["constrained_columns"]
    return firsts | ({primary[0]} if primary else set())


def unindexed_foreign_keys(inspector) -> list[str]:
    missing = []
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        indexed = leading_columns(inspector, table)
        for key in inspector.get_foreign_keys(table):
            columns = key["constrained_columns"]
            if len(columns) == 1 and columns[0] not in indexed:
                missing.append(f"{table}.{columns[0]} → {key['referred_table']}")
    return sorted(missing)


def test_every_foreign_key_is_indexed(ctx):
    inspector = inspect(db.engine)
    assert len(inspector.get_table_names()) > 40  # the whole schema, not an empty database
    assert unindexed_foreign_keys(inspector) == []


def test_the_check_finds_a_foreign_key_without_an_index(ctx):
    """The check itself: a table whose foreign key has no index is reported."""
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE fk_probe (id INTEGER PRIMARY KEY, "
            "certificate_id INTEGER REFERENCES certificate (id))"
        )
    try:
        assert unindexed_foreign_keys(inspect(db.engine)) == [
            "fk_probe.certificate_id → certificate"
        ]
    finally:
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE fk_probe")
