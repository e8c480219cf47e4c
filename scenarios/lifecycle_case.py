"""Drives a certificate through its 3-year life with the simulated clock: surveillances,
extensions, suspension, withdrawal, cancellation and recertification, through the real diagrams
(docs/certificate-lifecycle.md)."""

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from certflow.dates import CHINA_TZ, add_months
from certflow.db import db
from domain.models import Audit, Auditor, Certificate, CertificateEvent, Nonconformity
from engine.models import HumanTask, ProcessInstance
from engine.service import Actor
from scenarios.certification_case import Case
from scenarios.people import NO_SHIFTS, discussed_with_client, findings_losing

NOTHING_FOUND_REVIEW = {
    "organisation_changes": "none",
    "changes_details": None,
    "mark_use_records": "kept",
    "use_within_scope": "proper",
    "publicity_use": "proper",
    "certificate_use": "proper",
    "nonconformities": [],
}


def nine_am(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=CHINA_TZ)


class Lifecycle(Case):
    """A Case that continues after its certificate."""

    def certify(self, points_lost: int = 40) -> Certificate:
        """Initial certification, granted at the level reached once the nonconformity of each
        deduction finding is corrected (R-8.7)."""
        for auditor in db.session.scalars(select(Auditor)):
            auditor.registration_expires_on = self.day0.date() + timedelta(days=6 * 365)
        db.session.commit()
        self.apply()
        self.through_grant(points_lost)
        return self.certificate()

    def through_grant(self, points_lost: int = 40) -> None:
        """From a submitted application to the grant, the NCs of the deductions corrected: the
        initial procedure, also run again inside a recertification (R-8.11)."""
        self.review()
        self.contract()
        self.programme()
        self.appoint()
        self.plan_and_prepare()
        self.opening_meeting()
        self.evidence(findings_losing(points_lost))
        self.conclude("recommend", [])
        self.receive_report()
        self.correct_all_ncs()
        self.at(40)
        self.decide("grant", 4)

    def correct_in_surveillance(
        self,
        nc_id: int | None,
        *,
        root_cause: str,
        correction: str,
        corrective_action: str,
        evidence: str,
        note: str,
    ) -> None:
        """R-8.7 in a surveillance: the client answers NC `nc_id` — and every other NC awaiting
        an answer, such as those derived from the deduction findings — with an evidence file;
        the team leader accepts them after a documentary verification (a serious one on site)."""
        db.session.rollback()
        audit_id = db.session.get(Nonconformity, nc_id).audit_id if nc_id else None
        if audit_id is None:
            audit_id = db.session.scalars(select(Audit.id).order_by(Audit.id.desc())).first()
        awaiting = db.session.scalars(
            select(Nonconformity).where(
                Nonconformity.audit_id == audit_id,
                Nonconformity.status.in_(("confirmed", "rejected")),
            )
        ).all()
        answers = [
            {
                "nc_id": nc.id,
                "root_cause": root_cause,
                "correction": correction,
                "corrective_action": corrective_action,
                "evidence_files": [self.upload("nc_evidence", evidence)],
            }
            for nc in awaiting
        ]
        natures = {nc.id: nc.nature for nc in awaiting}
        self.complete_in(
            "surveillance", "Task_SubmitCorrections", self.people.client, {"answers": answers}
        )
        verdicts = [
            {
                "nc_id": answer["nc_id"],
                "accepted": True,
                "method": "on_site" if natures[answer["nc_id"]] == "serious" else "documentary",
                "note": note,
                "onsite_record": "现场验证 verified on site"
                if natures[answer["nc_id"]] == "serious"
                else None,
            }
            for answer in answers
        ]
        self.complete_in(
            "surveillance", "Task_VerifyCorrections", self.people.leader, {"verdicts": verdicts}
        )

    # -- plumbing across instances ---------------------------------------------------------------
    def certificate(self, number: str | None = None) -> Certificate:
        db.session.rollback()
        query = select(Certificate).order_by(Certificate.id.desc())
        if number:
            query = select(Certificate).where(Certificate.number == number)
        return db.session.scalars(query).first()

    def events(self, certificate: Certificate) -> list[str]:
        db.session.rollback()
        return [
            e.event
            for e in db.session.scalars(
                select(CertificateEvent)
                .where(CertificateEvent.certificate_id == certificate.id)
                .order_by(CertificateEvent.id)
            )
        ]

    def instances(self, process_id: str) -> list[ProcessInstance]:
        db.session.rollback()
        return list(
            db.session.scalars(
                select(ProcessInstance)
                .where(ProcessInstance.process_id == process_id)
                .order_by(ProcessInstance.id)
            )
        )

    def open_in(self, process_id: str, element_id: str) -> HumanTask:
        db.session.rollback()
        rows = db.session.scalars(
            select(HumanTask).where(
                HumanTask.process_id == process_id,
                HumanTask.element_id == element_id,
                HumanTask.state == "open",
            )
        ).all()
        assert len(rows) == 1, f"{process_id}/{element_id}: {rows}"
        return rows[0]

    def is_open(self, process_id: str, element_id: str) -> bool:
        db.session.rollback()
        return (
            db.session.scalars(
                select(HumanTask).where(
                    HumanTask.process_id == process_id,
                    HumanTask.element_id == element_id,
                    HumanTask.state == "open",
                )
            ).first()
            is not None
        )

    def complete_in(self, process_id: str, element_id: str, who: Actor, data: dict) -> None:
        task = self.open_in(process_id, element_id)
        self.engine.complete_task(task.id, actor=who, data=data)
        instance = self.engine.get_instance(task.instance_id)
        incidents = [i.message for i in self.engine.open_incidents(instance.id)]
        assert instance.status != "error", (element_id, incidents)

    def travel_to(self, moment: datetime) -> list[int]:
        """Set the clock and fire what became due, as the scheduler would."""
        from scheduler import sweep

        if moment > self.clock.now():
            self.clock.set(moment)
        db.session.commit()
        return sweep(self.engine_app)

    # -- one routine surveillance ----------------------------------------------------------------
    def surveil(
        self,
        start: date,
        *,
        points_lost: int = 40,
        extension_reason: str | None = None,
        random_survey: bool = True,
        conclusion: str = "recommend",
        nonconformities: list[dict[str, Any]] | None = None,
        terminate_reason: str | None = None,
        review: dict[str, Any] | None = None,
    ) -> None:
        """Plan (at the planning timer), appoint, plan, mystery shopping, training, the review
        of changes and certificate/mark use (`review`, default: nothing found) and the on-site
        audit of one surveillance that starts on `start` (terminated after the opening meeting
        for `terminate_reason` when given)."""
        p = self.people
        end = start + timedelta(days=1)
        self.complete_in(
            "surveillance",
            "Task_PlanSurveillance",
            p.scheduler,
            {
                "planned_start": start.isoformat(),
                "planned_end": end.isoformat(),
                "extension_reason": extension_reason,
            },
        )
        if extension_reason:
            self.complete_in(
                "surveillance",
                "Task_ApproveExtension",
                p.audit_dept,
                {"approved": True, "note": "同意延期 approved"},
            )
        self.complete_in(
            "surveillance",
            "Task_AppointTeam",
            p.scheduler,
            {
                "members": [
                    {"auditor_id": p.leader_id, "role": "leader"},
                    {"auditor_id": p.auditor_id, "role": "auditor"},
                ],
                "objectives": "监督审查 surveillance",
                "criteria": "GB/T 27922-2011",
                "scope_and_boundaries": "全部场所 all sites",
                "onsite_start": start.isoformat(),
                "onsite_end": end.isoformat(),
                "audit_languages": ["zh"],  # R-7.2.1(4)
                "considerations": None,
            },
        )
        sites = self.sites()
        self.complete_in(
            "surveillance",
            "Task_AuditPlan",
            p.leader,
            {
                "activities": [
                    {
                        "date": (start + timedelta(days=i % 2)).isoformat(),
                        "site": site_id,
                        "activity": "监督审查",
                        "auditor_id": (p.leader_id, p.auditor_id)[i % 2],
                        "start": "09:00",
                        "duration_hours": 6,
                    }
                    for i, site_id in enumerate(sites)
                ],
                **NO_SHIFTS,
            },
        )
        self.travel_to(nine_am(start - timedelta(days=7)))
        self.complete_in(
            "surveillance",
            "Task_MysteryShopping",
            p.shopper,
            {
                "visit_date": self.today(),
                "shopper": "安暗访",
                "service_experienced": "报修 repair call",
                "observations": "服务规范 proper service",
                "random_survey_done": random_survey,
                "survey_sample_size": 30 if random_survey else None,
                "satisfied_count": 28 if random_survey else None,
            },
        )
        self.travel_to(nine_am(start - timedelta(days=1)))
        self.complete_in(
            "surveillance",
            "Task_PreAuditTraining",
            p.leader,
            {
                "training_date": self.today(),
                "trainer": "张组长",
                "attendees": [p.leader_id, p.auditor_id],
                "laws_standards_confirmed": True,
                "culture_and_requirements_trained": True,
                "content": "监督审查要求 surveillance requirements",
            },
        )
        self.complete_in(  # c, f, R-10.1: reviewed in every surveillance
            "surveillance",
            "Task_ReviewChangesAndMarkUse",
            p.leader,
            review or NOTHING_FOUND_REVIEW,
        )
        self.travel_to(nine_am(start))
        self.onsite_in(
            "surveillance",
            start,
            points_lost,
            conclusion,
            nonconformities or [],
            terminate_reason=terminate_reason,
            earlier_ncs=bool((review or {}).get("nonconformities")),
        )
        if not terminate_reason:  # the client signs for the surveillance audit report
            self.complete_in(
                "surveillance",
                "Task_ConfirmSurveillanceReportReceipt",
                p.client,
                {"received_by": "王芳", "received_on": self.today()},
            )
        no_team_ncs = not nonconformities and not (review or {}).get("nonconformities")
        if (
            no_team_ncs
            and not terminate_reason
            and self.is_open("surveillance", "Task_SubmitCorrections")
        ):
            # the NCs of the deduction findings, corrected as a met level still requires
            self.correct_in_surveillance(
                None,
                root_cause="培训不到位 training gap",
                correction="补充记录 records completed",
                corrective_action="每季度培训并检查 quarterly training and checks",
                evidence="整改记录.pdf",
                note="证据时间顺序与真实性已核 chronology and authenticity checked",
            )

    def terminate_in(self, process_id: str, start: date, reason: str) -> None:
        """R-8.5.6: the on-site audit of `process_id` on `start` is terminated for `reason`,
        requested by the auditor and approved by the audit department."""
        p = self.people
        self.complete_in(
            process_id,
            "Task_CollectEvidence",
            p.auditor,
            {
                "audit_day": start.isoformat(),
                "findings": findings_losing(0),
                "special_deductions": [],
                "special_bonus": [],
                "random_survey": None,
                "daily_communication": "每日沟通 daily briefing",
                "escalation": "terminate_request",
                "escalation_details": "无法继续审查 the audit cannot go on",
                "terminate_reason": reason,
                "more_days": False,
            },
        )
        self.complete_in(
            process_id,
            "Task_AuditDeptDecision",
            p.audit_dept,
            {
                "decision": "terminate",
                "termination_reason": reason,
                "plan_changes": None,
                "new_end_date": None,
                "new_scope": None,
                "notes": "批准终止 termination approved",
            },
        )

    def onsite_in(
        self,
        process_id,
        start,
        points_lost,
        conclusion,
        nonconformities,
        terminate_reason=None,
        earlier_ncs=False,
    ) -> None:
        """`earlier_ncs`: the audit already has NCs (a surveillance review's, R-8.10.2)."""
        from domain.audit.onsite import CLOSING_MEETING_ITEMS, OPENING_MEETING_ITEMS

        p = self.people
        attendees = [{"name": "王总", "organisation": "优服", "role": "总经理"}]
        self.complete_in(
            process_id,
            "Task_OpeningMeeting",
            p.leader,
            {
                "meeting_date": self.today(),
                "attendees": attendees,
                "checklist": dict.fromkeys(OPENING_MEETING_ITEMS, True),
                "notes": None,
            },
        )
        if terminate_reason:
            self.terminate_in(process_id, start, terminate_reason)
            return
        self.complete_in(
            process_id,
            "Task_CollectEvidence",
            p.auditor,
            {
                "audit_day": start.isoformat(),
                "findings": findings_losing(points_lost),
                "special_deductions": [],
                "special_bonus": [],
                "random_survey": None,
                "daily_communication": "每日沟通 daily briefing",
                "escalation": "none",
                "escalation_details": None,
                "terminate_reason": None,
                "more_days": False,
            },
        )
        self.complete_in(
            process_id,
            "Task_AuditConclusion",
            p.leader,
            discussed_with_client(
                {
                    "conclusion": conclusion,
                    "downgrade_requested": False,
                    "nonconformities": nonconformities,
                    "follow_up": "无 none",
                    "programme_adjustments": "无 none",
                    "disagreements": None,
                },
                self.today(),
            ),
        )
        # §8.7.1: the NC report (the team's NCs, the review's and one per deduction
        # finding) is confirmed before the closing meeting
        if self.is_open(process_id, "Task_ConfirmNcReport"):
            self.complete_in(
                process_id,
                "Task_ConfirmNcReport",
                p.client,
                {"confirmed": True, "comments": None},
            )
        self.travel_to(nine_am(start + timedelta(days=1)))
        self.complete_in(
            process_id,
            "Task_ClosingMeeting",
            p.leader,
            {
                "meeting_date": self.today(),
                "attendees": attendees,
                "items_covered": dict.fromkeys(CLOSING_MEETING_ITEMS, True),
                "client_questions": None,
                "disagreements": None,
            },
        )
        self.complete_in(  # the leader submits the report and materials
            process_id,
            "Task_SubmitAuditMaterials",
            p.leader,
            {"report_responsibility": True, "materials_complete": True, "materials_notes": None},
        )

    def sites(self) -> list[int]:
        from domain.models import Site

        db.session.rollback()
        return [s.id for s in db.session.scalars(select(Site).where(Site.active.is_(True)))]

    @staticmethod
    def months_after(day: date, months: int) -> date:
        return add_months(day, months)
