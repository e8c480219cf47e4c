"""Backup and restore (issue 16, docs/operations.md): tools/backup.sh dumps the PostgreSQL
database and the stored files; after the database is dropped and the files are gone,
tools/restore.sh into a new database and instance folder brings the case back — its workflow
state, its tasks, its event log and its file, byte for byte."""

import hashlib
import shutil
import subprocess
from contextlib import nullcontext
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from handlers.registry import registered_operators
from tests.helpers import MARKET, OWNER, REVIEW_FLOW, record_acceptance, registered
from tests.platform.multi_process import REPOSITORY, certflow_env, fresh_database

pytestmark = pytest.mark.postgres_only


def _app(url: str, instance: Path):
    from flask_migrate import upgrade

    from tests.conftest import make_app

    app = make_app(url, instance)
    with app.app_context():
        upgrade()
    return app


def _snapshot(app) -> dict:
    from certflow.db import db
    from domain.models import Attachment
    from engine.models import EventLog, HumanTask, ProcessInstance

    with app.app_context():
        instance = db.session.scalars(select(ProcessInstance)).one()
        attachment = db.session.scalars(select(Attachment)).one()
        stored = Path(app.instance_path) / "uploads" / attachment.storage_path
        snapshot = {
            "state": instance.state_json,
            "active": instance.active_elements,
            "tasks": sorted((t.element_id, t.state) for t in db.session.scalars(select(HumanTask))),
            "events": db.session.scalar(select(func.count()).select_from(EventLog)),
            "file": (attachment.sha256, hashlib.sha256(stored.read_bytes()).hexdigest()),
        }
        db.session.remove()
        db.engine.dispose()
    return snapshot


def _tool(name: str, env: dict, *args: str) -> None:
    subprocess.run(  # noqa: S603
        ["sh", str(REPOSITORY / "tools" / name), *args],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_a_case_and_its_file_survive_backup_and_restore(postgres_url, tmp_path):
    from certflow.db import db
    from domain.attachments import store_attachment

    source_url = fresh_database(postgres_url, prefix="certflow_backup")
    app = _app(source_url, tmp_path / "before")
    # The browser tests' live server keeps this same test operator registered for the session.
    operator = "test_record_acceptance"
    in_force = operator in registered_operators()
    with app.app_context(), nullcontext() if in_force else registered(operator, record_acceptance):
        engine = app.extensions["certflow.engine"]
        engine.deploy([REVIEW_FLOW], actor=OWNER)
        started = engine.start(
            "review_flow", actor=MARKET, data={"headcount": 1, "application_id": "B-1"}
        )
        (review,) = engine.list_tasks(engine_filter(started.id))
        engine.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 2})
        store_attachment(
            db.session,
            Path(app.instance_path) / "uploads",
            filename="营业执照.pdf",
            content_type="application/pdf",
            data=b"%PDF-1.4 backup test " + bytes(range(256)),
            kind="legal_status",
            uploaded_by=MARKET.username,
            now=engine.clock.now(),
        )
        db.session.commit()
    before = _snapshot(app)

    backup = tmp_path / "backup"
    _tool("backup.sh", certflow_env(source_url, tmp_path / "before"), str(backup))
    # The disaster: the database and the files are gone.
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE {make_url(source_url).database}")
    admin.dispose()
    shutil.rmtree(tmp_path / "before")

    target_url = fresh_database(postgres_url, prefix="certflow_restored")
    _tool("restore.sh", certflow_env(target_url, tmp_path / "after"), str(backup))
    restored = _app(target_url, tmp_path / "after")  # the migrations: already at head
    assert _snapshot(restored) == before
    assert restored.test_client().get("/readyz").status_code == 200


def engine_filter(instance_id: int):
    from engine.service import TaskFilter

    return TaskFilter(state="open", instance_ids=(instance_id,))
