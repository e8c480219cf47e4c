"""Drives one certification case through the real diagrams with the engine API, the way the
people of each role would: the tests read as the story of the case."""

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from certflow.db import db
from domain.attachments import store_attachment
from domain.audit.onsite import OPENING_MEETING_ITEMS
from engine.models import HumanTask, Incident, ProcessInstance
from engine.service import Actor
from scenarios.people import (
    NO_SHIFTS,
    SITES,
    VALID_USCC,
    People,
    discussed_with_client,
)


class Case:
    """One application, from submission to decision."""

    def __init__(self, engine, clock, people: People, uploads: Path) -> None:
        self.engine, self.clock, self.people, self.uploads = engine, clock, people, uploads
        self.instance_id: int | None = None
        self.day0 = clock.now()  # the day the client applies
        # Called with (element id, actor) before each task is completed (e.g. to look at it).
        self.before_complete: Callable[[str, Actor], None] | None = None

    # -- plumbing ------------------------------------------------------------------------------
    def day(self, n: int) -> str:
        """The date n days after the application (ISO)."""
        return (self.day0 + timedelta(days=n)).date().isoformat()

    def today(self) -> str:
        return self.clock.now().date().isoformat()

    def at(self, n: int) -> None:
        """Move the clock forward to day n of the case (never backwards)."""
        target = self.day0 + timedelta(days=n)
        if target > self.clock.now():
            self.clock.set(target)

    def open_task(self, element_id: str) -> HumanTask:
        db.session.rollback()
        rows = db.session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == self.instance_id,
                HumanTask.element_id == element_id,
                HumanTask.state == "open",
            )
        ).all()
        assert len(rows) == 1, f"{element_id}: open tasks {rows}; now at {self.active()}"
        return rows[0]

    def complete(self, element_id: str, who: Actor, data: dict[str, Any]) -> None:
        if self.before_complete is not None:
            self.before_complete(element_id, who)
        task = self.open_task(element_id)
        self.engine.complete_task(task.id, actor=who, data=data)
        instance = self.instance()
        if instance.status == "error":
            # The cause's type and traceback too: a message alone ("Error evaluating expression")
            # does not say whether the data or the script limits failed.
            rows = db.session.scalars(
                select(Incident).where(
                    Incident.instance_id == instance.id, Incident.status == "open"
                )
            )
            incidents = [(i.message, i.error_type, i.details[-2000:]) for i in rows]
            raise AssertionError(f"{element_id} raised an incident: {incidents}")

    def instance(self) -> ProcessInstance:
        db.session.rollback()
        return self.engine.get_instance(self.instance_id)

    def active(self) -> list[str]:
        return self.instance().active_elements

    def data(self, element_id: str) -> dict[str, Any]:
        return self.engine.task_data(self.open_task(element_id))

    def upload(self, kind: str, name: str) -> int:
        attachment = store_attachment(
            db.session,
            self.uploads,
            filename=name,
            content_type="application/pdf",
            data=f"%PDF-1.4 {kind} {name}".encode(),
            kind=kind,
            uploaded_by=self.people.client.username,
            now=self.clock.now(),
        )
        db.session.commit()
        return attachment.id

    # -- application, review, contract ----------------------------------------------------
    def apply(self, requested_level: int = 4) -> None:
        self.instance_id = self.engine.start("certification", actor=self.people.client).id
        self.submit_application(requested_level)

    def submit_application(self, requested_level: int = 4) -> None:
        self.complete(
            "Task_SubmitApplication", self.people.client, self.application_answers(requested_level)
        )

    def application_answers(self, requested_level: int = 4) -> dict[str, Any]:
        """The application form as the client fills it (R-6.1, R-11, R-13), files uploaded."""
        return {
            "org_name": "福州优服电器有限公司",
            "uscc": VALID_USCC,
            "address": "福建省福州市鼓楼区五四路 1 号",
            "contact_name": "王芳",
            "contact_phone": "0591-88880000",
            "contact_email": "service@yoofu.example.cn",
            "requested_level": requested_level,
            "scope": "家用电器的安装、维修、退换货及废旧回收服务",
            "sites": SITES,
            "shift_work": False,
            "headcount": 120,
            "legal_status_file": self.upload("legal_status", "营业执照.pdf"),
            "service_documents_files": [self.upload("service_documents", "服务手册.pdf")],
            "service_flowchart_file": self.upload("service_flowchart", "服务流程图.pdf"),
            "other_certificate_files": [],
            **self.declarations(),
        }

    def declarations(self) -> dict[str, Any]:
        """The signed attestation (R-13) and the acknowledgement of the public information
        (R-11) the application form asks for."""
        return {
            "public_information_acknowledged": True,
            "truth_attestation": True,
            "attestation_signatory": "王总",
            "attestation_position": "总经理",
            "attestation_signed_on": self.today(),
        }

    def review(self, accepted: bool = True) -> None:
        basis = "120 人，2 个固定场所 / 120 staff, 2 fixed sites"
        scope = "家用电器售后服务 after-sales service of home appliances"
        reason = "暂无该领域审查员 no auditor for the field"
        self.complete(
            "Task_AcceptanceReview",
            self.people.market,
            {
                "information_sufficient": accepted,
                "differences_resolved": True,
                "scope_determined": True,
                "cb_able": accepted,
                "man_days": 3.0 if accepted else None,
                "man_days_basis": basis if accepted else None,
                "scope": scope if accepted else None,
                "accepted": accepted,
                "not_accepted_reason": None if accepted else reason,
            },
        )

    def supplement(self, resubmit: bool, files: list[int] | None = None) -> None:
        """R-6.2.2b: after a non-acceptance the client supplements and resubmits, or gives up."""
        if resubmit:
            answers = {
                "resubmit": True,
                "changes": "已招聘家电领域审查员所需的补充资料 supplemented as asked",
                "supplementary_files": files or [],
                **self.declarations(),
            }
        else:
            answers = {
                "resubmit": False,
                "changes": None,
                "supplementary_files": [],
                "public_information_acknowledged": False,
                "truth_attestation": False,
                "attestation_signatory": None,
                "attestation_position": None,
                "attestation_signed_on": None,
            }
        self.complete("Task_SupplementApplication", self.people.client, answers)

    def contract(self) -> None:
        self.complete(
            "Task_SignContract",
            self.people.market,
            {
                "contract_number": f"HT-{self.instance_id:04d}-{self.today()}",
                "client_signatory": "王总",
                "client_signed_on": self.today(),
                "cb_signatory": "市场部 刘经理",
                "cb_signed_on": self.today(),
                "fee": 30000,
            },
        )

    # -- programme, team, plan ------------------------------------------------------------
    def programme(self, mystery_shopping: bool = True, random_survey: bool | None = None) -> None:
        """The programme; the random survey (R-8.3) is planned with the mystery shopping (which
        carries it) unless said otherwise."""
        self.complete(
            "Task_BuildProgramme",
            self.people.scheduler,
            {
                "mystery_shopping": mystery_shopping,
                "random_survey": mystery_shopping if random_survey is None else random_survey,
                "document_review_date": self.day(10),
                "initial_audit_start": self.day(28),
                "initial_audit_end": self.day(29),
                "man_days": 3.0,
                "sizing_notes": "规模中等、2 个场所、无倒班 medium size, 2 sites, no shifts",
                "shift_work_notes": None,
                "shifts": [],
            },
        )

    def appoint(self, members: list[dict[str, Any]] | None = None) -> None:
        p = self.people
        self.complete(
            "Task_AppointTeam",
            p.scheduler,
            {
                "members": members
                or [
                    {"auditor_id": p.leader_id, "role": "leader"},
                    {"auditor_id": p.auditor_id, "role": "auditor"},
                    {"auditor_id": p.expert_id, "role": "tech_expert"},
                ],
                "objectives": "确认是否满足四星级要求 confirm the four-star requirements",
                "criteria": "GB/T 27922-2011、实施规则及客户服务文件",
                "scope_and_boundaries": "两个固定服务场所 both fixed sites",
                "onsite_start": self.day(28),
                "onsite_end": self.day(29),
                "audit_languages": ["zh"],  # R-7.2.1(4)
                "considerations": None,
            },
        )

    def review_documents(self, adequate: bool) -> None:
        findings = "文件符合要求 documents adequate"
        if not adequate:
            findings = "缺少服务承诺 the service commitments are missing"
        self.complete(
            "Task_DocumentReview",
            self.people.leader,
            {
                "documents_reviewed": [
                    "service_scope: 服务范围",
                    "policy_objectives: 服务方针和目标",
                    "organisation_responsibilities: 组织机构和职责",
                    "documented_procedures: 服务手册、服务流程图",
                ],
                "adequate": adequate,
                "findings": findings,
            },
        )

    def revise_documents(self) -> None:
        self.complete(
            "Task_ReviseDocuments",
            self.people.client,
            {
                "revised_files": [self.upload("service_documents", "服务手册 v2.pdf")],
                "note": "补充了服务承诺 service commitments added",
            },
        )

    def plan_and_prepare(self, mystery_shopping: bool = True, revise: bool = False) -> None:
        p = self.people
        sites = self.data("Task_AuditPlan")["application"]["sites"]
        self.complete(
            "Task_AuditPlan",
            p.leader,
            {
                "activities": [
                    {
                        "date": self.day(28 + i),
                        "site": site["id"],
                        "activity": f"审查 {site['name']}",
                        "auditor_id": (p.leader_id, p.auditor_id)[i % 2],
                        "start": "09:00",
                        "duration_hours": 6,
                    }
                    for i, site in enumerate(sites)
                ],
                **NO_SHIFTS,
            },
        )
        self.at(10)
        if revise:  # inadequate first, revised by the client, reviewed again
            self.review_documents(adequate=False)
            self.revise_documents()
        self.review_documents(adequate=True)
        if mystery_shopping:
            self.at(20)
            self.complete(
                "Task_MysteryShopping",
                p.shopper,
                {
                    "visit_date": self.today(),
                    "shopper": "安暗访",
                    "service_experienced": "报修空调，上门维修 repair call for an air conditioner",
                    "observations": "24 小时内上门，服务规范 on site within 24 h",
                    "random_survey_done": True,
                    "survey_sample_size": 30,
                    "satisfied_count": 27,
                },
            )
        self.at(27)
        self.complete(
            "Task_PreAuditTraining",
            p.leader,
            {
                "training_date": self.today(),
                "trainer": "张组长",
                "attendees": [p.leader_id, p.auditor_id, p.expert_id],
                "laws_standards_confirmed": True,
                "culture_and_requirements_trained": True,
                "content": "法规标准适用性、CTC 文化和审查要求 laws, standards, CTC culture",
            },
        )

    # -- on-site audit ------------------------------------------------------------------
    def opening_meeting(self) -> None:
        checklist = {key: True for key in OPENING_MEETING_ITEMS}
        self.at(28)
        self.complete(
            "Task_OpeningMeeting",
            self.people.leader,
            {
                "meeting_date": self.today(),
                "attendees": [{"name": "王总", "organisation": "优服", "role": "总经理"}],
                "checklist": checklist,
                "notes": None,
            },
        )

    def evidence(self, findings, *, escalation="none", terminate_reason=None, who=None) -> None:
        self.complete(
            "Task_CollectEvidence",
            who or self.people.auditor,
            {
                "audit_day": self.day(28),
                "findings": findings,
                "special_deductions": [],
                "special_bonus": [],
                "random_survey": None,
                "daily_communication": "每日与客户沟通审查进展 daily briefing with the client",
                "escalation": escalation,
                "escalation_details": None if escalation == "none" else "客户拒绝提供记录",
                "terminate_reason": terminate_reason,
                "more_days": False,
            },
        )

    def conclude(
        self, conclusion: str, nonconformities: list[dict[str, Any]], submit: bool = True
    ) -> None:
        """Conclusion, the NC report confirmed, closing meeting and (unless `submit` is False)
        the leader's submission of the report and materials."""
        self.complete(
            "Task_AuditConclusion",
            self.people.leader,
            discussed_with_client(
                {
                    "conclusion": conclusion,
                    "downgrade_requested": False,
                    "nonconformities": nonconformities,
                    "follow_up": "跟踪不符合整改 follow up the corrections",
                    "programme_adjustments": "无 none",
                    "disagreements": None,
                },
                self.today(),
            ),
        )
        # §8.7.1: the client confirms the NC report before the closing meeting — the
        # team's NCs and the one derived from every deduction finding the team did not raise
        if "Task_ConfirmNcReport" in self.active():
            self.complete(
                "Task_ConfirmNcReport", self.people.client, {"confirmed": True, "comments": None}
            )
        self.at(29)
        self.complete(
            "Task_ClosingMeeting",
            self.people.leader,
            {
                "meeting_date": self.today(),
                "attendees": [{"name": "王总", "organisation": "优服", "role": "总经理"}],
                "items_covered": {
                    "sampling_uncertainty": True,
                    "reporting_method_timetable": True,
                    "deduction_items": True,
                    "post_audit_activities": True,
                    "complaints_appeals": True,
                },
                "client_questions": None,
                "disagreements": None,
            },
        )
        if submit:
            self.submit_materials()

    def submit_materials(self) -> None:
        """R-8.6: the team leader submits the report and materials, answering for the report."""
        self.complete(
            "Task_SubmitAuditMaterials",
            self.people.leader,
            {"report_responsibility": True, "materials_complete": True, "materials_notes": None},
        )

    def receive_report(self) -> None:
        self.complete(
            "Task_ConfirmReportReceipt",
            self.people.client,
            {"received_by": "王芳", "received_on": self.today()},
        )

    # -- nonconformities ----------------------------------------------------------------
    def confirm_ncs(self) -> list[int]:
        """The ids of the audit's NCs, whose report the client confirmed before the closing
        meeting (in `conclude`, R-8.7 §8.7.1)."""
        from domain.models import Audit, Nonconformity

        audit = db.session.scalars(
            select(Audit).where(Audit.organisation_id.isnot(None)).order_by(Audit.id.desc())
        ).first()
        return [
            nc.id
            for nc in db.session.scalars(
                select(Nonconformity).where(Nonconformity.audit_id == audit.id)
            )
        ]

    def answer_ncs(self, nc_ids: list[int]) -> None:
        self.complete(
            "Task_SubmitCorrections",
            self.people.client,
            {
                "answers": [
                    {
                        "nc_id": nc_id,
                        "root_cause": "培训不到位 training gap",
                        "correction": "补充记录 records completed",
                        "corrective_action": "每季度培训并检查 quarterly training and checks",
                        "evidence_files": [self.upload("nc_evidence", f"整改记录-{nc_id}.pdf")],
                    }
                    for nc_id in nc_ids
                ]
            },
        )

    def verify_ncs(self, nc_ids: list[int], accepted: bool) -> None:
        self.complete(
            "Task_VerifyCorrections",
            self.people.leader,
            {
                "verdicts": [
                    {
                        "nc_id": nc_id,
                        "accepted": accepted,
                        "method": "documentary",
                        "note": "证据时间顺序与真实性已核 chronology and authenticity checked"
                        if accepted
                        else "未分析根本原因 no root-cause analysis",
                        "onsite_record": None,
                    }
                    for nc_id in nc_ids
                ]
            },
        )

    def correct_all_ncs(self) -> list[int]:
        """R-8.7: when the correction cycle waits for the client (every deduction finding has
        its NC), the client answers every NC and the team leader accepts them all."""
        if "Task_SubmitCorrections" not in self.active():
            return []
        nc_ids = self.confirm_ncs()
        self.answer_ncs(nc_ids)
        self.verify_ncs(nc_ids, accepted=True)
        return nc_ids

    # -- decision -------------------------------------------------------------------------
    def decide(self, outcome: str, star_level: int, reasons: str = "", who=None) -> None:
        self.complete(
            "Task_CertificationDecision",
            who or self.people.decider,
            {"outcome": outcome, "star_level": star_level, "reasons": reasons or "符合要求"},
        )

    def decision_date(self) -> date:
        return self.clock.now().date()
