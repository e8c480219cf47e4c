"""Issue 16, migration 0024: on PostgreSQL a running instance's state is written with lz4 (where
the server has it) into pages that keep room for its next version (fillfactor 80), so a change
of a large running state costs less; SQLite stores it as before."""

import pytest
from sqlalchemy import select

from certflow.db import db
from engine.models import ProcessInstance
from tests.helpers import MARKET


def server_has_lz4() -> bool:
    with db.engine.connect() as connection:
        built = connection.exec_driver_sql("SHOW server_version_num").scalar()
        if int(built) < 140000:
            return False
        try:  # a server built without lz4 refuses the setting
            connection.exec_driver_sql("SET default_toast_compression = lz4")
        except Exception:  # noqa: BLE001 — any refusal means: not available
            return False
        return True


def test_a_large_state_is_written_with_lz4_into_pages_with_room(deployed):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("compression and fillfactor are PostgreSQL storage settings")
    with db.engine.connect() as connection:
        options = connection.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE relname = 'process_instance'"
        ).scalar()
    assert options == ["fillfactor=80"]
    remarks = "a long remark " * 4000  # ≈ 56 KB: stored compressed, out of line
    instance = deployed.start(
        "review_flow",
        actor=MARKET,
        business_key="APP-1",
        data={"headcount": 120, "application_id": "APP-1", "remarks": remarks},
    )
    db.session.commit()
    method, stored, raw = db.session.execute(
        select(
            db.func.pg_column_compression(ProcessInstance.state_json),
            db.func.pg_column_size(ProcessInstance.state_json),
            db.func.octet_length(ProcessInstance.state_json),
        ).where(ProcessInstance.id == instance.id)
    ).one()
    assert method == ("lz4" if server_has_lz4() else "pglz")
    assert stored < raw / 10  # compressed, and the state reads back whole:
    assert remarks in db.session.scalar(
        select(ProcessInstance.state_json).where(ProcessInstance.id == instance.id)
    )
