"""Issue 16: at 100k certificates the inbox, the registry search (Chinese name, certificate
number), the case page and the task page must not read whole tables that grow with the clients.
Each page's SELECTs are captured and EXPLAINed on PostgreSQL with sequential scans made as dear
as the planner allows (`enable_seqscan = off`): a statement no index can answer still shows a
`Seq Scan` on a growing table, whatever the table's size here. The timings at size are
measured by benchmarks/data_volume.py, not here."""

import pytest
from sqlalchemy import event, select

from certflow.db import db
from cli.generate import TEMPLATE, generate
from domain.models import Application, Certificate
from engine.models import HumanTask
from tests.certification_case import deploy_everything
from tests.web.test_instance_diagram import staff

pytestmark = pytest.mark.postgres_only

GROWING = ("process_instance", "human_task", "event_log", "certificate", "application")


@pytest.fixture
def generated(engine, app):
    import json

    if db.engine.dialect.name != "postgresql":
        pytest.skip("query plans are PostgreSQL's (production)")
    deploy_everything(engine)
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    ids = generate(engine, db.session, template, 4, batch=4, seed=2, progress=lambda n: None)
    return [db.session.get(Certificate, i) for i in ids]


def scans_of_growing_tables(app, request) -> list[str]:
    """The sequential scans of growing tables in the plans of the page's SELECTs."""
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        assert request().status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    found = []
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    for statement, parameters in statements:
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        )
        for table in GROWING:
            if f"Seq Scan on {table} " in plan + " ":
                found.append(f"{table}: {' '.join(statement.split())[:300]}")
    db.session.rollback()
    return found


def test_the_registry_search_uses_indexes_for_names_and_numbers(generated, app):
    browser = staff(app)
    certificate = generated[2]
    for q in (certificate.organisation_name, certificate.number.lower()):
        page = lambda q=q: browser.get("/registry/", query_string={"q": q})  # noqa: E731
        assert scans_of_growing_tables(app, page) == []
        assert certificate.number in page().get_data(as_text=True)


def test_the_case_page_finds_its_instances_by_index(generated, app):
    browser = staff(app)
    organisation_id = generated[1].organisation_id
    assert scans_of_growing_tables(app, lambda: browser.get(f"/cases/{organisation_id}")) == []


def test_the_task_page_and_the_inbox_use_indexes(generated, app):
    browser = staff(app)
    instance_id = db.session.scalar(
        select(Application.instance_id).where(Application.id == generated[0].application_id)
    )
    task_id = db.session.scalars(
        select(HumanTask.id).where(HumanTask.instance_id == instance_id)
    ).first()
    assert scans_of_growing_tables(app, lambda: browser.get(f"/tasks/{task_id}")) == []
    assert scans_of_growing_tables(app, lambda: browser.get("/")) == []
