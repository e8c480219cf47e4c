"""The auditor register kept by HR (R-7.2.2): registration, evaluation, renewal, history, the
registrations about to lapse, and what the team appointment makes of them."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from certflow.dates import china_date
from certflow.db import db
from domain.auditor_register import (
    AuditorRecord,
    Evaluation,
    RegisterProblems,
    expiring,
    record_evaluation,
    register_auditor,
    renew_registration,
)
from domain.models_people import AuditorEvent
from domain.team import Nominee, member_refusals


@dataclass
class Act:
    session: object
    now: datetime
    actor: str = "hank"


@pytest.fixture
def act(ctx, clock):
    return Act(db.session, clock.now())


def today(act) -> date:
    return china_date(act.now)


def registered(act, **changes):
    values = {
        "name": "张审查",
        "registration_number": "CCAA-SC-2001",
        "registration_expires_on": today(act) + timedelta(days=30),
        "level": "senior",
        "team_leader_qualified": True,
        "fields": ["after_sales_service"],
        "languages": ["zh", "en"],
    }
    values.update(changes)
    return register_auditor(act, AuditorRecord(**values))


def evaluate(act, auditor, result="qualified", **changes):
    values = {"evaluated_on": today(act), "evaluator": "人力资源部 王经理", "result": result}
    values.update(changes)
    return record_evaluation(act, auditor.id, Evaluation(**values))


def test_registering_keeps_the_record_and_its_first_history_row(act):
    auditor = registered(act)
    assert (auditor.registration_number, auditor.team_leader_qualified) == ("CCAA-SC-2001", True)
    assert auditor.languages == ["zh", "en"]
    assert [e.kind for e in auditor.events] == ["registered"]


def test_an_auditor_without_registration_or_validity_is_refused_naming_fields(act):
    with pytest.raises(RegisterProblems) as refused:
        registered(act, registration_number="", registration_expires_on=None, languages=[])
    assert set(refused.value.errors) == {
        "registration_number",
        "registration_expires_on",
        "languages",
    }
    assert all(m.startswith("R-7.2") for ms in refused.value.errors.values() for m in ms)
    assert db.session.query(AuditorEvent).count() == 0


def test_renewal_without_a_positive_evaluation_is_refused(act):
    """R-7.2.2: HR evaluates before a registration is extended."""
    auditor = registered(act)
    new_day = today(act) + timedelta(days=700)
    with pytest.raises(RegisterProblems) as refused:
        renew_registration(act, auditor.id, expires_on=new_day)
    assert "evaluation" in refused.value.errors
    evaluate(act, auditor, "not_qualified", note="现场见证不合格")
    with pytest.raises(RegisterProblems):
        renew_registration(act, auditor.id, expires_on=new_day)
    assert auditor.registration_expires_on == today(act) + timedelta(days=30)


def test_a_positive_evaluation_renews_once_and_the_history_shows_it(act):
    auditor = registered(act)
    old = auditor.registration_expires_on
    evaluation = evaluate(act, auditor)
    renewal = renew_registration(act, auditor.id, expires_on=today(act) + timedelta(days=700))
    assert auditor.registration_expires_on == today(act) + timedelta(days=700)
    assert (renewal.expires_before, renewal.evaluation_id) == (old, evaluation.id)
    assert [e.kind for e in auditor.events] == ["registered", "evaluated", "renewed"]
    with pytest.raises(RegisterProblems) as refused:  # the same evaluation renews once
        renew_registration(act, auditor.id, expires_on=today(act) + timedelta(days=800))
    assert "evaluation" in refused.value.errors


def test_renewal_stays_within_three_years_of_the_evaluation(act):
    auditor = registered(act)
    evaluate(act, auditor)
    with pytest.raises(RegisterProblems) as refused:
        renew_registration(act, auditor.id, expires_on=today(act) + timedelta(days=3 * 366))
    assert "expires_on" in refused.value.errors


def test_the_database_stores_one_renewal_per_evaluation(act):
    """Two renewals racing on one evaluation: the unique evaluation_id keeps one."""
    auditor = registered(act)
    evaluation = evaluate(act, auditor)
    for _ in range(2):
        db.session.add(
            AuditorEvent(
                auditor_id=auditor.id,
                kind="renewed",
                on_date=today(act),
                evaluation_id=evaluation.id,
                recorded_by="x",
                recorded_at=act.now,
                evaluator="",
                note="",
            )
        )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_negative_evaluation_bars_appointment_until_a_positive_one(act):
    auditor = registered(act)
    nominee = Nominee(auditor.id, "auditor", auditor)
    assert member_refusals(nominee, today(act)) == []
    evaluate(act, auditor, "not_qualified", note="能力不足")
    [refusal] = member_refusals(nominee, today(act))
    assert refusal["rule"] == "R-7.2.2" and "not qualified" in refusal["en"]
    evaluate(act, auditor)
    assert member_refusals(nominee, today(act)) == []


def test_an_evaluation_updates_competence_found_by_hr(act):
    auditor = registered(act, team_leader_qualified=False, languages=["zh"])
    evaluate(act, auditor, team_leader_qualified=True, languages=["zh", "ug"])
    assert (auditor.team_leader_qualified, auditor.languages) == (True, ["zh", "ug"])


def test_expiring_lists_lapsed_and_soon_lapsing_registrations_only(act):
    soon = registered(act)
    registered(
        act,
        name="远期",
        registration_number="CCAA-SC-2002",
        registration_expires_on=today(act) + timedelta(days=400),
    )
    registered(
        act,
        name="专家",
        registration_number="",
        registration_expires_on=None,
        is_technical_expert=True,
        team_leader_qualified=False,
        level=None,
    )
    assert [a.id for a in expiring(db.session, today(act))] == [soon.id]
    later = today(act) + timedelta(days=31)  # the first lapsed: still listed
    assert [a.id for a in expiring(db.session, later)] == [soon.id]
