"""The compliance dataset of issue 13 ("Must show"), DRIVEN THROUGH THE REAL PROCESSES on the
simulated clock: organisations certified through certification.bpmn, surveilled (or not) through
surveillance.bpmn, suspended by the sweeper when a surveillance is overdue (R-9.5.1a), restored
or withdrawn through suspension.bpmn, complaints through complaint.bpmn. Nothing is written as a
row: each breach happens because time passed while nobody acted.

What the processes refuse to produce — a decision maker from the audit team (R-8.8), an auditor
whose registration lapsed on the audit days (R-7.2.2), a suspension left beyond 6 months (the
suspension process withdraws at 60 days / 6 months, R-9.5.1, R-9.5.2), a status change never or
late announced (R-14: the processes announce every change), recertification (R-8.11, not driven
yet: it needs three simulated years) — comes from `domain.compliance.refused_breaches`,
the rows an import of legacy records or a data edit leaves behind.

The timeline (START_TIME 2026-01-05, one clock, every timer fired by the sweeper as it passes):

- 子 P: certified with the team's NC and the NC of each other deduction finding (R-8.7: every
  deduction finding has its NC) answered in time; surveillance 1 done 20 days before its last
  day (kept), the NCs of its deductions corrected in time.
- 丑 Q, 寅 R, 卯 S: certified, the NC of each deduction finding corrected before the decision.
- 丑 Q: surveillance 1 never planned → suspended the day after its last day (breach, missing);
  the client corrects → restored (suspension kept).
- 寅 R: surveillance 1 in time, its one deduction finding with the team's NC, which the client
  never answers → its deadline passes (R-8.7 breach, missing).
- 卯 S: surveillance 1 never planned → suspended → nothing corrected in 60 days → withdrawn
  (surveillance breach, suspension kept: the process ends it in time).
- complaints: answered on day 10 (kept), answered on day 35 (breach, late), never answered
  (breach, missing), a last one still in time at the end (not counted).
"""

import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select

from certflow.dates import china_date, last_day_of_days
from certflow.db import db
from domain.compliance.refused_breaches import seed_refused_breaches
from domain.compliance.seed_builder import Seeded
from domain.models import (
    Application,
    Audit,
    AuditProgramme,
    Certificate,
    CertificateEvent,
    Decision,
    Nonconformity,
    Site,
)
from domain.models_cases import Complaint
from domain.programme_dates import surveillance_1_due
from domain.uscc import uscc_check_char
from engine.models import HumanTask, ProcessInstance
from engine.service import SYSTEM, Actor
from scenarios.certified import one_nc
from scenarios.lifecycle_case import Lifecycle, nine_am
from scenarios.people import actor, deploy_everything, findings_losing, make_people

DESK = Actor("seed_desk", frozenset({"complaints"}))
HANDLER = Actor("seed_handler", frozenset({"complaints"}))
ONLY_ITEM_5_1_1_1 = 20  # findings_losing(20): item 5.1.1.1 is the only deduction finding
SURVEILLANCE_NC = {
    "item_code": "5.1.1.1",
    "nature": "general",
    "description": "服务网点未公示服务承诺 service commitments not displayed",
    "evidence": "现场查看服务网点 seen at the outlet",
}


def uscc_for(number: int) -> str:
    first17 = f"9135010000000{number:04d}"
    return first17 + uscc_check_char(first17)


def advance(app, clock, moment: datetime) -> None:
    """Move the clock to `moment` as the running scheduler would see it pass: stop at each timer
    that falls due on the way (a second after its instant: SpiffWorkflow fires a timer once its
    instant has passed) and sweep there, so that every date the processes record is the day
    their timer fell due, not the day the test next looked."""
    from scheduler import sweep

    engine = app.extensions["certflow.engine"]
    while True:
        db.session.rollback()
        due = engine.next_timer_due()
        if due is None or due >= moment:
            break
        step = max(due + timedelta(seconds=1), clock.now())
        if step >= moment:
            break
        clock.set(step)
        db.session.commit()
        if not sweep(app) and engine.next_timer_due() == due:
            raise AssertionError(f"the timer due at {due} does not fire")
    if moment > clock.now():
        clock.set(moment)
    db.session.commit()
    sweep(app)


class CompanyCase(Lifecycle):
    """A Lifecycle of one organisation among several on the same database and clock: its tasks
    are looked up among its own instances, and every move of the clock fires what fell due."""

    def __init__(self, engine, clock, people, uploads, *, app, letter, name, number) -> None:
        client = actor(f"seed_client_{letter.lower()}", {"client"}, clock.now())
        super().__init__(engine, clock, replace(people, client=client), uploads)
        self.engine_app, self.letter, self.name, self.uscc = app, letter, name, uscc_for(number)

    def application_answers(self, requested_level: int = 4):
        answers = super().application_answers(requested_level)
        return {**answers, "org_name": self.name, "uscc": self.uscc}

    def at(self, n: int) -> None:
        self.travel_to(self.day0 + timedelta(days=n))

    def travel_to(self, moment: datetime) -> list[int]:
        advance(self.engine_app, self.clock, moment)
        return []

    def application(self) -> Application:
        db.session.rollback()
        return db.session.scalars(
            select(Application).where(Application.instance_id == self.instance_id)
        ).one()

    @property
    def organisation_id(self) -> int:
        return self.application().organisation_id

    def certificate(self, number: str | None = None) -> Certificate:
        db.session.rollback()
        return db.session.scalars(
            select(Certificate)
            .where(Certificate.organisation_id == self.organisation_id)
            .order_by(Certificate.id.desc())
        ).first()

    def _keys(self) -> list[str]:
        keys = [self.application().number]
        certificate = self.certificate()
        return keys + ([certificate.number] if certificate else [])

    def open_in(self, process_id: str, element_id: str) -> HumanTask:
        keys = self._keys()
        db.session.rollback()
        rows = db.session.scalars(
            select(HumanTask)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(
                HumanTask.process_id == process_id,
                HumanTask.element_id == element_id,
                HumanTask.state == "open",
                or_(
                    ProcessInstance.business_key.in_(keys),
                    HumanTask.instance_id == self.instance_id,
                ),
            )
        ).all()
        assert len(rows) == 1, f"{self.letter} {process_id}/{element_id}: {rows}"
        return rows[0]

    def sites(self) -> list[int]:
        organisation_id = self.organisation_id
        return [
            s.id
            for s in db.session.scalars(
                select(Site).where(Site.organisation_id == organisation_id, Site.active.is_(True))
            )
        ]

    def surveillance_1_last_day(self) -> date:
        return surveillance_1_due(self.certificate().issued_on)


@dataclass
class ComplianceDataset:
    seeded: Seeded
    today: date  # the clock's China date when the build ended: measure with it
    open_complaint_last_day: date  # the last complaint's last day: not counted before
    seconds: float  # how long the build took


class _Build:
    def __init__(self, app, engine, clock, uploads) -> None:
        self.app, self.engine, self.clock, self.uploads = app, engine, clock, uploads
        self.seeded = Seeded()
        self.complaints: dict[str, int] = {}

    def company(self, people, letter, name, number) -> CompanyCase:
        case = CompanyCase(
            self.engine,
            self.clock,
            people,
            self.uploads,
            app=self.app,
            letter=letter,
            name=name,
            number=number,
        )
        return case

    def travel(self, day: date, minutes: int = 1) -> None:
        """To 09:00 China time on `day` (plus `minutes`), firing every timer on the way."""
        advance(self.app, self.clock, nine_am(day) + timedelta(minutes=minutes))

    # -- complaints (R-12) -----------------------------------------------------------------------
    def complaint(self, key: str, subject: str, certificate_number: str) -> None:
        from handlers.complaints import register_complaint

        complaint = register_complaint(
            db.session,
            kind="about_client",
            channel="public",
            complainant_name="林女士",
            complainant_contact="lin@example.cn 138-0000-0000",
            subject=subject,
            description="上门三次仍未修好，客服不再回复。",
            certificate_number=certificate_number,
            actor="system",
            now=self.clock.now(),
        )
        self.engine.start(
            "complaint",
            actor=SYSTEM,
            data={"complaint_id": complaint.id},
            business_key=complaint.reference,
        )
        db.session.commit()
        self.complaints[key] = complaint.id
        self._complaint_task(key, "Task_AssignHandler", DESK, {"handler": HANDLER.username})

    def answer(self, key: str) -> None:
        self._complaint_task(
            key,
            "Task_InvestigateComplaint",
            HANDLER,
            {
                "findings": "核对维修记录 checked the repair records",
                "substantiated": False,
                "follow_up": "none",
                "decision": "经核实，维修按服务承诺完成。 The repairs were done as promised.",
            },
        )

    def _complaint_task(self, key, element_id, who, data) -> None:
        db.session.rollback()
        complaint = db.session.get(Complaint, self.complaints[key])
        (task,) = db.session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == complaint.instance_id,
                HumanTask.element_id == element_id,
                HumanTask.state == "open",
            )
        ).all()
        self.engine.complete_task(task.id, actor=who, data=data)
        db.session.commit()


def build_compliance_dataset(
    app, engine, clock, uploads, *, deploy=True, progress=lambda step: None
) -> ComplianceDataset:
    """Everything above, from the clock's current time (START_TIME, 2026-01-05: the refused
    breaches' rows are dated to fit this timeline), plus the refused breaches
    (domain/compliance/refused_breaches.py). `deploy`: deploy the processes first (False when
    they are); `progress` is told each step."""
    started = time.perf_counter()
    b = _Build(app, engine, clock, uploads)
    if deploy:
        progress("deploying the processes")
        deploy_everything(engine)
    people = make_people(clock.now())
    for who in (DESK, HANDLER):
        actor(who.username, set(who.roles), clock.now())
    db.session.commit()

    # 子: the initial audit's NC answered and accepted in time (R-8.7 kept).
    progress("子家电服务有限公司: certification with one nonconformity")
    p = b.company(people, "P", "子家电服务有限公司", 1)
    p.apply()
    p.review()
    p.contract()
    p.programme()
    p.appoint()
    p.plan_and_prepare()
    p.opening_meeting()
    p.evidence(findings_losing(80))
    p.conclude("recommend", one_nc())
    p.receive_report()
    nc_ids = p.confirm_ncs()
    p.answer_ncs(nc_ids)
    p.verify_ncs(nc_ids, accepted=True)
    p.at(45)
    p.decide("grant", 4)
    for nc_id in nc_ids:
        b.seeded.expect("nc_closed_in_time", f"nc:{nc_id}", True)

    q = b.company(people, "Q", "丑电器维修有限公司", 2)
    progress("丑, 寅, 卯: certification")
    q.certify()
    r = b.company(people, "R", "寅售后服务有限公司", 3)
    r.certify()
    s = b.company(people, "S", "卯服务有限公司", 4)
    s.certify()
    cases = {"P": p, "Q": q, "R": r, "S": s}
    for letter, case in cases.items():
        b.seeded.organisations[letter] = case.organisation_id

    # three complaints received on the same day.
    progress("complaints")
    b.complaint("kept", "空调维修未修好 air conditioner not fixed", p.certificate().number)
    b.complaint("late", "安装收费不透明 unclear installation fees", p.certificate().number)
    b.complaint("missing", "上门超时 the technician came late", p.certificate().number)
    received = clock.now().date()
    b.travel(received + timedelta(days=10))
    b.answer("kept")
    b.travel(received + timedelta(days=35))  # past the 30 days
    b.answer("late")

    progress("surveillance, suspensions and withdrawal (the clock moves about a year)")
    # 子: surveillance 1 planned at its planning timer, done 20 days before its last day.
    last_day = p.surveillance_1_last_day()
    b.travel(last_day - timedelta(days=60))
    p.surveil(last_day - timedelta(days=20))

    # 丑: surveillance 1 never planned → suspended the day after its last day (R-9.5.1a); the
    # client's correction, verified 5 days later, restores it.
    suspended_on = q.surveillance_1_last_day() + timedelta(days=1)
    b.travel(suspended_on)
    assert q.certificate().status == "suspended", q.events(q.certificate())
    b.travel(suspended_on + timedelta(days=5))
    q.complete_in(
        "suspension",
        "Task_SubmitSuspensionCorrection",
        q.people.client,
        {"corrective_actions": "已安排监督审查 surveillance booked", "evidence_files": []},
    )
    q.complete_in(
        "suspension",
        "Task_VerifySuspensionCorrection",
        q.people.audit_dept,
        {"accepted": True, "method": "documentary", "note": "已核实 verified"},
    )
    assert q.certificate().status == "valid"

    # 寅: surveillance 1 in time with an NC the client never answers (R-8.7, its deadline
    # passes: the NC process escalates it). Only the NC's item loses points, so the team's NC
    # stands for the audit's one deduction finding and no other NC is derived.
    last_day = r.surveillance_1_last_day()
    r.surveil(
        last_day - timedelta(days=20),
        points_lost=ONLY_ITEM_5_1_1_1,
        nonconformities=[SURVEILLANCE_NC],
    )
    db.session.rollback()
    r_nc = db.session.scalars(
        select(Nonconformity)
        .join(Audit, Audit.id == Nonconformity.audit_id)
        .where(Audit.organisation_id == r.organisation_id)
        .order_by(Nonconformity.id.desc())
    ).first()
    b.seeded.expect("nc_closed_in_time", f"nc:{r_nc.id}", False)

    # 卯: never planned → suspended → nothing corrected → withdrawn after 60 days (R-9.5.2a).
    suspended_on = s.surveillance_1_last_day() + timedelta(days=1)
    b.travel(suspended_on)
    b.travel(suspended_on + timedelta(days=61))
    assert s.certificate().status == "withdrawn", s.events(s.certificate())

    # A last complaint, still in time at the end: not counted.
    b.complaint("open", "回访电话未接通 no follow-up call", p.certificate().number)
    today = clock.now().date()
    _expect_process_cases(b, cases)
    # What the processes refuse to produce: legacy rows, dated before this timeline.
    progress("the breaches the processes refuse, as legacy rows")
    b.seeded.merge(seed_refused_breaches(db.session))
    db.session.commit()
    open_complaint = db.session.get(Complaint, b.complaints["open"])
    return ComplianceDataset(
        b.seeded,
        today,
        last_day_of_days(china_date(open_complaint.received_at), 30),
        time.perf_counter() - started,
    )


def _expect_process_cases(b: _Build, cases: dict[str, CompanyCase]) -> None:
    """The verdicts the story above implies, keyed as the indicators key their cases."""
    seeded, session = b.seeded, db.session
    session.rollback()
    for key, kept in (("kept", True), ("late", False), ("missing", False)):
        seeded.expect("complaint_answered", f"complaint:{b.complaints[key]}", kept)
    surveillance_1_kept = {"P": True, "Q": False, "R": True, "S": False}
    for letter, case in cases.items():
        organisation_id = case.organisation_id
        (programme_id,) = session.scalars(
            select(AuditProgramme.id).where(AuditProgramme.organisation_id == organisation_id)
        ).all()
        seeded.expect(
            "surveillance_interval",
            f"programme:{programme_id}:surveillance_1",
            surveillance_1_kept[letter],
        )
        # Every decision by the technical department and every audit by a registered team:
        # the processes allow nothing else.
        for decision_id in session.scalars(
            select(Decision.id)
            .join(Application, Application.id == Decision.application_id)
            .where(Application.organisation_id == organisation_id)
        ):
            seeded.expect("decision_independent", f"decision:{decision_id}", True)
        for audit_id in session.scalars(
            select(Audit.id).where(
                Audit.organisation_id == organisation_id, Audit.status == "completed"
            )
        ):
            seeded.expect("registration_valid", f"audit:{audit_id}", True)
        # every other NC of the story — the one of each deduction finding of the initial
        # audits and of 子's surveillance — was answered and accepted in time (Lifecycle.certify
        # and Lifecycle.surveil correct them); only those the story left unanswered are breaches.
        unanswered = seeded.breaches("nc_closed_in_time")
        for nc_id in session.scalars(
            select(Nonconformity.id)
            .join(Audit, Audit.id == Nonconformity.audit_id)
            .where(Audit.organisation_id == organisation_id)
        ):
            if f"nc:{nc_id}" not in unanswered:
                seeded.expect("nc_closed_in_time", f"nc:{nc_id}", True)
        # the processes announce every status change.
        for event_id, event in session.execute(
            select(CertificateEvent.id, CertificateEvent.event)
            .join(Certificate, Certificate.id == CertificateEvent.certificate_id)
            .where(Certificate.organisation_id == organisation_id)
        ):
            if event in ("issued", "suspended", "restored", "withdrawn", "cancelled"):
                seeded.expect("status_published", f"event:{event_id}", True)
    # R-9.5.1: 丑's first suspension restored, 卯's withdrawn — by the processes, in time. (丑's
    # surveillance is still not done: the process suspends it again later, still open at the end.)
    for letter in ("Q", "S"):
        first = session.scalars(
            select(CertificateEvent.id)
            .join(Certificate, Certificate.id == CertificateEvent.certificate_id)
            .where(
                Certificate.organisation_id == cases[letter].organisation_id,
                CertificateEvent.event == "suspended",
            )
            .order_by(CertificateEvent.id)
            .limit(1)
        ).one()
        seeded.expect("suspension_resolved", f"event:{first}", True)
