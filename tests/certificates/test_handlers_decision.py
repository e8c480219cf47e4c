"""Certification decision (R-8.8, R-13), refusal notice and certificate (R-9.1, R-9.2) with the
programme cycle (R-7.1.1, R-7.1.3, R-8.10.1, R-8.11)."""

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from certflow.accounts import create_user
from certflow.db import db
from domain.errors import RuleViolation
from domain.models import (
    AuditProgramme,
    Certificate,
    Decision,
    Document,
    Nonconformity,
    ProgrammeActivity,
    Site,
)
from tests.factories import make_application, make_audit, make_auditor, make_organisation
from tests.helpers import handler_context, override_settings

DECIDER = "tina_technical"


def call(operator: str, params: dict, now, actor: str = DECIDER):
    from handlers import get_handler

    return get_handler(operator)(params, handler_context(db.session, now, actor=actor))


def decided_audit(
    session,
    now,
    *,
    requested_level=4,
    achieved=4,
    conclusion="recommend",
    conditional=False,
    nc_statuses=(),
    team=(),
    sites=1,
):
    """A completed audit with the team's conclusion, and NCs in the given statuses."""
    organisation = make_organisation(session, now, sites=sites)
    application = make_application(session, now, organisation, requested_level=requested_level)
    audit = make_audit(session, now, organisation, application, team=team)
    audit.status = "completed"
    audit.conclusion = conclusion
    audit.star_level_achieved = achieved
    audit.conclusion_notes = {"conditional_on_corrections": conditional}
    for n, status in enumerate(nc_statuses, start=1):
        session.add(
            Nonconformity(
                audit_id=audit.id,
                number=f"NC-{n}",
                item_code="5.1.1.1",
                description="d",
                evidence="e",
                status=status,
            )
        )
    session.flush()
    return application, audit


def decide(application, audit, now, *, outcome="grant", star_level=4, reasons="", actor=DECIDER):
    params = {
        "application_id": application.id,
        "audit_id": audit.id,
        "outcome": outcome,
        "star_level": star_level,
        "reasons": reasons,
    }
    return call("decision.record", params, now, actor=actor)


# --- decision.record -----------------------------------------------------------------------------


def test_grant_records_who_and_when(ctx, clock) -> None:
    now = datetime(2026, 3, 9, 17, 30, tzinfo=UTC)  # 10 March in China
    application, audit = decided_audit(db.session, now, nc_statuses=("accepted",))
    result = decide(application, audit, now)
    decision = db.session.get(Decision, result["id"])
    assert result == {"id": decision.id, "outcome": "grant", "star_level": 4}
    assert decision.decided_by == DECIDER
    assert decision.decided_at == now
    assert decision.decided_on == date(2026, 3, 10)  # the China date
    with pytest.raises(RuleViolation, match="already decided"):
        decide(application, audit, now)


@pytest.mark.parametrize(
    ("requested", "achieved", "conclusion", "star_level", "allowed"),
    [
        (4, 4, "recommend", 5, False),  # above the level reached
        (3, 5, "recommend", 4, False),  # above the requested level
        (3, 5, "recommend", 3, True),
        (5, 3, "downgrade", 4, False),  # a downgrade grants at most the level reached
        (5, 3, "downgrade", 3, True),
        (4, 2, "not_recommend", 2, False),  # the team did not recommend
        (4, 4, "recommend", 0, False),
    ],
)
def test_grant_level_bounds(ctx, clock, requested, achieved, conclusion, star_level, allowed):
    now = clock.now()
    application, audit = decided_audit(
        db.session, now, requested_level=requested, achieved=achieved, conclusion=conclusion
    )
    if allowed:
        assert decide(application, audit, now, star_level=star_level)["star_level"] == star_level
    else:
        with pytest.raises(RuleViolation) as excinfo:
            decide(application, audit, now, star_level=star_level)
        assert excinfo.value.rule == "R-8.8"
        assert db.session.scalars(select(Decision)).all() == []


def test_conditional_recommendation_grants_the_requested_level_once_ncs_are_accepted(ctx, clock):
    now = clock.now()
    application, audit = decided_audit(
        db.session, now, requested_level=4, achieved=3, conditional=True, nc_statuses=("accepted",)
    )
    with pytest.raises(RuleViolation, match="exceeds"):
        decide(application, audit, now, star_level=5)
    assert decide(application, audit, now, star_level=4)["star_level"] == 4


@pytest.mark.parametrize("status", ["open", "confirmed", "answered", "rejected"])
def test_grant_with_an_open_nc_is_refused(ctx, clock, status) -> None:
    now = clock.now()
    application, audit = decided_audit(db.session, now, nc_statuses=("accepted", status))
    with pytest.raises(RuleViolation, match=f"NC-2 \\({status}\\)") as excinfo:
        decide(application, audit, now)
    assert excinfo.value.rule == "R-8.8"


def test_refusal_needs_reasons_and_is_notified(ctx, clock) -> None:
    now = clock.now()
    application, audit = decided_audit(db.session, now, achieved=0, conclusion="not_recommend")
    with pytest.raises(RuleViolation, match="reasons") as excinfo:
        decide(application, audit, now, outcome="refuse", star_level=None, reasons="  ")
    assert excinfo.value.rule == "R-8.8"
    reasons = "审查得分低于一星级要求（70 分）。The score is below the lowest level."
    result = decide(application, audit, now, outcome="refuse", star_level=None, reasons=reasons)
    assert result["star_level"] is None
    assert application.status == "refused"
    notice = call(
        "notices.refusal",
        {"application_id": application.id, "decision_id": result["id"]},
        now,
        actor="system",
    )
    document = db.session.get(Document, notice["document_id"])
    assert document.kind == "refusal_notice"
    assert reasons in document.body
    assert document.data["reasons"] == reasons
    assert document.data["decided_by"] == DECIDER


def test_refusal_notice_only_for_a_refusal(ctx, clock) -> None:
    now = clock.now()
    application, audit = decided_audit(db.session, now)
    granted = decide(application, audit, now)
    with pytest.raises(RuleViolation, match="not a refusal"):
        call(
            "notices.refusal", {"application_id": application.id, "decision_id": granted["id"]}, now
        )


def test_a_team_member_cannot_decide(ctx, clock) -> None:
    now = clock.now()
    member = make_auditor(db.session, now, name="李审查", username="li_auditor")
    application, audit = decided_audit(db.session, now, team=[(member, "auditor")])
    with pytest.raises(RuleViolation, match="took part") as excinfo:
        decide(application, audit, now, actor="li_auditor")
    assert excinfo.value.rule == "R-8.8"


def test_decision_needs_a_completed_audit(ctx, clock) -> None:
    now = clock.now()
    application, audit = decided_audit(db.session, now)
    audit.status = "in_progress"
    with pytest.raises(RuleViolation, match="not completed"):
        decide(application, audit, now)


# --- certificate.issue ---------------------------------------------------------------------------


def granted(now, **kwargs):
    application, audit = decided_audit(db.session, now, **kwargs)
    decision = decide(application, audit, now, star_level=kwargs.get("achieved", 4))
    return application, audit, decision


def test_certificate_issue(ctx, clock) -> None:
    now = datetime(2026, 3, 9, 17, 30, tzinfo=UTC)  # decided on 10 March (China date)
    application, audit, decision = granted(now, sites=2)
    closed = db.session.scalars(select(Site).order_by(Site.id.desc())).first()
    closed.active = False
    result = call(
        "certificate.issue",
        {"application_id": application.id, "decision_id": decision["id"]},
        now,
        actor="system",
    )
    assert re.fullmatch(r"CTC-SHFW-\d{4}-\d{4}", result["number"])
    assert result["number"] == "CTC-SHFW-2026-0001"
    assert result["issued_on"] == "2026-03-10"
    assert result["expires_on"] == "2029-03-09"  # valid through the day before (issue 11)
    certificate = db.session.get(Certificate, result["id"])
    organisation = application.organisation
    assert certificate.organisation_name == organisation.name
    assert certificate.organisation_address == organisation.address
    assert [site["name"] for site in certificate.sites] == ["服务网点 1"]  # active sites only
    assert certificate.scope == application.scope
    assert certificate.star_level == 4
    assert certificate.standard == "GB/T 27922-2011 商品售后服务评价体系"
    assert certificate.rules == "首认检测认证/CTC 商品售后服务认证实施规则"
    assert certificate.issuing_body == "首认检测认证/CTC"
    assert certificate.signatory == "认证决定人员"  # the decider has no user account here
    assert certificate.original_issued_on == certificate.issued_on == date(2026, 3, 10)
    assert certificate.status == "valid"
    assert certificate.mark == "服务认证标志 4星"
    assert application.status == "certified"

    activities = {
        activity.kind: activity
        for activity in db.session.scalars(
            select(ProgrammeActivity).where(ProgrammeActivity.programme_id == audit.programme_id)
        )
    }
    # Last days of their periods (issue 11): in time on that day, the limit acts the day after.
    assert activities["surveillance_1"].due_date == date(2027, 3, 9)
    assert activities["surveillance_2"].due_date == date(2028, 3, 8)
    assert activities["surveillance_2"].hard_limit_date == date(2028, 6, 8)
    assert activities["recertification"].due_date == date(2029, 3, 9)
    assert activities["recertification"].window_opens_on == date(2028, 12, 10)
    assert {activity.status for activity in activities.values()} == {"planned"}
    cycle = db.session.get(AuditProgramme, audit.programme_id)
    assert (cycle.cycle_start, cycle.cycle_end) == (date(2026, 3, 10), date(2029, 3, 9))

    with pytest.raises(RuleViolation, match="already has certificate"):
        call(
            "certificate.issue",
            {"application_id": application.id, "decision_id": decision["id"]},
            now,
        )


def test_certificate_leap_day_and_serial(ctx, clock) -> None:
    now = datetime(2028, 2, 29, 2, 0, tzinfo=UTC)
    first = granted(now)
    call("certificate.issue", {"application_id": first[0].id, "decision_id": first[2]["id"]}, now)
    organisation = make_organisation(db.session, now, uscc="91350100M000200Y00", name="另一公司")
    application = make_application(db.session, now, organisation)
    audit = make_audit(db.session, now, organisation, application)
    audit.status, audit.conclusion, audit.star_level_achieved = "completed", "recommend", 4
    decision = decide(application, audit, now)
    result = call(
        "certificate.issue", {"application_id": application.id, "decision_id": decision["id"]}, now
    )
    assert result["number"] == "CTC-SHFW-2028-0002"
    assert result["issued_on"] == "2028-02-29"
    assert result["expires_on"] == "2031-02-28"


def test_certificate_signatory_and_title_come_from_the_settings_not_the_decider(ctx, clock) -> None:
    # Issue 10: the certificate named the decider's (demo) account: the CB's signature.
    now = clock.now()
    create_user(
        db.session,
        DECIDER,
        password="pw",
        roles={"technical_dept"},
        display_name="陈决定",
        now=now,
    )
    override_settings(
        ctx, certificate_signatory="张总经理", certificate_signatory_title="总经理 General Manager"
    )
    application, _audit, decision = granted(now)
    result = call(
        "certificate.issue", {"application_id": application.id, "decision_id": decision["id"]}, now
    )
    certificate = db.session.get(Certificate, result["id"])
    assert (certificate.signatory, certificate.signatory_title) == (
        "张总经理",
        "总经理 General Manager",
    )


def test_certificate_signatory_defaults(ctx, clock) -> None:
    now = clock.now()
    application, _audit, decision = granted(now)
    result = call(
        "certificate.issue", {"application_id": application.id, "decision_id": decision["id"]}, now
    )
    certificate = db.session.get(Certificate, result["id"])
    assert (certificate.signatory, certificate.signatory_title) == ("认证决定人员", "授权签字人")


def test_no_certificate_for_a_refusal(ctx, clock) -> None:
    now = clock.now()
    application, audit = decided_audit(db.session, now, achieved=0, conclusion="not_recommend")
    refused = decide(application, audit, now, outcome="refuse", star_level=None, reasons="低于一星")
    with pytest.raises(RuleViolation, match="does not grant") as excinfo:
        call(
            "certificate.issue",
            {"application_id": application.id, "decision_id": refused["id"]},
            now,
        )
    assert excinfo.value.rule == "R-9.1"
