"""R-10.1(f) the bronze plaque showing the level, through the real diagrams: the certificate's
issue throws plaque_due (certification.bpmn Event_PlaqueDue), the technical department records the
plaque in mark_plaque.bpmn (Task_IssuePlaque → plaque.record), and the plaque's state follows
the certificate: taken down while suspended, returned when withdrawn or cancelled, returned and
replaced when reissued at another level (domain/mark_plaque.py)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.db import db
from domain import certificate_status
from domain.certificates import certificate_reissue
from domain.mark_plaque import plaques_of
from domain.models import Certificate
from domain.models_marks import MarkPlaque
from engine.errors import FormValidationError
from engine.models import HumanTask, ProcessInstance
from tests.certification_case import granted_case

STAFF = "shen_auditdept"


@pytest.fixture
def case(engine, clock, tmp_path):
    return granted_case(engine, clock, tmp_path / "uploads")


def plaque_task(case) -> HumanTask:
    db.session.rollback()
    rows = db.session.scalars(
        select(HumanTask)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            ProcessInstance.process_id == "mark_plaque",
            HumanTask.element_id == "Task_IssuePlaque",
            HumanTask.state == "open",
        )
    ).all()
    assert len(rows) == 1, rows
    return rows[0]


def certificate() -> Certificate:
    return db.session.scalars(select(Certificate).order_by(Certificate.id.desc())).first()


def issue_plaque(case, number="TP-2026-0001", **extra):
    task = plaque_task(case)
    data = {
        "plaque_number": number,
        "issued_on": case.today(),
        "recipient": "王芳 福建省福州市鼓楼区五四路1号",
        "note": None,
        **extra,
    }
    case.engine.complete_task(task.id, actor=case.people.decider, data=data)
    db.session.commit()
    return task


def state(cert_id: int) -> str:
    db.session.expire_all()
    (view,) = plaques_of(db.session, [cert_id])
    return view.state


def test_the_certificate_issue_asks_the_technical_department_for_the_plaque_of_its_level(case):
    # The certification case is over; the plaque is a step of its own after the issue.
    assert case.instance().status == "completed"
    task = plaque_task(case)
    assert task.candidate_role == "technical_dept"  # the department that issues certificates
    data = case.engine.task_data(task)
    cert = certificate()
    assert data["plaque_certificate"]["number"] == cert.number
    assert data["plaque_certificate"]["star_level"] == cert.star_level == 4
    issue_plaque(case)
    (row,) = db.session.scalars(select(MarkPlaque)).all()
    assert (row.certificate_id, row.star_level, row.plaque_number) == (cert.id, 4, "TP-2026-0001")
    assert row.recorded_by == case.people.decider.username
    assert row.recipient.startswith("王芳")
    assert state(cert.id) == "in_use"
    instance = db.session.get(ProcessInstance, task.instance_id)
    assert instance.status == "completed" and instance.business_key == cert.number


def test_a_plaque_number_already_used_or_a_date_before_the_certificate_is_a_422(case):
    cert = certificate()
    db.session.add(
        MarkPlaque(
            certificate_id=cert.id,
            plaque_number="TP-USED",
            star_level=4,
            issued_on=cert.issued_on,
            recipient="x",
            recorded_by="x",
            recorded_at=case.clock.now(),
        )
    )
    db.session.commit()
    task = plaque_task(case)
    base = {"plaque_number": "TP-NEW", "issued_on": case.today(), "recipient": "王芳", "note": None}
    for field, value in (
        ("plaque_number", "TP-USED"),
        ("issued_on", (cert.issued_on - timedelta(days=1)).isoformat()),
    ):
        with pytest.raises(FormValidationError) as refused:
            case.engine.complete_task(
                task.id, actor=case.people.decider, data={**base, field: value}
            )
        assert field in refused.value.errors, refused.value.errors
        db.session.rollback()
    assert plaque_task(case).id == task.id  # still open, nothing recorded
    assert (
        db.session.scalar(select(MarkPlaque.id).where(MarkPlaque.plaque_number == "TP-NEW")) is None
    )


def test_the_plaque_follows_the_certificate_taken_down_then_returned(case):
    issue_plaque(case)
    cert = certificate()
    now = case.clock.now() + timedelta(days=30)
    certificate_status.suspend(
        db.session,
        certificate_id=cert.id,
        reason="c",
        sites=[],
        detail="",
        correction_days=30,
        max_months=6,
        actor=STAFF,
        now=now,
    )
    assert state(cert.id) == "taken_down"  # R-10.1(e): no mark use while suspended
    certificate_status.restore(db.session, certificate_id=cert.id, note="", actor=STAFF, now=now)
    assert state(cert.id) == "in_use"
    certificate_status.withdraw(
        db.session, certificate_id=cert.id, reason="b", detail="", actor=STAFF, now=now
    )
    assert state(cert.id) == "to_return"
    db.session.rollback()


def test_a_reissue_at_another_level_replaces_the_plaque_and_one_at_the_same_level_keeps_it(case):
    issue_plaque(case)
    cert = certificate()
    now = case.clock.now() + timedelta(days=30)
    renamed = certificate_reissue(
        db.session,
        cert,
        changes={"organisation_name": "福州优服电器股份有限公司"},
        event="reissued",
        rule="R-9.3",
        reason="更名 renamed",
        actor=STAFF,
        now=now,
    )
    assert state(cert.id) == "in_use"  # the same level: the plaque stays valid
    certificate_reissue(
        db.session,
        renamed,
        changes={},
        star_level=3,
        event="downgraded",
        rule="R-8.10.3",
        reason="降级 downgraded",
        actor=STAFF,
        now=now,
    )
    assert state(cert.id) == "replaced"
    db.session.rollback()
