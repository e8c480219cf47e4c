"""Surveillance and recertification handlers and validators (R-7.1.3, R-8.10.1–R-8.10.3,
R-8.11, R-8.1, R-9.3) and the surveillance audit's conclusion against the held level, on both
databases."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from certflow.db import db
from domain.errors import RuleViolation
from domain.indicators import load_default_indicator_sets
from domain.models import (
    Audit,
    AuditTeamMember,
    Certificate,
    Document,
    ProgrammeActivity,
)
from domain.surveillance import programme_of
from handlers.registry import GuardContext, get_validator
from tests.certificate_factory import (
    ISSUED_AT,
    OTHER_USCC,
    announcements_of,
    call,
    events_of,
    issued_certificate,
)
from tests.factories import make_application, make_audit, make_auditor, make_organisation
from tests.helpers import discussed_with_client, override_settings

SCHEDULER = "ji_scheduler"
DEPT = "shen_auditdept"
TECHNICAL = "tina_technical"
PLANNING = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)  # when surveillance 1 is planned
AFTER_S1 = datetime(2027, 2, 20, 2, 0, tzinfo=UTC)


def schedule(certificate, number, now=ISSUED_AT) -> dict:
    params = {"certificate_id": certificate.id, "surveillance_number": number}
    return call("surveillance.schedule", params, now, actor="system")


def plan(certificate, number, start, end, reason=None, now=PLANNING, extra=None) -> dict:
    params = {
        "certificate_id": certificate.id,
        "surveillance_number": number,
        "planned_start": start,
        "planned_end": end,
        "extension_reason": reason,
    }
    if extra is not None:
        params["extra_audit"] = extra
    return call("surveillance.record_plan", params, now, actor="system")


def activity(certificate, kind) -> ProgrammeActivity:
    programme = programme_of(db.session, certificate)
    return db.session.scalars(
        select(ProgrammeActivity)
        .where(ProgrammeActivity.programme_id == programme.id, ProgrammeActivity.kind == kind)
        .order_by(ProgrammeActivity.id.desc())
    ).first()


def completed_surveillance(certificate, level, *, number=1, start="2027-02-15", end="2027-02-17"):
    """Surveillance `number` planned through the handler, its audit completed (as the
    onsite_audit process would leave it) at `level`."""
    result = plan(certificate, number, start, end)
    audit = db.session.get(Audit, result["audit_id"])
    audit.status, audit.conclusion, audit.star_level_achieved = "completed", "recommend", level
    db.session.flush()
    return audit


def validate(name: str, data: dict, now=PLANNING) -> dict:
    return get_validator(name)(
        GuardContext(
            session=db.session,
            now=now,
            instance_id=1,
            business_key=None,
            element_id="Task_Validated",
            actor=SCHEDULER,
            actor_roles=frozenset({"scheduler"}),
            data=data,
        )
    )


def outcome(certificate, audit, outcome_name, level, reasons="整改后复评", actor=TECHNICAL):
    params = {
        "certificate_id": certificate.id,
        "audit_id": audit.id,
        "outcome": outcome_name,
        "reassessed_star_level": level,
        "reasons": reasons,
    }
    return call("surveillance.record_outcome", params, AFTER_S1, actor=actor)


# --- surveillance.schedule -----------------------------------------------------------------------


def test_schedule_first_surveillance(ctx) -> None:
    certificate = issued_certificate()
    result = schedule(certificate, 1)
    json.dumps(result)
    assert result == {
        # the last day of the 12 months from the decision (10 March 2026, China date)
        "due": "2027-03-09",
        "hard_limit": "2027-03-09",  # the first surveillance is never extended
        "planning_at": "2027-01-08T01:00:00+00:00",  # 60 days before, 09:00 China time
        "reminder_at": "2027-02-23T01:00:00+00:00",  # 14 days before
        "due_at": "2027-03-10T01:00:00+00:00",  # overdue the day after the due date
        "hard_limit_at": "2027-03-10T01:00:00+00:00",
        # 3 months before the validity ends (valid through 2029-03-09)
        "recertification_at": "2028-12-10T01:00:00+00:00",
        "random_survey_required": True,  # no random survey at all yet
        "needed": True,
        "caught_up_after": None,  # not a surveillance caught up after a restoration
    }
    s1 = activity(certificate, "surveillance_1")
    assert (s1.due_date, s1.hard_limit_date) == (date(2027, 3, 9), date(2027, 3, 9))


def test_schedule_second_surveillance_from_the_end_of_the_first(ctx) -> None:
    certificate = issued_certificate()
    schedule(certificate, 1)
    # Without a surveillance 1 audit: from its due date.
    assert schedule(certificate, 2)["due"] == "2028-03-08"
    completed_surveillance(certificate, 4, start="2027-02-15", end="2027-02-17")
    result = schedule(certificate, 2, AFTER_S1)
    assert (result["due"], result["hard_limit"]) == ("2028-02-16", "2028-05-16")
    assert result["due_at"] == "2028-02-17T01:00:00+00:00"
    assert result["hard_limit_at"] == "2028-05-17T01:00:00+00:00"
    assert result["recertification_at"] == "2028-12-10T01:00:00+00:00"
    s2 = activity(certificate, "surveillance_2")
    assert (s2.due_date, s2.hard_limit_date) == (date(2028, 2, 16), date(2028, 5, 16))


def test_schedule_settings(ctx) -> None:
    override_settings(ctx, surveillance_planning_lead_days=30, surveillance_reminder_days_before=7)
    result = schedule(issued_certificate(), 1)
    assert result["planning_at"] == "2027-02-07T01:00:00+00:00"
    assert result["reminder_at"] == "2027-03-02T01:00:00+00:00"


def test_schedule_refuses_a_third_routine_surveillance_and_an_ended_certificate(ctx) -> None:
    certificate = issued_certificate()
    for number in (0, 3):
        with pytest.raises(RuleViolation, match="1 or 2|at least 1") as excinfo:
            schedule(certificate, number)
        assert excinfo.value.rule == "R-8.10.1"
    call("certificate.withdraw", {"certificate_id": certificate.id, "reason": "c"})
    with pytest.raises(RuleViolation, match="withdrawn"):
        schedule(certificate, 1)


def test_random_survey_required_when_none_in_the_last_two_years(ctx) -> None:
    certificate = issued_certificate(survey_on=date(2026, 2, 20))  # during the initial audit
    assert schedule(certificate, 1)["random_survey_required"] is False
    # Surveillance 2 is due 10 March 2028: the survey of 20 February 2026 is too old.
    assert schedule(certificate, 2)["random_survey_required"] is True
    s1 = completed_surveillance(certificate, 4)
    # An on-site survey during surveillance 1 counts as well.
    s1.communications = [
        {"audit_day": "2027-02-16", "random_survey": {"done": True, "sample_size": 20}}
    ]
    db.session.flush()
    assert schedule(certificate, 2, AFTER_S1)["random_survey_required"] is False


def test_random_survey_reference_is_the_later_of_due_date_and_planned_end(ctx) -> None:
    # Only surveillance 2 can be extended: it is due on 17 Feb 2028.
    certificate = issued_certificate(survey_on=date(2026, 2, 20))
    schedule(certificate, 1)
    completed_surveillance(certificate, 4, start="2027-02-15", end="2027-02-17")
    result = schedule(certificate, 2, AFTER_S1)
    assert result["random_survey_required"] is False  # 2026-02-20 ≥ 2026-02-17
    result = plan(certificate, 2, "2028-02-23", "2028-02-25", "客户停业装修", now=AFTER_S1)
    assert result["extension_needed"] is True
    assert result["random_survey_required"] is True  # 2026-02-20 < 2026-02-25


# --- surveillance.remind -------------------------------------------------------------------------


def test_remind_writes_a_reminder_document(ctx) -> None:
    certificate = issued_certificate()
    schedule(certificate, 1)
    plan(certificate, 1, "2027-03-01", "2027-03-02")
    result = call(
        "surveillance.remind",
        {"certificate_id": certificate.id, "surveillance_number": 1},
        datetime(2027, 2, 24, 1, 0, tzinfo=UTC),
        actor="system",
    )
    document = db.session.get(Document, result["document_id"])
    assert document.kind == "surveillance_reminder"
    assert document.organisation_id == certificate.organisation_id
    assert document.data == {
        "certificate_number": certificate.number,
        "surveillance_number": 1,
        "due": "2027-03-09",
        "hard_limit": "2027-03-09",
        "audit_id": document.audit_id,
        "title_facts": {"reference": certificate.number, "number": 1},
    }
    assert "2027-03-01 – 2027-03-02" in document.body


# --- surveillance.record_plan, surveillance.decide_extension -----------------------------------


def test_record_plan_creates_the_surveillance_audit(ctx) -> None:
    certificate = issued_certificate(sites=2)
    schedule(certificate, 1)
    result = plan(certificate, 1, "2027-02-15", "2027-02-17")
    json.dumps(result)
    audit = db.session.get(Audit, result["audit_id"])
    assert result == {
        "audit_id": audit.id,
        "programme_id": audit.programme_id,
        "application_id": certificate.application_id,
        "organisation_id": certificate.organisation_id,
        "certificate_id": certificate.id,
        "kind": "surveillance",
        "due": "2027-03-09",
        "hard_limit": "2027-03-09",
        "extension_needed": False,
        "random_survey_required": True,
        "held_level": 4,
    }
    assert (audit.kind, audit.certificate_id, audit.status) == (
        "surveillance",
        certificate.id,
        "planned",
    )
    assert audit.application_id == certificate.application_id
    assert (audit.start_date, audit.end_date) == (date(2027, 2, 15), date(2027, 2, 17))
    assert audit.scope == certificate.scope
    s1 = activity(certificate, "surveillance_1")
    assert (s1.audit_id, s1.planned_date) == (audit.id, date(2027, 2, 15))
    assert s1.extension_requested_to is None


def test_record_plan_refuses_bad_dates(ctx) -> None:
    certificate = issued_certificate()
    with pytest.raises(RuleViolation, match="before the planned start"):
        plan(certificate, 1, "2027-02-17", "2027-02-15")
    with pytest.raises(RuleViolation, match="ISO date"):
        plan(certificate, 1, "15.02.2027", "2027-02-15")
    assert db.session.scalar(select(func.count(Audit.id)).where(Audit.kind == "surveillance")) == 0


def test_first_surveillance_is_never_extended(ctx) -> None:
    """R-7.1.3, R-8.10.1 (初次认证后的第一次监督审查应在获证后12个月内进行): no extension for
    surveillance 1, whatever the reason."""
    certificate = issued_certificate()
    schedule(certificate, 1)
    with pytest.raises(RuleViolation, match="never extended") as excinfo:
        plan(certificate, 1, "2027-05-08", "2027-05-10", reason="客户主要服务网点搬迁")
    assert excinfo.value.rule == "R-8.10.1"
    with pytest.raises(RuleViolation, match="never extended"):
        plan(certificate, 1, "2027-03-09", "2027-03-10", reason="客户要求")
    assert db.session.scalar(select(func.count(Audit.id)).where(Audit.kind == "surveillance")) == 0
    # The due date itself is in time.
    assert plan(certificate, 1, "2027-03-08", "2027-03-09")["extension_needed"] is False


def second_surveillance_scheduled():
    """A certificate whose surveillance 1 ended on 17 Feb 2027: surveillance 2 is due by
    16 Feb 2028 (the last day of 12 months), hard limit 16 May 2028 (of 15 months)."""
    certificate = issued_certificate()
    schedule(certificate, 1)
    completed_surveillance(certificate, 4, start="2027-02-15", end="2027-02-17")
    result = schedule(certificate, 2, AFTER_S1)
    assert (result["due"], result["hard_limit"]) == ("2028-02-16", "2028-05-16")
    return certificate


def plan_2(certificate, start, end, reason=None) -> dict:
    return plan(certificate, 2, start, end, reason, now=AFTER_S1)


def test_second_surveillance_extension_in_month_14_needs_a_reason_and_approval(ctx) -> None:
    certificate = second_surveillance_scheduled()
    with pytest.raises(RuleViolation, match="needs a reason") as excinfo:
        plan_2(certificate, "2028-04-08", "2028-04-10")
    assert excinfo.value.rule == "R-7.1.3"
    result = plan_2(certificate, "2028-04-08", "2028-04-10", reason="客户主要服务网点搬迁")
    assert result["extension_needed"] is True
    s2 = activity(certificate, "surveillance_2")
    assert (s2.extension_requested_to, s2.extension_reason) == (
        date(2028, 4, 10),
        "客户主要服务网点搬迁",
    )
    assert s2.extension_approved is None
    decided_at = datetime(2027, 12, 12, 3, 0, tzinfo=UTC)
    decision = call(
        "surveillance.decide_extension",
        {
            "certificate_id": certificate.id,
            "surveillance_number": 2,
            "approved": True,
            "note": "同意",
        },
        decided_at,
        actor=DEPT,
    )
    assert decision == {
        "approved": True,
        "extended_to": "2028-04-10",
        "due": "2028-02-16",
        "hard_limit": "2028-05-16",
        "note": "同意",
    }
    assert (s2.extension_approved, s2.extension_decided_by, s2.extension_decided_at) == (
        True,
        DEPT,
        decided_at,
    )
    event = events_of(certificate)[-1]
    assert (event.event, event.rule, event.status_before, event.status_after) == (
        "surveillance_extended",
        "R-8.10.1",
        "valid",
        "valid",
    )
    assert event.data["extended_to"] == "2028-04-10" and event.reason == "客户主要服务网点搬迁"


def test_month_16_is_refused_even_with_a_reason(ctx) -> None:
    certificate = second_surveillance_scheduled()
    with pytest.raises(RuleViolation, match="never more than 15 months") as excinfo:
        plan_2(certificate, "2028-06-15", "2028-06-17", reason="客户要求")
    assert excinfo.value.rule == "R-8.10.1"
    # Issue 11: the hard-limit day itself is allowed, the day after is refused.
    with pytest.raises(RuleViolation, match="never more than 15 months"):
        plan_2(certificate, "2028-05-16", "2028-05-17", reason="客户要求")
    assert plan_2(certificate, "2028-05-15", "2028-05-16", reason="客户要求")["extension_needed"]


def test_second_surveillance_keeps_every_calendar_year_surveilled(ctx) -> None:
    """R-8.10.1 (此后，监督审查应至少每个日历年（应进行再认证的年份除外）进行一次): decided on
    10 March 2026, recertification from December 2028: 2027 needs a surveillance. Surveillance 1
    ended early, in November 2026, so surveillance 2 must end in 2027 — 15 months would allow
    February 2028."""
    certificate = issued_certificate()
    schedule(certificate, 1)
    completed_surveillance(certificate, 4, start="2026-11-10", end="2026-11-12")
    result = schedule(certificate, 2, AFTER_S1)
    assert (result["due"], result["hard_limit"]) == ("2027-11-11", "2027-12-31")
    with pytest.raises(RuleViolation, match="calendar year") as excinfo:
        plan_2(certificate, "2028-01-10", "2028-01-12", reason="客户要求")
    assert excinfo.value.rule == "R-8.10.1"
    assert plan_2(certificate, "2027-12-30", "2027-12-31", reason="客户要求")["extension_needed"]


def test_second_surveillance_may_not_leave_a_calendar_year_without_one(ctx) -> None:
    """R-8.10.1: decided on 10 March 2026, recertification from December 2028: a surveillance
    1 in April 2026 leaves 2027 to surveillance 2, which may not end in 2026 too."""
    certificate = issued_certificate()
    schedule(certificate, 1)
    completed_surveillance(certificate, 4, start="2026-04-10", end="2026-04-12")
    errors = validate(
        "surveillance_within_limits",
        {
            "certificate_id": certificate.id,
            "surveillance_number": 2,
            "planned_start": "2026-12-01",
            "planned_end": "2026-12-02",
            "extension_reason": None,
        },
        now=AFTER_S1,
    )
    assert errors["planned_end"][0].startswith("R-8.10.1")
    assert "2027" in errors["planned_end"][0] and "calendar year" in errors["planned_end"][0]


def test_refused_extension_is_planned_again_on_the_same_audit(ctx) -> None:
    certificate = second_surveillance_scheduled()
    first = plan_2(certificate, "2028-03-01", "2028-03-02", reason="客户要求推迟")
    params = {"certificate_id": certificate.id, "surveillance_number": 2, "note": "理由不充分"}
    refused = call("surveillance.decide_extension", {**params, "approved": False}, actor=DEPT)
    assert refused["approved"] is False and refused["extended_to"] is None
    s2 = activity(certificate, "surveillance_2")
    assert s2.extension_approved is False
    assert [e.event for e in events_of(certificate)] == ["issued"]  # nothing extended
    with pytest.raises(RuleViolation, match="already decided"):
        call("surveillance.decide_extension", {**params, "approved": True}, actor=DEPT)
    again = plan_2(certificate, "2028-02-01", "2028-02-02")
    assert again["audit_id"] == first["audit_id"] and again["extension_needed"] is False
    assert (s2.extension_requested_to, s2.extension_reason, s2.extension_approved) == (
        None,
        None,
        None,
    )
    with pytest.raises(RuleViolation, match="no extension is requested"):
        call("surveillance.decide_extension", {**params, "approved": True}, actor=DEPT)


def test_extension_is_never_approved_beyond_the_hard_limit(ctx) -> None:
    certificate = second_surveillance_scheduled()
    plan_2(certificate, "2028-03-01", "2028-03-02", reason="客户要求推迟")
    params = {"certificate_id": certificate.id, "surveillance_number": 2, "note": ""}
    with pytest.raises(RuleViolation, match="true or false"):
        call("surveillance.decide_extension", {**params, "approved": "yes"}, actor=DEPT)
    s2 = activity(certificate, "surveillance_2")
    s2.extension_requested_to = date(2028, 5, 18)  # e.g. a hand-edited row
    with pytest.raises(RuleViolation, match="never beyond") as excinfo:
        call("surveillance.decide_extension", {**params, "approved": True}, actor=DEPT)
    assert excinfo.value.rule == "R-8.10.1"
    assert call("surveillance.decide_extension", {**params, "approved": False}, actor=DEPT)


def test_a_planned_surveillance_cannot_be_moved_once_under_way(ctx) -> None:
    certificate = issued_certificate()
    result = plan(certificate, 1, "2027-02-15", "2027-02-17")
    db.session.get(Audit, result["audit_id"]).status = "in_progress"
    with pytest.raises(RuleViolation, match="re-plan"):
        plan(certificate, 1, "2027-02-20", "2027-02-21")


# --- the surveillance audit's conclusion: the held level (audit.py) -------------------------------


@pytest.mark.parametrize("kind", ["surveillance", "extra_surveillance"])
def test_surveillance_conclusion_compares_with_the_held_level(ctx, kind) -> None:
    # Requested 5 at the initial application, granted and held at 4.
    certificate = issued_certificate(star_level=4, requested_level=5)
    load_default_indicator_sets(db.session, ISSUED_AT)
    if kind == "surveillance":
        result = plan(certificate, 1, "2027-02-15", "2027-02-17")
    else:
        extra = call(
            "surveillance.open_extra",
            {"certificate_id": certificate.id, "extra": {"reason": "a", "detail": "媒体曝光"}},
        )
        result = plan(certificate, None, "2027-02-15", "2027-02-17", extra=extra)
    audit = db.session.get(Audit, result["audit_id"])
    audit.status, audit.final_score = "in_progress", Decimal("85.00")
    db.session.flush()
    data = discussed_with_client(  # communicated and discussed
        {
            "audit_id": audit.id,
            "star_level": 4,
            "conclusion": "recommend",
            "downgrade_requested": False,
            "nonconformities": [],
        },
        "2027-01-10",
    )
    assert validate("conclusion_fits_score", data) == {}  # held 4 met (requested 5 is not)
    errors = validate("conclusion_fits_score", {**data, "star_level": 3})
    assert "held level 4" in errors["conclusion"][0]
    errors = validate(
        "conclusion_fits_score", {**data, "star_level": 4, "conclusion": "not_recommend"}
    )
    assert "the held level 4 is met" in errors["conclusion"][0]
    not_met = {**data, "star_level": 2, "conclusion": "not_recommend"}
    assert validate("conclusion_fits_score", not_met) == {}
    nc = {
        "item_code": "5.1.1.1",
        "nature": "general",
        "description": "职责不清",
        "evidence": "无组织机构图",
        "client_view": "agreed",
    }
    data["deduction_discussion"] = {"date": "2027-01-10", "attendees": "王总、审查组"}
    assert (
        validate("conclusion_fits_score", {**data, "star_level": 3, "nonconformities": [nc]}) == {}
    )
    params = {
        **data,
        "star_level": 3,
        "nonconformities": [nc],
        "follow_up": "",
        "programme_adjustments": "",
        "disagreements": "",
    }
    result = call("audit.record_conclusion", params, PLANNING, actor="zhang_leader")
    assert result["nonconformity_count"] == 1
    notes = audit.conclusion_notes
    assert (notes["reference"], notes["reference_level"], notes["requested_level"]) == (
        "held",
        4,
        5,
    )
    assert notes["conditional_on_corrections"] is True


# --- surveillance.maintain -----------------------------------------------------------------------


def test_maintain_when_the_held_level_is_met(ctx) -> None:
    certificate = issued_certificate()
    schedule(certificate, 1)
    audit = completed_surveillance(certificate, 5)
    result = call(
        "surveillance.maintain", {"certificate_id": certificate.id, "audit_id": audit.id}, AFTER_S1
    )
    json.dumps(result)
    assert result == {
        "certificate_id": certificate.id,
        "certificate_number": certificate.number,
        "status": "valid",
        "star_level": 4,
    }
    event = events_of(certificate)[-1]
    assert (event.event, event.rule, event.status_before, event.status_after) == (
        "maintained",
        "R-8.10.3",
        "valid",
        "valid",
    )
    assert event.data == {"audit_id": audit.id, "star_level_achieved": 5}
    assert event.effective_on == date(2027, 2, 20)
    assert activity(certificate, "surveillance_1").status == "completed"
    assert audit.conclusion_notes["surveillance_outcome"]["outcome"] == "maintain"
    with pytest.raises(RuleViolation, match="already has its outcome"):
        call("surveillance.maintain", {"certificate_id": certificate.id, "audit_id": audit.id})
    with pytest.raises(RuleViolation, match="is done"):
        plan(certificate, 1, "2027-03-01", "2027-03-02")


def test_maintain_refusals(ctx) -> None:
    certificate = issued_certificate()
    audit = completed_surveillance(certificate, 3)
    params = {"certificate_id": certificate.id, "audit_id": audit.id}
    with pytest.raises(RuleViolation, match="below the held level") as excinfo:
        call("surveillance.maintain", params)
    assert excinfo.value.rule == "R-8.10.3"
    audit.star_level_achieved, audit.status = 4, "in_progress"
    with pytest.raises(RuleViolation, match="in_progress"):
        call("surveillance.maintain", params)
    other = issued_certificate(
        organisation=make_organisation(db.session, ISSUED_AT, uscc=OTHER_USCC)
    )
    with pytest.raises(RuleViolation, match="not a surveillance audit"):
        call("surveillance.maintain", {"certificate_id": other.id, "audit_id": audit.id})
    initial = db.session.scalars(select(Audit).where(Audit.kind == "initial")).first()
    with pytest.raises(RuleViolation, match="not a surveillance audit"):
        call("surveillance.maintain", {"certificate_id": certificate.id, "audit_id": initial.id})


# --- surveillance.record_outcome, validator surveillance_outcome_fits -----------------------------


@pytest.mark.parametrize(
    ("level", "outcome_name", "allowed"),
    [
        (5, "maintain", True),
        (4, "maintain", True),
        (4, "downgrade", False),  # the held level is met: only maintain
        (4, "suspend", False),
        (3, "downgrade", True),
        (3, "suspend", True),
        (1, "downgrade", True),
        (3, "maintain", False),
        (3, "withdraw", False),
        (0, "withdraw", True),
        (0, "suspend", False),
        (0, "downgrade", False),
        (3, "promote", False),
    ],
)
def test_outcome_fits_the_reassessed_level(ctx, level, outcome_name, allowed) -> None:
    certificate = issued_certificate(star_level=4)
    audit = completed_surveillance(certificate, 3)
    data = {
        "certificate_id": certificate.id,
        "audit_id": audit.id,
        "outcome": outcome_name,
        "reassessed_star_level": level,
        "reasons": "整改验证后复评",
    }
    errors = validate("surveillance_outcome_fits", data)
    if allowed:
        assert errors == {}
        result = outcome(certificate, audit, outcome_name, level)
        json.dumps(result)
        assert (result["outcome"], result["reassessed_star_level"]) == (outcome_name, level)
        assert audit.conclusion_notes["surveillance_outcome"]["decided_by"] == TECHNICAL
    else:
        assert list(errors) == ["outcome"] and errors["outcome"][0].startswith("R-8.10.3")
        with pytest.raises(RuleViolation) as excinfo:
            outcome(certificate, audit, outcome_name, level)
        assert excinfo.value.rule == "R-8.10.3"
        assert "surveillance_outcome" not in (audit.conclusion_notes or {})


def test_outcome_validator_reasons_and_level(ctx) -> None:
    certificate = issued_certificate()
    data = {"certificate_id": certificate.id, "outcome": "downgrade", "reassessed_star_level": 3}
    assert validate("surveillance_outcome_fits", {**data, "reasons": " "}) == {
        "reasons": ["R-8.10.3: a downgrade, suspension or withdrawal needs the reasons"]
    }
    assert validate(
        "surveillance_outcome_fits", {**data, "outcome": "maintain", "reasons": None}
    ) == {
        "outcome": [
            "R-8.10.3: the reassessed level 3 is below the held level 4 but not below the lowest "
            "level: downgrade or suspend (R-8.10.3b)"
        ]
    }
    errors = validate("surveillance_outcome_fits", {**data, "reassessed_star_level": 6})
    assert list(errors) == ["reassessed_star_level"]


def test_downgrade_reissues_the_certificate(ctx) -> None:
    certificate = issued_certificate(star_level=4)
    schedule(certificate, 1)
    audit = completed_surveillance(certificate, 2)
    result = outcome(certificate, audit, "downgrade", 3, reasons="服务网点人员配置不足")
    new = db.session.get(Certificate, result["certificate_id"])
    assert result == {
        "outcome": "downgrade",
        "reassessed_star_level": 3,
        "held_level": 4,
        "certificate_id": new.id,
        "certificate_number": new.number,
        "star_level": 3,
        "replaced_certificate_id": certificate.id,
        "reason": None,
        "detail": "服务网点人员配置不足",
    }
    assert new.number == "CTC-SHFW-2027-0001" != certificate.number
    assert new.replaces_id == certificate.id
    assert (new.star_level, new.mark, new.status) == (3, "服务认证标志 3星", "valid")
    assert new.original_issued_on == certificate.original_issued_on == date(2026, 3, 10)
    assert (new.issued_on, new.changed_on) == (date(2027, 2, 20), date(2027, 2, 20))
    assert new.expires_on == certificate.expires_on == date(2029, 3, 9)
    assert (new.scope, new.sites) == (certificate.scope, certificate.sites)
    assert certificate.status == "superseded" and certificate.mark_use_allowed is False
    [downgraded] = events_of(new)
    assert (downgraded.event, downgraded.rule, downgraded.actor) == (
        "downgraded",
        "R-8.10.3b",
        TECHNICAL,
    )
    assert downgraded.data["star_level"] == {"from": 4, "to": 3}
    superseded = events_of(certificate)[-1]
    assert (superseded.event, superseded.rule) == ("superseded", "R-9.3")
    [announcement] = announcements_of(new)
    assert announcement.kind == "downgraded" and certificate.number in announcement.body
    assert activity(certificate, "surveillance_1").status == "completed"

    # The surveillance process still holds the first certificate's id: it acts on the reissue.
    second = plan(certificate, 2, "2028-01-10", "2028-01-11", now=AFTER_S1)
    assert second["held_level"] == 3 and second["certificate_id"] == new.id
    assert db.session.get(Audit, second["audit_id"]).certificate_id == new.id
    assert schedule(certificate, 2, AFTER_S1)["due"] == "2028-02-16"


@pytest.mark.parametrize(
    ("outcome_name", "level", "reason", "rule"),
    [("suspend", 2, "b", "R-9.5.1b"), ("withdraw", 0, "below_lowest_level", "R-8.10.3c")],
)
def test_suspend_and_withdraw_outcomes_are_only_recorded(ctx, outcome_name, level, reason, rule):
    certificate = issued_certificate(star_level=4)
    audit = completed_surveillance(certificate, level)
    result = outcome(certificate, audit, outcome_name, level, reasons="整改未达到要求")
    assert (result["reason"], result["certificate_id"], result["replaced_certificate_id"]) == (
        reason,
        certificate.id,
        None,
    )
    assert certificate.status == "valid"
    assert [event.event for event in events_of(certificate)] == ["issued"]
    # What the diagram's message then starts:
    operator = "certificate.suspend" if outcome_name == "suspend" else "certificate.withdraw"
    call(operator, {"certificate_id": certificate.id, "reason": reason, "detail": result["detail"]})
    assert events_of(certificate)[-1].rule == rule


def test_outcome_refusals(ctx) -> None:
    certificate = issued_certificate(star_level=4)
    audit = completed_surveillance(certificate, 3)
    with pytest.raises(RuleViolation, match="needs the reasons"):
        outcome(certificate, audit, "suspend", 3, reasons="")
    with pytest.raises(RuleViolation, match="0–5"):
        outcome(certificate, audit, "maintain", 6)
    member = make_auditor(db.session, ISSUED_AT, name="李审查", username="li_auditor")
    db.session.add(
        AuditTeamMember(
            audit_id=audit.id,
            auditor_id=member.id,
            role="auditor",
            flags=[],
            appointed_by=SCHEDULER,
            appointed_at=ISSUED_AT,
        )
    )
    db.session.flush()
    with pytest.raises(RuleViolation, match="took part") as excinfo:
        outcome(certificate, audit, "maintain", 4, actor="li_auditor")
    assert excinfo.value.rule == "R-8.8"
    assert outcome(certificate, audit, "maintain", 4)["outcome"] == "maintain"
    assert events_of(certificate)[-1].rule == "R-8.10.3a"
    with pytest.raises(RuleViolation, match="already has its outcome"):
        outcome(certificate, audit, "maintain", 4)


# --- surveillance.open_extra ---------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["a", "b", "c", "d"])
def test_open_extra_surveillance(ctx, reason) -> None:
    certificate = issued_certificate()
    payload = {
        "business_key": certificate.number,
        "certificate_id": certificate.id,
        "reason": reason,
        "detail": "经查实的顾客投诉 3 起",
    }
    result = call("surveillance.open_extra", {"certificate_id": certificate.id, "extra": payload})
    json.dumps(result)
    audit = db.session.get(Audit, result["audit_id"])
    extra = db.session.get(ProgrammeActivity, result["activity_id"])
    assert (extra.kind, extra.audit_id, extra.programme_id) == (
        "extra_surveillance",
        audit.id,
        result["programme_id"],
    )
    assert (audit.kind, audit.trigger_reason, audit.certificate_id) == (
        "extra_surveillance",
        reason,
        certificate.id,
    )
    assert (result["application_id"], result["organisation_id"], result["held_level"]) == (
        certificate.application_id,
        certificate.organisation_id,
        4,
    )
    trigger = db.session.get(Document, result["document_id"])
    assert trigger.kind == "extra_surveillance_trigger" and trigger.data["reason"] == reason
    assert announcements_of(certificate)[-1].kind == "certified"  # nothing published

    planned = plan(certificate, 1, "2028-09-01", "2028-09-02", extra=result)  # no 12-month limit
    assert (planned["audit_id"], planned["kind"], planned["extension_needed"]) == (
        audit.id,
        "extra_surveillance",
        False,
    )
    assert (audit.start_date, extra.planned_date) == (date(2028, 9, 1), date(2028, 9, 1))
    assert activity(certificate, "surveillance_1").audit_id is None  # the routine one: untouched


def test_open_extra_refusals(ctx) -> None:
    certificate = issued_certificate()
    params = {"certificate_id": certificate.id}
    for extra, message in [
        ({"reason": "e"}, "must be one of"),
        ({"reason": "d", "detail": " "}, "needs detail"),
        ("a", "message payload"),
    ]:
        with pytest.raises(RuleViolation, match=message) as excinfo:
            call("surveillance.open_extra", {**params, "extra": extra})
        assert excinfo.value.rule == "R-8.10.1"
    call("certificate.cancel", {"certificate_id": certificate.id, "reason": "c"})
    with pytest.raises(RuleViolation, match="cancelled"):
        call("surveillance.open_extra", {**params, "extra": {"reason": "a"}})


# --- recertification.prepare ---------------------------------------------------------------------


def test_prepare_recertification(ctx) -> None:
    certificate = issued_certificate()
    result = call("recertification.prepare", {"certificate_id": certificate.id})
    json.dumps(result)
    assert result == {
        # 09:00 China time on the first day after the last valid day (issue 11)
        "expiry_at": "2029-03-10T01:00:00+00:00",
        "certificate_number": certificate.number,
        "organisation_id": certificate.organisation_id,
        "certificate_id": certificate.id,
        "expires_on": "2029-03-09",
    }
    call("certificate.withdraw", {"certificate_id": certificate.id, "reason": "b"})
    with pytest.raises(RuleViolation) as excinfo:
        call("recertification.prepare", {"certificate_id": certificate.id})
    assert excinfo.value.rule == "R-8.11"


# --- the document review of a recertification ---------------------------------------------


def _recertification_audit():
    organisation = make_organisation(db.session, ISSUED_AT)
    issued_certificate(organisation=organisation)
    application = make_application(db.session, ISSUED_AT, organisation)
    application.kind = "recertification"
    return make_audit(db.session, ISSUED_AT, organisation, application)


def _review(audit, documents) -> dict:
    params = {
        "audit_id": audit.id,
        "documents_reviewed": documents,
        "adequate": True,
        "findings": "",
    }
    return call("audit.record_document_review", params, actor="zhang_leader")


def test_recertification_document_review_covers_the_minimum(ctx) -> None:
    audit = _recertification_audit()
    with pytest.raises(RuleViolation) as excinfo:
        _review(audit, ["售后服务手册 A/2", "service_scope"])
    assert excinfo.value.rule == "R-8.1"
    message = str(excinfo.value)
    assert "must cover policy_objectives, organisation_responsibilities, documented_procedures" in (
        message
    )
    for key in ("service_scope", "policy_objectives", "organisation_responsibilities"):
        assert key in message
    assert audit.document_review == {}
    documents = [
        "service_scope: 服务范围说明 v3",
        "服务方针和目标 2028 版",
        "organisation_responsibilities",
        "documented_procedures：投诉处理程序、维修服务程序",
        "售后服务手册 A/2",
    ]
    assert _review(audit, documents) == {"adequate": True}
    assert audit.document_review["documents_reviewed"] == documents


def test_initial_document_review_has_no_recertification_minimum(ctx) -> None:
    organisation = make_organisation(db.session, ISSUED_AT)
    application = make_application(db.session, ISSUED_AT, organisation)
    audit = make_audit(db.session, ISSUED_AT, organisation, application)
    assert _review(audit, ["售后服务手册"]) == {"adequate": True}


# --- validators: surveillance_within_limits, random_survey_when_due -------------------------------


def test_surveillance_within_limits(ctx) -> None:
    certificate = issued_certificate()
    schedule(certificate, 1)
    base = {
        "certificate_id": certificate.id,
        "surveillance_number": 1,
        "planned_start": "2027-03-01",
        "planned_end": "2027-03-02",
        "extension_reason": None,
    }
    assert validate("surveillance_within_limits", base) == {}
    # the first surveillance is never extended, not even with a reason.
    month_14 = {**base, "planned_start": "2027-05-08", "planned_end": "2027-05-10"}
    for reason in (None, "搬迁"):
        errors = validate("surveillance_within_limits", {**month_14, "extension_reason": reason})
        assert list(errors) == ["planned_end"] and errors["planned_end"][0].startswith("R-8.10.1")
        assert "never extended" in errors["planned_end"][0]
    month_16 = {**base, "planned_end": "2027-07-10", "extension_reason": "客户要求"}
    assert list(validate("surveillance_within_limits", {**base, "planned_start": "x"})) == [
        "planned_start"
    ]
    assert (
        "before the start"
        in validate("surveillance_within_limits", {**base, "planned_end": "2027-02-01"})[
            "planned_end"
        ][0]
    )
    assert (
        validate("surveillance_within_limits", {**month_16, "extra_audit": {"audit_id": 1}}) == {}
    )
    assert (
        "not found"
        in validate("surveillance_within_limits", {**base, "certificate_id": 999999})[
            "planned_end"
        ][0]
    )
    # Surveillance 2 measured from surveillance 1's end without a schedule yet: computed; it
    # may be extended with a reason, never beyond 15 months.
    second = {**base, "surveillance_number": 2, "planned_end": "2028-05-10"}
    assert validate("surveillance_within_limits", second)["planned_end"][0].startswith("R-7.1.3")
    assert validate("surveillance_within_limits", {**second, "extension_reason": "x"}) == {}
    assert validate(
        "surveillance_within_limits",
        {**base, "surveillance_number": 2, "planned_end": "2028-06-11", "extension_reason": "x"},
    )["planned_end"][0].startswith("R-8.10.1")


def test_random_survey_when_due(ctx) -> None:
    name = "random_survey_when_due"
    assert validate(name, {"random_survey_done": False}) == {}  # not a surveillance
    plan_data = {"audit_id": 1, "random_survey_required": False}
    assert validate(name, {"surveillance_plan": plan_data, "random_survey_done": False}) == {}
    required = {**plan_data, "random_survey_required": True}
    errors = validate(name, {"surveillance_plan": required, "random_survey_done": False})
    assert list(errors) == ["random_survey_done"]
    assert errors["random_survey_done"][0].startswith("R-8.10.1")
    assert validate(name, {"surveillance_plan": required, "random_survey_done": True}) == {}
