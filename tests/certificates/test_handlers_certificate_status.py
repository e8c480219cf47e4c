"""Certificate status handlers (R-9.5.1, R-9.5.2, R-9.5.3, R-10.1, R-14), the issue's event and
announcement, recertification superseding the earlier certificate (R-8.11) and the reissue
helper (R-9.3), on both databases."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from certflow.db import db
from domain.attachments import store_attachment
from domain.certificates import certificate_reissue
from domain.errors import RuleViolation
from domain.models import Announcement, Application, Certificate, CertificateEvent
from tests.certificate_factory import (
    ISSUED_AT,
    OTHER_USCC,
    STAFF,
    announcements_of,
    call,
    events_of,
    issued_certificate,
)
from tests.factories import (
    VALID_USCC,
    make_organisation,
)
from tests.helpers import override_settings, unchecked_settings


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(CertificateEvent.id))),
        db.session.scalar(select(func.count(Announcement.id))),
    )


def suspend(certificate, now=ISSUED_AT, *, reason="a", sites=None, detail="", **kw):
    params = {"certificate_id": certificate.id, "reason": reason, "sites": sites, "detail": detail}
    return call("certificate.suspend", params, now, **kw)


def set_status(certificate: Certificate, status: str, now=ISSUED_AT) -> None:
    """Bring a certificate into `status` through the handlers."""
    if status == "suspended":
        suspend(certificate, now)
    elif status == "withdrawn":
        call("certificate.withdraw", {"certificate_id": certificate.id, "reason": "c"}, now)
    elif status == "cancelled":
        call("certificate.cancel", {"certificate_id": certificate.id, "reason": "c"}, now)
    elif status == "superseded":
        certificate_reissue(db.session, certificate, changes={}, actor=STAFF, now=now, rule="R-9.3")


# --- certificate.issue: event, announcement ------------------------------------------------------


def test_issue_writes_the_issued_event_and_the_certified_announcement(ctx) -> None:
    certificate = issued_certificate()
    assert certificate.status_changed_on == date(2026, 3, 10)
    assert certificate.replaces_id is None
    [event] = events_of(certificate)
    assert (event.event, event.rule, event.status_before, event.status_after) == (
        "issued",
        "R-9.1",
        None,
        "valid",
    )
    assert (event.actor, event.at, event.effective_on) == ("system", ISSUED_AT, date(2026, 3, 10))
    assert event.data["star_level"] == 4 and event.data["replaces_number"] is None
    [announcement] = announcements_of(certificate)
    assert announcement.kind == "certified"
    assert announcement.certificate_number == certificate.number
    assert announcement.organisation_name == certificate.organisation_name
    assert (announcement.published_on, announcement.published_at) == (date(2026, 3, 10), ISSUED_AT)
    assert certificate.number in announcement.title and "4星" in announcement.body


# --- certificate.suspend -------------------------------------------------------------------------


def test_full_suspension(ctx) -> None:
    certificate = issued_certificate()
    now = datetime(2026, 8, 1, 2, 0, tzinfo=UTC)
    result = suspend(certificate, now, reason="a", detail="两次联系未果")
    json.dumps(result)
    assert result == {
        "correction_deadline": "2026-09-29",  # the 60th day, 1 Aug being the first (issue 11)
        # R-9.5.2(a): withdrawn at 09:00 China time the day after, if nothing was corrected
        "correction_deadline_at": "2026-09-30T01:00:00+00:00",
        # 09:00 China time on the first day after the 6 months (1 Aug – 31 Jan)
        "six_months_at": "2027-02-01T01:00:00+00:00",
        "partial": False,
        "sites": [],
        "joined": False,  # a new suspension, not a reason added to an open one
        "certificate_id": certificate.id,
        "certificate_number": certificate.number,
        "status": "suspended",
    }
    assert certificate.status == "suspended"
    assert certificate.mark_use_allowed is False
    assert certificate.suspended_sites == []
    assert certificate.status_changed_on == date(2026, 8, 1)
    event = events_of(certificate)[-1]
    assert (event.event, event.rule, event.status_before, event.status_after) == (
        "suspended",
        "R-9.5.1a",
        "valid",
        "suspended",
    )
    assert (event.actor, event.at, event.effective_on) == (STAFF, now, date(2026, 8, 1))
    assert event.reason == "两次联系未果" and event.sites == []
    assert event.data["six_months_at"] == result["six_months_at"]
    announcement = announcements_of(certificate)[-1]
    assert announcement.kind == "suspended"
    assert announcement.published_on == date(2026, 8, 1)  # the same day, within 5 days
    assert "R-9.5.1a" in announcement.body
    assert "两次联系未果" not in announcement.body  # the case's detail stays confidential


@pytest.mark.parametrize("reason", ["a", "b", "c", "d", "e"])
def test_suspension_rule_names_the_reason(ctx, reason) -> None:
    certificate = issued_certificate()
    suspend(certificate, reason=reason)
    event = events_of(certificate)[-1]
    assert event.rule == f"R-9.5.1{reason}"
    assert event.reason  # the clause's label when no detail is given


def test_six_month_instant_and_deadline_at_a_china_date_boundary(ctx) -> None:
    certificate = issued_certificate()
    now = datetime(2026, 8, 30, 16, 30, tzinfo=UTC)  # 31 August in China
    result = suspend(certificate, now)
    assert result["correction_deadline"] == "2026-10-29"
    # 31 Aug + 6 months has no corresponding day: the suspension runs through 28 Feb (its
    # month's end) and the limit acts on 1 March (issue 11, certflow/dates.py)
    assert result["six_months_at"] == "2027-03-01T01:00:00+00:00"
    assert events_of(certificate)[-1].effective_on == date(2026, 8, 31)


def test_suspension_settings(ctx) -> None:
    override_settings(ctx, suspension_correction_days=120, suspension_max_months=3)
    certificate = issued_certificate()
    result = suspend(certificate)
    # The correction deadline never passes the end of the suspension.
    assert result["correction_deadline"] == "2026-06-09"  # the last day of the 3 months
    assert result["six_months_at"] == "2026-06-10T01:00:00+00:00"
    unchecked_settings(ctx, suspension_max_months=7)  # at most 6 months
    other = issued_certificate(
        organisation=make_organisation(db.session, ISSUED_AT, uscc=OTHER_USCC)
    )
    with pytest.raises(ValueError, match="at most 6"):
        suspend(other)


def test_partial_suspension_keeps_the_mark_for_the_other_sites(ctx) -> None:
    certificate = issued_certificate(sites=3)
    site_ids = [site["id"] for site in certificate.sites]
    result = suspend(certificate, reason="c", sites=[site_ids[1], site_ids[1]])
    assert result["partial"] is True and result["sites"] == [site_ids[1]]
    assert certificate.status == "suspended"
    assert certificate.suspended_sites == [site_ids[1]]
    assert certificate.mark_use_allowed is True  # for the sites not suspended
    event = events_of(certificate)[-1]
    assert event.sites == [site_ids[1]] and event.data["partial"] is True
    assert "服务网点 2" in announcements_of(certificate)[-1].body

    restored = call("certificate.restore", {"certificate_id": certificate.id, "note": "已整改"})
    assert restored["status"] == "valid"
    assert certificate.suspended_sites == []
    assert events_of(certificate)[-1].sites == [site_ids[1]]


def test_suspending_every_site_is_a_full_suspension(ctx) -> None:
    certificate = issued_certificate(sites=2)
    result = suspend(certificate, sites=[site["id"] for site in certificate.sites])
    assert result["partial"] is False and result["sites"] == []
    assert certificate.mark_use_allowed is False


def test_suspension_refuses_unknown_sites_and_reasons(ctx) -> None:
    certificate = issued_certificate(sites=2)
    before = counts()
    with pytest.raises(RuleViolation, match="not covered") as excinfo:
        suspend(certificate, sites=[999999])
    assert excinfo.value.rule == "R-9.5.1"
    with pytest.raises(RuleViolation, match="reason must be one of") as excinfo:
        suspend(certificate, reason="f")
    assert excinfo.value.rule == "R-9.5.1"
    with pytest.raises(RuleViolation, match="list of site ids"):
        suspend(certificate, sites="1")
    assert certificate.status == "valid" and counts() == before


# --- certificate.restore -------------------------------------------------------------------------


def test_restore_after_verified_corrections(ctx) -> None:
    certificate = issued_certificate()
    suspend(certificate, reason="e")
    later = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
    result = call(
        "certificate.restore", {"certificate_id": certificate.id, "note": "费用已缴"}, later
    )
    json.dumps(result)
    assert result == {
        "certificate_id": certificate.id,
        "certificate_number": certificate.number,
        "status": "valid",
        "surveillance_number": None,  # no surveillance cycle waits on this suspension
    }
    assert certificate.status == "valid" and certificate.mark_use_allowed is True
    assert certificate.status_changed_on == date(2026, 5, 1)
    event = events_of(certificate)[-1]
    assert (event.event, event.rule, event.status_before, event.status_after) == (
        "restored",
        "R-9.5.1",
        "suspended",
        "valid",
    )
    assert event.reason == "费用已缴" and event.data["suspended_on"] == "2026-03-10"
    assert [a.kind for a in announcements_of(certificate)] == ["certified", "suspended", "restored"]


def test_no_restoration_after_six_months(ctx) -> None:
    certificate = issued_certificate()
    result = suspend(certificate)
    six_months = datetime.fromisoformat(result["six_months_at"])
    with pytest.raises(RuleViolation, match="maximum period") as excinfo:
        call("certificate.restore", {"certificate_id": certificate.id, "note": ""}, six_months)
    assert excinfo.value.rule == "R-9.5.1"
    assert certificate.status == "suspended"
    just_before = six_months - timedelta(minutes=1)
    assert call("certificate.restore", {"certificate_id": certificate.id}, just_before)


# --- certificate.withdraw ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "rule"),
    [
        ("b", "R-9.5.2b"),
        ("c", "R-9.5.2c"),
        ("d", "R-9.5.2d"),
        ("e", "R-9.5.2e"),
        ("below_lowest_level", "R-8.10.3c"),
    ],
)
def test_withdraw_a_valid_certificate(ctx, reason, rule) -> None:
    certificate = issued_certificate()
    result = call(
        "certificate.withdraw",
        {"certificate_id": certificate.id, "reason": reason, "detail": "经调查属实"},
    )
    assert result["status"] == "withdrawn"
    assert certificate.status == "withdrawn" and certificate.mark_use_allowed is False
    event = events_of(certificate)[-1]
    assert (event.event, event.rule, event.status_before) == ("withdrawn", rule, "valid")
    assert event.data["mark_use"] == "ended (R-10.1)" and event.reason == "经调查属实"
    announcement = announcements_of(certificate)[-1]
    assert announcement.kind == "withdrawn" and rule in announcement.body


def test_withdraw_after_an_unsuccessful_suspension(ctx) -> None:
    certificate = issued_certificate(sites=2)
    with pytest.raises(RuleViolation, match="not suspended") as excinfo:
        call("certificate.withdraw", {"certificate_id": certificate.id, "reason": "a"})
    assert excinfo.value.rule == "R-9.5.2a"
    site = certificate.sites[0]["id"]
    suspend(certificate, sites=[site])
    call("certificate.withdraw", {"certificate_id": certificate.id, "reason": "a", "detail": None})
    assert certificate.status == "withdrawn"
    assert certificate.mark_use_allowed is False and certificate.suspended_sites == []
    event = events_of(certificate)[-1]
    assert (event.rule, event.status_before) == ("R-9.5.2a", "suspended")
    assert event.data["suspended_sites_before"] == [site]


# --- certificate.cancel --------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["a", "b", "c"])
@pytest.mark.parametrize("start", ["valid", "suspended"])
def test_cancel(ctx, reason, start) -> None:
    certificate = issued_certificate()
    set_status(certificate, start)
    result = call(
        "certificate.cancel", {"certificate_id": certificate.id, "reason": reason, "detail": ""}
    )
    assert result["status"] == "cancelled"
    assert certificate.status == "cancelled" and certificate.mark_use_allowed is False
    event = events_of(certificate)[-1]
    assert (event.event, event.rule, event.status_before, event.status_after) == (
        "cancelled",
        f"R-9.5.3{reason}",
        start,
        "cancelled",
    )
    assert announcements_of(certificate)[-1].kind == "cancelled"


# --- illegal transitions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "operator", "params", "rule"),
    [
        ("valid", "certificate.restore", {}, "R-9.5.1"),
        # (suspended + certificate.suspend: the reason joins the open suspension, not refused —
        # tests/lifecycle/test_second_suspension_api.py)
        ("withdrawn", "certificate.restore", {}, "R-9.5.1"),
        ("withdrawn", "certificate.suspend", {"reason": "a"}, "R-9.5.1"),
        ("withdrawn", "certificate.withdraw", {"reason": "b"}, "R-9.5.2b"),
        ("withdrawn", "certificate.cancel", {"reason": "c"}, "R-9.5.3c"),
        ("cancelled", "certificate.restore", {}, "R-9.5.1"),
        ("cancelled", "certificate.suspend", {"reason": "e"}, "R-9.5.1"),
        ("cancelled", "certificate.withdraw", {"reason": "c"}, "R-9.5.2c"),
        ("cancelled", "certificate.cancel", {"reason": "b"}, "R-9.5.3b"),
    ],
)
def test_illegal_transitions_are_refused(ctx, status, operator, params, rule) -> None:
    certificate = issued_certificate()
    set_status(certificate, status)
    before = counts()
    with pytest.raises(RuleViolation, match="cannot") as excinfo:
        call(operator, {"certificate_id": certificate.id, **params})
    assert excinfo.value.rule == rule
    assert certificate.status == status and counts() == before


def test_a_certificate_superseded_by_recertification_takes_no_transition(ctx) -> None:
    organisation = make_organisation(db.session, ISSUED_AT)
    old = issued_certificate(organisation=organisation)
    issued_certificate(datetime(2028, 12, 20, 2, 0, tzinfo=UTC), organisation=organisation)
    assert old.status == "superseded"
    for operator in ("certificate.suspend", "certificate.withdraw", "certificate.cancel"):
        with pytest.raises(RuleViolation, match="superseded"):
            call(operator, {"certificate_id": old.id, "reason": "c"})


def test_unknown_withdrawal_and_cancellation_reasons(ctx) -> None:
    certificate = issued_certificate()
    with pytest.raises(RuleViolation) as excinfo:
        call("certificate.withdraw", {"certificate_id": certificate.id, "reason": "f"})
    assert excinfo.value.rule == "R-9.5.2"
    with pytest.raises(RuleViolation) as excinfo:
        call("certificate.cancel", {"certificate_id": certificate.id, "reason": "d"})
    assert excinfo.value.rule == "R-9.5.3"
    with pytest.raises(LookupError):
        call("certificate.cancel", {"certificate_id": 999999, "reason": "c"})


# --- reissue -------------------------------------------------------------------------------


def test_reissue_links_the_certificates_and_keeps_the_original_issue_date(ctx) -> None:
    certificate = issued_certificate()
    now = datetime(2027, 4, 2, 1, 0, tzinfo=UTC)
    new = certificate_reissue(
        db.session,
        certificate,
        changes={"organisation_name": "福州优服家电服务有限公司"},
        actor=STAFF,
        now=now,
        rule="R-9.3",
        reason="客户申请变更名称",
    )
    assert new.number == "CTC-SHFW-2027-0001" and new.number != certificate.number
    assert new.replaces_id == certificate.id
    assert new.organisation_name == "福州优服家电服务有限公司"
    assert (new.original_issued_on, new.issued_on, new.changed_on) == (
        date(2026, 3, 10),
        date(2027, 4, 2),
        date(2027, 4, 2),
    )
    assert new.expires_on == certificate.expires_on
    assert (new.star_level, new.mark, new.status) == (4, "服务认证标志 4星", "valid")
    assert certificate.status == "superseded" and certificate.mark_use_allowed is False
    [reissued] = events_of(new)
    assert (reissued.event, reissued.rule, reissued.status_before) == ("reissued", "R-9.3", None)
    assert reissued.data["organisation_name"]["to"] == "福州优服家电服务有限公司"
    superseded = events_of(certificate)[-1]
    assert (superseded.event, superseded.rule, superseded.status_after) == (
        "superseded",
        "R-9.3",
        "superseded",
    )
    assert superseded.data["replaced_by_number"] == new.number
    # A process started for the first certificate now acts on the reissue.
    result = suspend(certificate, now, reason="d")
    assert result["certificate_id"] == new.id and new.status == "suspended"


def test_reissue_refuses_unknown_fields_and_a_suspended_certificate(ctx) -> None:
    certificate = issued_certificate()
    with pytest.raises(ValueError, match="cannot change"):
        certificate_reissue(
            db.session,
            certificate,
            changes={"expires_on": None},
            actor=STAFF,
            now=ISSUED_AT,
            rule="R-9.3",
        )
    with pytest.raises(RuleViolation, match="star level"):
        certificate_reissue(
            db.session,
            certificate,
            star_level=6,
            changes={},
            actor=STAFF,
            now=ISSUED_AT,
            rule="R-9.3",
        )
    suspend(certificate)
    with pytest.raises(RuleViolation, match="only a valid certificate") as excinfo:
        certificate_reissue(
            db.session, certificate, changes={}, actor=STAFF, now=ISSUED_AT, rule="R-9.3"
        )
    assert excinfo.value.rule == "R-9.3"


# --- recertification ----------------------------------------------------------------------


def test_recertification_supersedes_the_certificate_of_the_earlier_cycle(ctx) -> None:
    organisation = make_organisation(db.session, ISSUED_AT)
    old = issued_certificate(organisation=organisation)
    suspend(old, reason="e")  # a suspended certificate is still held
    now = datetime(2029, 1, 15, 2, 0, tzinfo=UTC)
    new = issued_certificate(now, organisation=organisation, star_level=5)
    assert new.replaces_id == old.id and new.number == "CTC-SHFW-2029-0001"
    assert (new.status, new.original_issued_on, new.changed_on) == (
        "valid",
        date(2029, 1, 15),
        None,
    )
    assert old.status == "superseded" and old.mark_use_allowed is False
    event = events_of(old)[-1]
    assert (event.event, event.rule, event.status_before, event.status_after) == (
        "superseded",
        "R-8.11",
        "suspended",
        "superseded",
    )
    assert event.data["replaced_by_number"] == new.number
    assert events_of(new)[0].data["replaces_number"] == old.number
    assert "replaces " + old.number in announcements_of(new)[0].body


def test_an_organisation_without_a_held_certificate_is_not_recertified(ctx) -> None:
    organisation = make_organisation(db.session, ISSUED_AT)
    old = issued_certificate(organisation=organisation)
    call("certificate.withdraw", {"certificate_id": old.id, "reason": "b"})
    new = issued_certificate(datetime(2026, 9, 1, 2, 0, tzinfo=UTC), organisation=organisation)
    assert new.replaces_id is None and old.status == "withdrawn"


def _materials(tmp_path, now) -> dict:
    def upload(kind, name):
        return store_attachment(
            db.session,
            tmp_path / "uploads",
            filename=name,
            content_type="application/pdf",
            data=f"%PDF {kind} {name}".encode(),
            kind=kind,
            uploaded_by="carl_client",
            now=now,
        ).id

    return {
        "legal_status_file": upload("legal_status", "licence.pdf"),
        "service_documents_files": [upload("service_documents", "manual.pdf")],
        "service_flowchart_file": upload("service_flowchart", "flow.pdf"),
        "other_certificate_files": [],
    }


def _register(tmp_path, now, uscc=VALID_USCC) -> Application:
    params = {
        "org_name": "福州优服电器有限公司",
        "uscc": uscc,
        "address": "福建省福州市鼓楼区五四路 1 号",
        "contact_name": "王芳",
        "contact_phone": "0591-0000000",
        "contact_email": "service@example.cn",
        "requested_level": 4,
        "scope": "家用电器的安装、维修与退换货服务",
        "sites": [{"name": "服务网点 1", "address": "五四路 1 号", "is_fixed": True}],
        "shift_work": False,
        "headcount": 120,
        **_materials(tmp_path, now),
    }
    result = call("application.register", params, now, actor="carl_client")
    return db.session.get(Application, result["id"])


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (None, "initial"),
        ("valid", "recertification"),
        ("suspended", "recertification"),
        ("withdrawn", "initial"),
        ("cancelled", "initial"),
    ],
)
def test_register_marks_a_recertification(ctx, tmp_path, status, kind) -> None:
    if status is not None:
        certificate = issued_certificate()
        set_status(certificate, status)
    now = datetime(2028, 12, 12, 2, 0, tzinfo=UTC)
    assert _register(tmp_path, now).kind == kind


def test_register_for_another_organisation_is_initial(ctx, tmp_path) -> None:
    issued_certificate()
    now = datetime(2028, 12, 12, 2, 0, tzinfo=UTC)
    assert _register(tmp_path, now, uscc=OTHER_USCC).kind == "initial"
