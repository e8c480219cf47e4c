"""programme.create (R-7.1.1, R-7.1.2, R-7.1.4, R-8.1)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.errors import RuleViolation
from domain.models import Audit, AuditProgramme, Certificate
from handlers import get_handler
from tests.factories import make_application, make_organisation
from tests.helpers import handler_context


def create(params, clock, actor="sam_scheduler"):
    ctx = handler_context(db.session, clock.now(), actor=actor)
    return get_handler("programme.create")(params, ctx)


@pytest.fixture
def contracted(ctx, clock):
    org = make_organisation(db.session, clock.now())
    return make_application(db.session, clock.now(), org, status="contracted")


def programme_params(application_id, **changes):
    params = {
        "application_id": application_id,
        "mystery_shopping": True,
        "random_survey": False,
        "document_review_date": "2026-01-20",
        "initial_audit_start": "2026-02-10",
        "initial_audit_end": "2026-02-11",
        "man_days": "3.0",
        "sizing_notes": "120 人，1 个固定场所",
        "shift_work_notes": "",
    }
    params.update(changes)
    return params


def test_programme_with_activities_and_initial_audit(contracted, clock):
    result = create(programme_params(contracted.id), clock)

    programme = db.session.get(AuditProgramme, result["id"])
    audit = db.session.get(Audit, result["audit_id"])
    assert result == {
        "id": programme.id,
        "audit_id": audit.id,
        "mystery_shopping": True,
        "random_survey": False,
        "shifts": [],
    }
    assert programme.application_id == contracted.id
    assert programme.organisation_id == contracted.organisation_id
    assert programme.man_days == Decimal("3.0")
    assert programme.sizing_notes == "120 人，1 个固定场所"
    assert (programme.created_by, programme.created_at) == ("sam_scheduler", clock.now())
    assert programme.cycle_start is None  # set from the decision date
    assert [(a.kind, a.planned_date) for a in programme.activities] == [
        ("document_review", date(2026, 1, 20)),
        ("initial_audit", date(2026, 2, 10)),
    ]
    assert (audit.kind, audit.status, audit.programme_id) == ("initial", "planned", programme.id)
    assert (audit.start_date, audit.end_date) == (date(2026, 2, 10), date(2026, 2, 11))
    assert audit.application_id == contracted.id
    assert audit.scope == contracted.scope


@pytest.mark.parametrize("review", ["2026-02-10", "2026-02-11", "2026-03-01"])
def test_document_review_must_come_before_the_audit(contracted, clock, review):
    with pytest.raises(RuleViolation) as err:
        create(programme_params(contracted.id, document_review_date=review), clock)
    assert err.value.rule == "R-8.1"
    assert db.session.scalars(select(AuditProgramme)).all() == []


def test_audit_cannot_end_before_it_starts(contracted, clock):
    with pytest.raises(RuleViolation) as err:
        create(programme_params(contracted.id, initial_audit_end="2026-02-09"), clock)
    assert err.value.rule == "R-7.1.2"


def test_shift_work_needs_notes(contracted, clock):
    contracted.shift_work = True
    with pytest.raises(RuleViolation) as err:
        create(programme_params(contracted.id, shift_work_notes="  "), clock)
    assert err.value.rule == "R-7.1.4"

    notes = "夜班维修热线 22:00–06:00 安排一名审查员现场观察"
    with pytest.raises(RuleViolation) as err:  # the shifts themselves are named too
        create(programme_params(contracted.id, shift_work_notes=notes), clock)
    assert (err.value.rule, err.value.field) == ("R-7.1.4", "shifts")
    shifts = [{"name": "白班", "hours": "08:00–16:00"}, {"name": "夜班", "hours": "22:00–06:00"}]
    twice = [shifts[0], {"name": " 白班 ", "hours": "09:00–17:00"}]
    with pytest.raises(RuleViolation, match="twice"):
        create(programme_params(contracted.id, shift_work_notes=notes, shifts=twice), clock)
    params = programme_params(contracted.id, shift_work_notes=notes, shifts=shifts)
    programme = db.session.get(AuditProgramme, create(params, clock)["id"])
    assert (programme.shift_work_notes, programme.shifts) == (notes, shifts)


@pytest.mark.parametrize("man_days", [0, "0.4", None, "2.25", "abc"])
def test_man_days_are_at_least_half_a_day(contracted, clock, man_days):
    with pytest.raises(RuleViolation) as err:
        create(programme_params(contracted.id, man_days=man_days), clock)
    assert err.value.rule == "R-7.1.2"


def test_one_programme_per_application_and_cycle(contracted, clock):
    create(programme_params(contracted.id), clock)
    with pytest.raises(RuleViolation) as err:
        create(programme_params(contracted.id), clock)
    assert err.value.rule == "R-7.1.1"

    # a second application of the same client while the first is in progress
    org = contracted.organisation
    second = make_application(db.session, clock.now(), org, status="contracted")
    with pytest.raises(RuleViolation, match="one programme per client"):
        create(programme_params(second.id), clock)

    # … allowed once the first was terminated and its cycle never started
    contracted.status = "terminated"
    assert create(programme_params(second.id), clock)["id"]


def test_a_running_cycle_blocks_a_new_programme(contracted, clock):
    first = db.session.get(AuditProgramme, create(programme_params(contracted.id), clock)["id"])
    contracted.status = "certified"
    first.cycle_start = clock.now().date() - timedelta(days=100)
    first.cycle_end = first.cycle_start + timedelta(days=3 * 365)
    org = contracted.organisation
    certificate = Certificate(
        number="CTC-SHFW-2025-0001",
        organisation_id=org.id,
        application_id=contracted.id,
        organisation_name=org.name,
        organisation_address=org.address,
        scope=contracted.scope,
        star_level=4,
        standard="GB/T 27922-2011",
        rules="rules",
        issuing_body="CTC",
        signatory="sig",
        issued_on=first.cycle_start,
        original_issued_on=first.cycle_start,
        expires_on=first.cycle_end,
        status="valid",
        mark="mark",
    )
    db.session.add(certificate)
    second = make_application(db.session, clock.now(), org)
    with pytest.raises(RuleViolation) as err:
        create(programme_params(second.id), clock)
    assert err.value.rule == "R-7.1.1"

    # a withdrawn certificate ends the cycle early: the client may apply anew
    certificate.status = "withdrawn"
    assert create(programme_params(second.id), clock)["id"]


def test_programme_needs_a_contract(ctx, clock):
    org = make_organisation(db.session, clock.now())
    application = make_application(db.session, clock.now(), org, status="accepted")
    with pytest.raises(RuleViolation) as err:
        create(programme_params(application.id), clock)
    assert err.value.rule == "R-6.2.2a"


def test_flags_must_be_booleans(contracted, clock):
    with pytest.raises(RuleViolation) as err:
        create(programme_params(contracted.id, mystery_shopping="yes"), clock)
    assert err.value.rule == "R-8.2"
