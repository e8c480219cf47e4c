"""R-9.4.1 扩大服务场所时，应安排现场审查，有关要求同初次认证；符合要求的，换发证书及附件:
a new site goes through the initial procedure inside certificate_change.bpmn — team, plan,
document review (R-8.1), pre-audit training (R-8.4), on-site audit, report and receipt (R-8.6),
nonconformities (R-8.7) and an independent decision (R-8.8, R-13) — before the certificate is
reissued with the same expiry date and the registry shows it (R-9.3, R-14). Through the real
engine and BPMN after a real certification, on both databases."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.dates import china_date
from certflow.db import db
from domain.errors import RuleViolation
from domain.models import Audit, Certificate, CertificateEvent, ChangeRequest, Document, Site
from engine.errors import FormValidationError
from engine.service import Actor
from tests.certification_case import NO_SHIFTS, deploy_everything, make_people, one_nc
from tests.lifecycle_case import Lifecycle, nine_am
from webapp.registry import load_public_certificate

PROCESS = "certificate_change"
NEW_SITE = {"name": "鼓楼杨桥服务网点", "address": "福州市鼓楼区杨桥中路 9 号", "is_fixed": True}


@pytest.fixture
def life(ctx, engine, clock, tmp_path):
    deploy_everything(engine)
    lifecycle = Lifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    lifecycle.engine_app = ctx
    return lifecycle


def change_row() -> ChangeRequest:
    db.session.rollback()
    return db.session.scalars(select(ChangeRequest).order_by(ChangeRequest.id.desc())).first()


def request_new_site(life) -> tuple[Certificate, int]:
    """A four-star certificate; the client asks for a new site, the market department approves
    the request (the application review of the change)."""
    old = life.certify()
    life.at(140)
    instance = life.engine.start(
        PROCESS,
        actor=life.people.client,
        data={"certificate_id": old.id},
        business_key=old.number,
    )
    life.complete_in(
        PROCESS,
        "Task_RequestChange",
        life.people.client,
        {
            "kind": "add_site",
            "new_value": None,
            "new_star_level": None,
            "site": NEW_SITE,
            "site_id": None,
            "reason": "新开网点 a new service point",
            "request_letter_file": None,
        },
    )
    life.complete_in(
        PROCESS,
        "Task_EvaluateChange",
        life.people.market,
        {"approved": True, "evaluation": "网点属实 the new site exists"},
    )
    return old, instance.id


def appoint_and_plan(life) -> tuple:
    p = life.people
    site_audit = life.engine.task_data(life.open_in(PROCESS, "Task_AppointTeam"))["site_audit"]
    audit = db.session.get(Audit, site_audit["audit_id"])
    assert (audit.kind, audit.status, site_audit["held_level"]) == ("special", "planned", 4)
    start = life.clock.now().date() + timedelta(days=20)
    life.complete_in(
        PROCESS,
        "Task_AppointTeam",
        p.scheduler,
        {
            "members": [
                {"auditor_id": p.leader_id, "role": "leader"},
                {"auditor_id": p.auditor_id, "role": "auditor"},
            ],
            "objectives": "新增场所现场审查 on-site audit of the new site",
            "criteria": "GB/T 27922-2011",
            "scope_and_boundaries": "全部场所，含新增场所 all sites with the new one",
            "onsite_start": start.isoformat(),
            "onsite_end": (start + timedelta(days=1)).isoformat(),
            "audit_languages": ["zh"],
            "considerations": None,
        },
    )

    def plan(site_ids):
        return {
            "activities": [
                {
                    "date": (start + timedelta(days=i % 2)).isoformat(),
                    "site": site_id,
                    "activity": "扩大范围审查 scope extension audit",
                    "auditor_id": (p.leader_id, p.auditor_id)[i % 2],
                    "start": "09:00",
                    "duration_hours": 4,
                }
                for i, site_id in enumerate(site_ids)
            ],
            **NO_SHIFTS,
        }

    task = life.open_in(PROCESS, "Task_AuditPlan")
    with pytest.raises(FormValidationError) as refused:  # the new site is audited
        life.engine.complete_task(task.id, actor=p.leader, data=plan(life.sites()))
    assert "R-9.4.1" in refused.value.errors["activities"][0]
    life.complete_in(
        PROCESS, "Task_AuditPlan", p.leader, plan([*life.sites(), site_audit["site_id"]])
    )
    return site_audit, start


def review_documents(life, adequate: bool) -> None:
    life.complete_in(
        PROCESS,
        "Task_SiteDocumentReview",
        life.people.leader,
        {
            "documents_reviewed": [
                "service_scope: 服务范围（含新网点）",
                "policy_objectives: 服务方针和目标",
                "organisation_responsibilities: 组织机构和职责",
                "documented_procedures: 新网点服务流程",
            ],
            "adequate": adequate,
            "findings": "文件符合要求 adequate" if adequate else "缺少新网点服务流程 missing",
        },
    )


def train(life) -> None:
    p = life.people
    life.complete_in(
        PROCESS,
        "Task_SitePreAuditTraining",
        p.leader,
        {
            "training_date": life.today(),
            "trainer": "张组长",
            "attendees": [p.leader_id, p.auditor_id],
            "laws_standards_confirmed": True,
            "culture_and_requirements_trained": True,
            "content": "法规标准、CTC 文化和审查要求 laws, standards, CTC culture",
        },
    )


def through_onsite(life, start, nonconformities) -> None:
    """Document review (once inadequate, revised by the client), training, the on-site audit
    and the report's receipt."""
    review_documents(life, adequate=False)
    life.complete_in(
        PROCESS,
        "Task_SiteReviseDocuments",
        life.people.client,
        {
            "revised_files": [life.upload("service_documents", "新网点服务流程.pdf")],
            "note": "补充了新网点服务流程 procedure added",
        },
    )
    review_documents(life, adequate=True)
    train(life)
    life.travel_to(nine_am(start))
    life.onsite_in(PROCESS, start, 40, "recommend", nonconformities)
    life.complete_in(
        PROCESS,
        "Task_ConfirmSiteReportReceipt",
        life.people.client,
        {"received_by": "王芳", "received_on": life.today()},
    )


def correct_and_verify(life, nc_ids: list[int]) -> None:
    """R-8.7: the client answers each NC with evidence; the team leader accepts them."""
    life.complete_in(
        PROCESS,
        "Task_SubmitCorrections",
        life.people.client,
        {
            "answers": [
                {
                    "nc_id": nc_id,
                    "root_cause": "新网点未纳入组织架构 the new site was left out",
                    "correction": "补充组织架构图 chart completed",
                    "corrective_action": "新网点纳入管理评审 site in the management review",
                    "evidence_files": [life.upload("nc_evidence", f"整改-{nc_id}.pdf")],
                }
                for nc_id in nc_ids
            ]
        },
    )
    life.complete_in(
        PROCESS,
        "Task_VerifyCorrections",
        life.people.leader,
        {
            "verdicts": [
                {
                    "nc_id": nc_id,
                    "accepted": True,
                    "method": "documentary",
                    "note": "证据时间顺序与真实性已核 chronology and authenticity checked",
                    "onsite_record": None,
                }
                for nc_id in nc_ids
            ]
        },
    )


def decide(life, who, outcome: str, reasons: str = "新场所达到持有星级 level met"):
    life.complete_in(
        PROCESS, "Task_SiteExtensionDecision", who, {"outcome": outcome, "reasons": reasons}
    )


def test_new_site_goes_through_the_initial_procedure_then_the_certificate_is_reissued(life):
    """R-9.4.1: document review, training, on-site audit, report, NC cycle and an independent
    decision; the reissued certificate keeps its expiry date (R-9.3) and the registry shows the
    new site (R-14)."""
    old, instance_id = request_new_site(life)
    site_audit, start = appoint_and_plan(life)
    new_site_id = site_audit["site_id"]
    through_onsite(life, start, one_nc())

    audit = db.session.get(Audit, site_audit["audit_id"])
    assert audit.document_review["adequate"] is True  # reviewed again after revision
    assert audit.report_received_by == "王芳"
    assert db.session.get(Site, new_site_id).active is False  # not certified before the decision
    # the client corrects, the leader verifies — the nonconformity cycle of initial
    # certification, called from the change.
    nc_ids = life.confirm_ncs()
    assert len(nc_ids) == 3  # the team's for 5.1.1.1 and one per other deduction
    correct_and_verify(life, nc_ids)

    # the team leader audited the site: even holding the decision role he may not decide.
    task = life.open_in(PROCESS, "Task_SiteExtensionDecision")
    leader_as_decider = Actor("zhang_leader", frozenset({"team_leader", "technical_dept"}))
    with pytest.raises(Exception, match="R-8.8"):
        life.engine.complete_task(
            task.id, actor=leader_as_decider, data={"outcome": "grant", "reasons": "ok"}
        )
    decide(life, life.people.decider, "grant")

    db.session.rollback()
    assert life.engine.get_instance(instance_id).status == "completed"
    change = change_row()
    assert change.status == "completed"
    assert change.details["decision"]["decided_by"] == "jue_decider"
    assert change.details["decision"]["outcome"] == "grant"
    old = db.session.get(Certificate, old.id)
    new = db.session.get(Certificate, change.new_certificate_id)
    assert new.sites[-1]["id"] == new_site_id and len(new.sites) == len(old.sites) + 1
    assert new.expires_on == old.expires_on  # the same cycle: same expiry
    assert new.original_issued_on == old.issued_on
    assert new.changed_on == china_date(life.clock.now())
    assert old.status == "superseded" and new.status == "valid"
    assert db.session.get(Site, new_site_id).active is True
    [event] = db.session.scalars(
        select(CertificateEvent).where(CertificateEvent.certificate_id == new.id)
    ).all()
    assert (event.event, event.rule) == ("reissued", "R-9.4.1")
    public = load_public_certificate(new)  # the registry shows the reissue and its site
    assert public.replaces == old.number
    assert NEW_SITE["name"] in [s["name"] for s in new.sites]


def test_decision_refusing_the_new_site_notifies_the_client_and_keeps_the_certificate(life):
    """R-9.4.1, R-8.8: the decision is a person's, not an automatic step: a refusal ends the
    change with a written notice citing the decision's reasons."""
    old, instance_id = request_new_site(life)
    site_audit, start = appoint_and_plan(life)
    through_onsite(life, start, [])
    correct_and_verify(life, life.confirm_ncs())  # one NC per deduction finding
    decide(life, life.people.decider, "refuse", "新网点服务人员不足 not enough staff")

    db.session.rollback()
    assert life.engine.get_instance(instance_id).status == "completed"
    change = change_row()
    assert change.status == "refused" and change.new_certificate_id is None
    assert change.details["refusal"]["stage"] == "decision"
    notice = db.session.get(Document, change.details["refusal"]["document_id"])
    assert "新网点服务人员不足" in notice.body
    assert db.session.get(Certificate, old.id).status == "valid"
    assert db.session.get(Site, site_audit["site_id"]).active is False


def test_a_grant_while_a_nonconformity_is_open_is_refused(life):
    """R-8.7/R-8.8: a grant while a nonconformity of the new site is open is refused by the rule
    that the decision form's check and the decision service task both call."""
    from domain.site_extension import decide as decide_in_domain

    request_new_site(life)
    site_audit, start = appoint_and_plan(life)
    through_onsite(life, start, one_nc())
    # The NC cycle is open; the decision is not reachable yet, but the rule is the domain's:
    change = change_row()
    with pytest.raises(RuleViolation, match="R-8.7/R-8.8"):
        decide_in_domain(
            db.session,
            change_id=change.id,
            outcome="grant",
            reasons="ok",
            actor="jue_decider",
            now=life.clock.now(),
        )
    db.session.rollback()
    task = life.open_in(PROCESS, "Task_SubmitCorrections")  # the cycle waits for the client
    assert task is not None


def test_apply_refuses_a_new_site_without_a_granting_decision(life):
    """R-9.4.1: applying the change is never automatic after the on-site audit — without the
    decision the site does not join the certificate (the regression of issue 15)."""
    from domain.change_steps import apply

    request_new_site(life)
    site_audit, start = appoint_and_plan(life)
    through_onsite(life, start, [])
    correct_and_verify(life, life.confirm_ncs())
    change = change_row()
    assert life.open_in(PROCESS, "Task_SiteExtensionDecision")
    with pytest.raises(RuleViolation, match="R-9.4.1.*no granting decision"):
        apply(db.session, change_id=change.id, actor="jue_decider", now=life.clock.now())
    db.session.rollback()


def test_decision_form_refuses_a_grant_below_the_held_level(life):
    """R-9.4.1: the new site must reach the level the certificate holds: a grant below it is a
    422 on `outcome` (form check changes.site_extension_decision_fits)."""
    request_new_site(life)
    site_audit, start = appoint_and_plan(life)
    review_documents(life, adequate=True)
    train(life)
    life.travel_to(nine_am(start))
    life.onsite_in(PROCESS, start, 150, "not_recommend", [])  # 85 points: three stars
    life.complete_in(
        PROCESS,
        "Task_ConfirmSiteReportReceipt",
        life.people.client,
        {"received_by": "王芳", "received_on": life.today()},
    )
    correct_and_verify(life, life.confirm_ncs())  # not recommended: no rescoring after them
    task = life.open_in(PROCESS, "Task_SiteExtensionDecision")
    with pytest.raises(FormValidationError) as refused:
        life.engine.complete_task(
            task.id, actor=life.people.decider, data={"outcome": "grant", "reasons": "ok"}
        )
    assert "R-9.4.1" in refused.value.errors["outcome"][0]
    decide(life, life.people.decider, "refuse", "未达到持有星级 below the held level")
    assert change_row().status == "refused"


def below_the_held_level_then_corrected(life) -> dict:
    """A new site audited at three stars (85 points) under a four-star certificate, recommended
    on condition of its corrections (R-8.5.5(1)); its report received and its NCs — one per
    deduction finding (R-8.7) — corrected and accepted."""
    request_new_site(life)
    site_audit, start = appoint_and_plan(life)
    review_documents(life, adequate=True)
    train(life)
    life.travel_to(nine_am(start))
    life.onsite_in(PROCESS, start, 150, "recommend", [])
    life.complete_in(
        PROCESS,
        "Task_ConfirmSiteReportReceipt",
        life.people.client,
        {"received_by": "王芳", "received_on": life.today()},
    )
    nc_ids = life.confirm_ncs()
    assert len(nc_ids) == 9  # nine deduction findings, nine NCs to correct
    correct_and_verify(life, nc_ids)
    return site_audit


def rescore(life, score: float) -> None:
    life.complete_in(
        PROCESS,
        "Task_SiteRescoreAfterCorrections",
        life.people.leader,
        {"score": score, "special_deductions": 0, "basis": "整改已验证 corrections verified"},
    )


def test_a_new_site_below_the_held_level_is_rescored_after_correction_then_granted(life):
    """R-9.4.1 with R-8.10.3(2)/R-8.5.5: below the held level the client corrects, the team
    rescores the corrected result (the same form, DMN and handler as surveillance) and gives
    its final recommendation; the decision then adds the site at the held level."""
    site_audit = below_the_held_level_then_corrected(life)
    audit = db.session.get(Audit, site_audit["audit_id"])
    assert audit.conclusion_notes["conditional_on_corrections"] is True
    with pytest.raises(AssertionError):  # not before the team's final recommendation
        life.open_in(PROCESS, "Task_SiteExtensionDecision")
    rescore(life, 92)  # four stars after correction
    db.session.rollback()
    audit = db.session.get(Audit, site_audit["audit_id"])
    assert (audit.star_level_achieved, audit.conclusion) == (4, "recommend")
    assert audit.conclusion_notes["rescored"]["before"]["star_level"] == 3
    decide(life, life.people.decider, "grant", "整改后达到持有星级 held level met after correction")
    change = change_row()
    assert change.status == "completed" and change.new_certificate_id is not None
    assert db.session.get(Site, site_audit["site_id"]).active is True


def test_a_new_site_still_below_the_held_level_after_correction_is_refused(life):
    """The corrected result still misses the held level: the extension cannot be granted (the
    certificate keeps its level; a lower level for it is a downgrade the client asks for)."""
    site_audit = below_the_held_level_then_corrected(life)
    rescore(life, 85)  # still three stars
    task = life.open_in(PROCESS, "Task_SiteExtensionDecision")
    with pytest.raises(FormValidationError) as refused:
        life.engine.complete_task(
            task.id, actor=life.people.decider, data={"outcome": "grant", "reasons": "ok"}
        )
    assert "R-9.4.1" in refused.value.errors["outcome"][0]
    decide(life, life.people.decider, "refuse", "整改后仍低于持有星级 still below the held level")
    assert change_row().status == "refused"
    assert db.session.get(Site, site_audit["site_id"]).active is False


def test_the_client_applies_for_a_new_site_from_its_home_and_the_market_sees_it(life, ctx):
    """The portal: the client's valid certificate offers "申请变更"; the request form opens at
    once; the market department gets the evaluation. Another organisation's or an unknown
    certificate is 404 (R-11)."""
    from flask import g
    from flask_babel import refresh

    from tests.web_support import Browser, text

    old = life.certify()
    life.at(140)
    client = Browser(ctx)
    assert client.login("wang_client", "pw").status_code == 302
    # The requests share the test's app context (the `ctx` fixture): drop the CSRF token the
    # login page cached in `g`, so the page carries the token of the signed-in session.
    g.pop("csrf_token", None)
    home = text(client.get("/home"))
    action = f"/home/certificates/{old.number}/change"
    assert action in home and "申请变更" in home
    response = client.post(action)
    assert response.status_code == 303, text(response)
    task = life.open_in(PROCESS, "Task_RequestChange")
    assert response.headers["Location"].endswith(f"/tasks/{task.id}")
    assert "证书变更申请" in text(client.get(f"/tasks/{task.id}"))
    refresh()  # the shared app context caches the locale too
    assert "Apply for a change" in text(client.get("/home?lang=en"))
    refresh()
    # One change at a time; nothing for a certificate that is not the client's own valid one.
    again = client.post(action)
    assert again.status_code == 409  # one change at a time
    assert "A change of this certificate is in progress" in text(again)  # ?lang=en was chosen
    assert client.post("/home/certificates/CTC-SHFW-2026-9999/change").status_code == 404
    life.complete_in(
        PROCESS,
        "Task_RequestChange",
        life.people.client,
        {
            "kind": "add_site",
            "new_value": None,
            "new_star_level": None,
            "site": NEW_SITE,
            "site_id": None,
            "reason": "新开网点 a new service point",
            "request_letter_file": None,
        },
    )
    evaluation = life.open_in(PROCESS, "Task_EvaluateChange")
    with ctx.app_context():  # a fresh `g`: the client's sign-in is not cached for the market
        market = Browser(ctx)
        assert market.login("ma_market", "pw").status_code == 302
        page = text(market.get(f"/tasks/{evaluation.id}"))
    assert NEW_SITE["name"] in page and "扩大认证范围" in page
