"""Nonconformity cycle handlers (R-8.7): report, confirmation, answers, reminder, verification."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.errors import RuleViolation
from domain.models import Document, Nonconformity
from tests.factories import make_application, make_audit, make_organisation
from tests.helpers import handler_context, override_settings

CLIENT = "carl_client"
LEADER = "zhang_leader"


def call(operator: str, params: dict, now, actor: str = LEADER):
    from handlers import get_handler

    return get_handler(operator)(params, handler_context(db.session, now, actor=actor))


def concluded_audit(session, now, nc_count: int = 2):
    """An audit concluded before its closing meeting (in progress, R-8.7 §8.7.1) with
    `nc_count` open nonconformities."""
    organisation = make_organisation(session, now)
    application = make_application(session, now, organisation)
    audit = make_audit(session, now, organisation, application)
    audit.status = "in_progress"
    audit.conclusion = "recommend"
    audit.star_level_achieved = 3
    for n in range(1, nc_count + 1):
        session.add(
            Nonconformity(
                audit_id=audit.id,
                number=f"NC-{n}",
                item_code=f"5.1.1.{n}",
                description=f"不符合 {n}",
                evidence=f"证据 {n}",
                status="open",
            )
        )
    session.flush()
    return audit


def ncs(audit) -> list[Nonconformity]:
    return list(
        db.session.scalars(
            select(Nonconformity)
            .where(Nonconformity.audit_id == audit.id)
            .order_by(Nonconformity.id)
        )
    )


def answer(nc: Nonconformity) -> dict:
    return {
        "nc_id": nc.id,
        "root_cause": "职责未书面化",
        "correction": "补发职责文件",
        "corrective_action": "建立文件评审制度",
        "evidence_files": [7],
    }


def confirmed_audit(now, nc_count: int = 2):
    audit = concluded_audit(db.session, now, nc_count)
    call("nc.issue_report", {"audit_id": audit.id}, now, actor="system")
    call("nc.record_confirmation", {"audit_id": audit.id, "confirmed": True}, now, actor=CLIENT)
    return audit


def test_issue_report_deadline_and_timers(ctx, clock) -> None:
    now = clock.now()  # 2026-01-05T01:00Z = 09:00 in China
    audit = concluded_audit(db.session, now)
    result = call("nc.issue_report", {"audit_id": audit.id}, now, actor="system")
    # Issue 11: the 30 days include 5 January; the last is 3 February, late from the 4th.
    assert result["deadline"] == "2026-02-03"
    assert result["reminder_at"] == "2026-01-27T01:00:00+00:00"  # 7 days before, 09:00 China
    assert result["deadline_at"] == "2026-02-04T01:00:00+00:00"  # after the whole deadline day
    assert result["count"] == 2
    report = db.session.get(Document, result["report_document_id"])
    assert report.kind == "nc_report"
    assert [entry["number"] for entry in report.data["nonconformities"]] == ["NC-1", "NC-2"]
    assert "NC-2" in report.body and "2026-02-03" in report.body
    assert {nc.deadline.isoformat() for nc in ncs(audit)} == {"2026-02-03"}


def test_issue_report_uses_the_china_date_and_the_setting(ctx, clock) -> None:
    now = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)  # already 6 January in China
    override_settings(ctx, nc_response_days=10)
    audit = concluded_audit(db.session, now)
    result = call("nc.issue_report", {"audit_id": audit.id}, now)
    assert result["deadline"] == "2026-01-15"  # 6–15 January: 10 days
    assert result["reminder_at"] == "2026-01-08T01:00:00+00:00"
    assert result["deadline_at"] == "2026-01-16T01:00:00+00:00"


def test_the_report_is_formed_and_confirmed_before_the_closing_meeting(ctx, clock) -> None:
    """R-8.7 §8.7.1: after the closing meeting (audit completed) neither is possible."""
    now = clock.now()
    audit = concluded_audit(db.session, now)
    audit.status = "completed"
    with pytest.raises(RuleViolation, match="after the closing meeting"):
        call("nc.issue_report", {"audit_id": audit.id}, now, actor="system")
    audit.status = "in_progress"
    call("nc.issue_report", {"audit_id": audit.id}, now, actor="system")
    audit.status = "completed"
    with pytest.raises(RuleViolation, match="after the closing meeting"):
        call("nc.record_confirmation", {"audit_id": audit.id, "confirmed": True}, now)


def test_serious_nonconformities_get_their_own_deadline(ctx, clock) -> None:
    """R-8.7 §8.7.2: the deadline follows the nature (settings); the report's is the earliest."""
    now = clock.now()  # 5 January 2026, 09:00 China
    override_settings(ctx, nc_serious_response_days=60)
    audit = concluded_audit(db.session, now)
    ncs(audit)[1].nature = "serious"
    result = call("nc.issue_report", {"audit_id": audit.id}, now, actor="system")
    assert [nc.deadline.isoformat() for nc in ncs(audit)] == ["2026-02-03", "2026-03-05"]
    assert result["deadline"] == "2026-02-03"
    report = db.session.get(Document, result["report_document_id"])
    assert [e["nature"] for e in report.data["nonconformities"]] == ["general", "serious"]


def test_issue_report_needs_nonconformities(ctx, clock) -> None:
    audit = concluded_audit(db.session, clock.now(), nc_count=0)
    with pytest.raises(RuleViolation, match="no unreported") as excinfo:
        call("nc.issue_report", {"audit_id": audit.id}, clock.now())
    assert excinfo.value.rule == "R-8.7"


def test_confirmation(ctx, clock) -> None:
    now = clock.now()
    audit = concluded_audit(db.session, now)
    with pytest.raises(RuleViolation, match="no issued NC report"):
        call("nc.record_confirmation", {"audit_id": audit.id, "confirmed": True}, now)
    call("nc.issue_report", {"audit_id": audit.id}, now, actor="system")
    with pytest.raises(RuleViolation, match="must confirm"):
        call("nc.record_confirmation", {"audit_id": audit.id, "confirmed": False}, now)
    params = {"audit_id": audit.id, "confirmed": True, "comments": "对 NC-2 的抽样有保留"}
    to_answer = call("nc.record_confirmation", params, now, actor=CLIENT)  # issue 11
    assert [(n["nc_id"], n["number"], n["status"]) for n in to_answer] == [
        (nc.id, nc.number, "confirmed") for nc in ncs(audit)
    ]
    assert {(nc.status, nc.confirmed_by) for nc in ncs(audit)} == {("confirmed", CLIENT)}
    report = db.session.scalars(select(Document).where(Document.kind == "nc_report")).one()
    assert report.data["confirmation"]["comments"] == "对 NC-2 的抽样有保留"


def test_answers_may_come_one_by_one_each_complete_with_its_evidence(ctx, clock) -> None:
    """R-8.7: each NC has its own deadline, so the client may answer some first; every answer
    is complete and carries evidence files (§8.7.3)."""
    now = clock.now()
    audit = concluded_audit(db.session, now)
    call("nc.issue_report", {"audit_id": audit.id}, now, actor="system")
    first, second = ncs(audit)
    with pytest.raises(RuleViolation, match="not confirmed"):
        call("nc.record_answers", {"audit_id": audit.id, "answers": [answer(first)]}, now)
    call("nc.record_confirmation", {"audit_id": audit.id, "confirmed": True}, now, actor=CLIENT)
    incomplete = {**answer(second), "root_cause": ""}
    with pytest.raises(RuleViolation, match="root_cause"):
        call(
            "nc.record_answers",
            {"audit_id": audit.id, "answers": [answer(first), incomplete]},
            now,
        )
    without_files = {**answer(second), "evidence_files": []}
    with pytest.raises(RuleViolation, match="evidence") as excinfo:
        call("nc.record_answers", {"audit_id": audit.id, "answers": [without_files]}, now)
    assert excinfo.value.field == "answers/0/evidence_files"
    assert {nc.status for nc in ncs(audit)} == {"confirmed"}
    call("nc.record_answers", {"audit_id": audit.id, "answers": [answer(first)]}, now)
    assert [(nc.status, nc.evidence_files) for nc in ncs(audit)] == [
        ("answered", [7]),
        ("confirmed", []),
    ]


def test_answers_and_reminder(ctx, clock) -> None:
    now = clock.now()
    audit = confirmed_audit(now)
    first, second = ncs(audit)
    reminder = call("nc.send_reminder", {"audit_id": audit.id}, now, actor="system")
    document = db.session.get(Document, reminder["document_id"])
    assert document.kind == "nc_reminder"
    assert document.data == {
        "deadline": "2026-02-03",
        "pending": ["NC-1", "NC-2"],
        "title_facts": {"reference": "APP-2026-0001"},  # the title in each page's language
    }
    answers = {"audit_id": audit.id, "answers": [answer(first), answer(second)]}
    to_verify = call("nc.record_answers", answers, now, actor=CLIENT)  # issue 11
    assert [n["nc_id"] for n in to_verify] == [first.id, second.id]
    assert {n["status"] for n in to_verify} == {"answered"}
    assert {(nc.status, nc.rounds) for nc in ncs(audit)} == {("answered", 1)}
    assert first.answered_at == now


def verdict(nc: Nonconformity, **changes) -> dict:
    return {
        "nc_id": nc.id,
        "accepted": True,
        "method": "documentary",
        "note": "证据日期顺序合理，原件已核对",
        "onsite_record": "",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"method": "on_site", "onsite_record": ""}, "needs its record"),
        ({"method": "documentary", "note": ""}, "chronology"),
        ({"method": "phone"}, "method"),
        ({"accepted": False, "method": "on_site", "note": "", "onsite_record": "记录"}, "why"),
    ],
)
def test_verification_refusals(ctx, clock, changes, message) -> None:
    now = clock.now()
    audit = confirmed_audit(now, nc_count=1)
    (only,) = ncs(audit)
    call("nc.record_answers", {"audit_id": audit.id, "answers": [answer(only)]}, now)
    with pytest.raises(RuleViolation, match=message) as excinfo:
        call(
            "nc.record_verification",
            {"audit_id": audit.id, "verdicts": [verdict(only, **changes)]},
            now,
        )
    assert excinfo.value.rule == "R-8.7"
    assert only.status == "answered"


def test_rejected_nc_goes_back_until_accepted(ctx, clock) -> None:
    now = clock.now()
    audit = confirmed_audit(now)
    first, second = ncs(audit)
    call(
        "nc.record_answers", {"audit_id": audit.id, "answers": [answer(first), answer(second)]}, now
    )
    with pytest.raises(RuleViolation, match="needs a verdict: NC-2"):
        call("nc.record_verification", {"audit_id": audit.id, "verdicts": [verdict(first)]}, now)
    verdicts = [
        verdict(first, method="on_site", onsite_record="现场查看 3 个网点", note=""),
        verdict(second, accepted=False, note="纠正措施未覆盖所有网点"),
    ]
    result = call("nc.record_verification", {"audit_id": audit.id, "verdicts": verdicts}, now)
    # the NCs sent back, as the answer task's data shows them (issue 11)
    assert [(n["nc_id"], n["status"]) for n in result.pop("to_answer")] == [(second.id, "rejected")]
    assert result == {
        "all_accepted": False,
        "rejected": ["NC-2"],
        # the rejected answer gets a new deadline: 30 days from today, reminder 7 days before
        "deadline": "2026-02-03",  # the 30th day, today the first (issue 11)
        "reminder_at": "2026-01-27T01:00:00+00:00",
        "deadline_at": "2026-02-04T01:00:00+00:00",
    }
    assert second.deadline.isoformat() == "2026-02-03"
    assert (first.status, second.status) == ("accepted", "rejected")
    assert first.verification_method == "on_site" and "现场查看" in first.verification_note
    assert first.verified_by == LEADER

    # only the rejected NC is answered again; the accepted one is not waiting any more
    with pytest.raises(RuleViolation, match="not waiting"):
        call("nc.record_answers", {"audit_id": audit.id, "answers": [answer(first)]}, now)
    call("nc.record_answers", {"audit_id": audit.id, "answers": [answer(second)]}, now)
    assert second.rounds == 2 and first.rounds == 1
    result = call(
        "nc.record_verification", {"audit_id": audit.id, "verdicts": [verdict(second)]}, now
    )
    assert (result["all_accepted"], result["rejected"]) == (True, [])
    assert {nc.status for nc in ncs(audit)} == {"accepted"}
