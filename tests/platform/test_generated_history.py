"""Issue 16: `certflow generate` writes the rows a real case leaves. A case is run through the
real engine to its grant; certified clients are then generated from the history template and
their rows are compared with the real case's, table by table: the same columns filled, the same
values where they do not depend on the client, the same task and event sequence, the same
pruned state; the pages and the registry search find them.

The template shipped in cli/data/ must match the real case's (tasks, events, diagram marks);
CERTFLOW_RECORD_HISTORY=1 re-records it from this test's case after a change of the process."""

import json
import os
import re

import pytest
from sqlalchemy import select

from certflow.db import db
from cli.generate import TEMPLATE, generate
from domain.models import (
    Announcement,
    Application,
    Certificate,
    CertificateEvent,
    Organisation,
    Site,
)
from domain.programme_dates import certificate_expiry
from domain.uscc import is_valid_uscc
from engine.models import EventLog, HumanTask, ProcessInstance
from tests.certification_case import granted_case
from tests.web.test_instance_diagram import staff

# What the generator does not write (domain/bulk_certificates.py): the decision and the audit.
NOT_GENERATED = {"certificate": {"decision_id"}}
CLIENT_COLUMNS = {"created_at", "submitted_at", "reviewed_at"}


def structure(template: dict) -> dict:
    return {
        "process_id": template["process_id"],
        "marks": template["marks"],
        "tasks": [
            (t["element_id"], t["name"], t["lane"], t["candidate_role"], t["form_file"])
            for t in template["tasks"]
        ],
        "events": [(e["event_type"], e["element_id"], e["task"]) for e in template["events"]],
    }


def filled(row) -> set[str]:
    return {column.key for column in row.__table__.columns if getattr(row, column.key) is not None}


def only(model, **where):
    return db.session.scalars(select(model).filter_by(**where).order_by(model.id)).all()


@pytest.fixture
def real_and_generated(engine, clock, tmp_path):
    case = granted_case(engine, clock, tmp_path / "uploads")
    template = engine.history_template(case.instance_id)
    if os.environ.get("CERTFLOW_RECORD_HISTORY") == "1":
        TEMPLATE.write_text(json.dumps(template, ensure_ascii=False, indent=1) + "\n")
    shipped = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    assert structure(shipped) == structure(template), (
        "cli/data/certification_history.json no longer matches the certification process: "
        "re-record it with CERTFLOW_RECORD_HISTORY=1"
    )
    engine.prune_finished()  # a finished instance as the engine leaves it once pruned
    real = db.session.scalars(select(Certificate)).one()
    ids = generate(engine, db.session, shipped, 3, batch=2, seed=1, progress=lambda n: None)
    return case, real, [db.session.get(Certificate, i) for i in ids]


def test_generated_clients_have_the_rows_of_a_real_case(real_and_generated):
    case, real, generated = real_and_generated
    assert len({c.number for c in generated}) == 3
    real_app = db.session.get(Application, real.application_id)
    real_instance = db.session.get(ProcessInstance, real_app.instance_id)
    for certificate in generated:
        assert filled(certificate) == filled(real) - NOT_GENERATED["certificate"]
        assert re.fullmatch(r"CTC-SHFW-\d{4}-\d{4,}", certificate.number)
        for column in (
            "status",
            "standard",
            "rules",
            "issuing_body",
            "signatory",
            "mark_use_allowed",
        ):
            assert getattr(certificate, column) == getattr(real, column), column
        assert certificate.mark == f"服务认证标志 {certificate.star_level}星"
        assert certificate.expires_on == certificate_expiry(certificate.issued_on)
        assert [set(site) for site in certificate.sites] == [set(real.sites[0])]

        organisation = db.session.get(Organisation, certificate.organisation_id)
        real_org = db.session.get(Organisation, real.organisation_id)
        assert filled(organisation) == filled(real_org) and is_valid_uscc(organisation.uscc)
        [site] = only(Site, organisation_id=organisation.id)
        assert filled(site) == filled(only(Site, organisation_id=real_org.id)[0])

        application = db.session.get(Application, certificate.application_id)
        assert filled(application) == filled(real_app)
        assert set(application.review) == set(real_app.review)
        assert (application.kind, application.status) == (real_app.kind, real_app.status)

        [event] = only(CertificateEvent, certificate_id=certificate.id)
        [real_event] = only(CertificateEvent, certificate_id=real.id)
        assert filled(event) == filled(real_event) and set(event.data) == set(real_event.data)
        assert (event.event, event.rule, event.status_after) == ("issued", "R-9.1", "valid")
        [notice] = only(Announcement, certificate_id=certificate.id)
        [real_notice] = only(Announcement, certificate_id=real.id)
        assert filled(notice) == filled(real_notice) and notice.kind == real_notice.kind
        assert certificate.number in notice.title and certificate.organisation_name in notice.body

        instance = db.session.get(ProcessInstance, application.instance_id)
        assert instance.business_key == application.number
        assert filled(instance) == filled(real_instance)
        for column in ("status", "state_json", "serializer_version", "active_elements"):
            assert getattr(instance, column) == getattr(real_instance, column), column
        assert (
            instance.ended_at - instance.started_at
            == real_instance.ended_at - real_instance.started_at
        )
        assert tasks_of(instance) == tasks_of(real_instance)
        assert events_of(instance, application.submitted_by) == events_of(
            real_instance, real_app.submitted_by
        )


def tasks_of(instance) -> list[tuple]:
    start = instance.started_at
    rows = [
        (
            t.element_id,
            t.name,
            t.lane,
            t.candidate_role,
            t.form_file,
            t.state,
            t.created_at - start,
            t.due_at - start if t.due_at else None,
            t.completed_at - start,
            sorted(filled(t)),
        )
        for t in only(HumanTask, instance_id=instance.id)
    ]
    return sorted(rows, key=repr)  # ids are random: compare as a set with repetitions


def events_of(instance, client: str) -> list[tuple]:
    tasks = {t.id: t.element_id for t in only(HumanTask, instance_id=instance.id)}
    return [
        (
            e.event_type,
            "the client" if e.actor == client else e.actor,
            e.element_id,
            tasks.get(e.task_id),
            e.at - instance.started_at,
            sorted(e.data),
            sorted((e.data or {}).get("data", {})),
        )
        for e in only(EventLog, instance_id=instance.id)
        if e.event_type != "instance_pruned"
    ]


def test_generated_clients_show_on_their_pages_and_in_the_registry(real_and_generated, app):
    _, _, generated = real_and_generated
    certificate = generated[1]
    application = db.session.get(Application, certificate.application_id)
    browser = staff(app)
    assert browser.get(f"/cases/{certificate.organisation_id}").status_code == 200
    page = browser.get(f"/instances/{application.instance_id}")
    assert page.status_code == 200
    task = only(HumanTask, instance_id=application.instance_id)[0]
    assert browser.get(f"/tasks/{task.id}").status_code == 200
    by_name = browser.get("/registry/", query_string={"q": certificate.organisation_name})
    by_number = browser.get("/registry/", query_string={"q": certificate.number.lower()})
    for answer in (by_name, by_number):
        assert answer.status_code == 200 and certificate.number in answer.get_data(as_text=True)


def test_numbers_continue_after_generated_ones(real_and_generated):
    """The counters moved past the generated numbers: the next real number is new."""
    from domain.numbering import next_number

    _, _, generated = real_and_generated
    year = int(generated[0].number.split("-")[2])
    latest = max(
        (c for c in generated if c.number.split("-")[2] == str(year)),
        key=lambda c: int(c.number.rsplit("-", 1)[1]),
    )
    following = next_number(db.session, Certificate.number, "CTC-SHFW", year)
    assert following not in {c.number for c in generated}
    assert int(following.rsplit("-", 1)[1]) == int(latest.number.rsplit("-", 1)[1]) + 1
