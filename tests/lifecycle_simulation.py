"""Many certificates through their 3-year life at once, on the simulated clock (issue 16).

Every step runs through the real engine: each client's initial certification, the certificate's
surveillance cycle (surveillance.bpmn with its timers), the suspension of the certificates whose
first surveillance is left unplanned (R-9.5.1(a)) and their restoration, the catch-up
surveillance (R-9.1), the recertification prompt 3 months before expiry and the recertification
through the initial procedure (R-8.11). Timers fire by the scheduler's own `sweep`; user tasks
are completed by a scripted actor through `WorkflowEngine.complete_task` — the API the web and
the JSON API call — with answers shaped like tests/lifecycle_case.py's. The actor is reactive:
it looks at the open tasks, answers each once the day its step belongs to has come (the
surveillance's on-site days, the initial procedure's day 10/20/27/28/29/40) and otherwise moves
the clock to the next due timer or the next step's day.

Used by benchmarks/lifecycle_simulation.py (the 10k-certificate goal) and
tests/lifecycle/test_lifecycle_simulation.py (what happens, at N=3).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from certflow.dates import CHINA_TZ, add_months
from certflow.db import db
from domain.bulk_certificates import client_identity
from domain.models import Auditor, Certificate, Organisation, Site
from engine.models import HumanTask, ProcessInstance
from engine.service import Actor
from tests.certification_case import NO_SHIFTS, SITES, People
from tests.engine_floor import EngineFloor, floor_seconds
from tests.lifecycle_case import NOTHING_FOUND_REVIEW, nine_am
from tests.lifecycle_simulation_answers import (
    ACCEPTANCE,
    DOCUMENTS_ADEQUATE,
    GRANT_FOUR_STARS,
    MATERIALS,
    NC_REPORT_CONFIRMED,
    add_clients,
    client_actor,
    closing,
    conclusion,
    evidence,
    initial_team,
    nc_answers,
    nc_verdicts,
    opening,
    previous_cycle_review,
    programme,
    receipt,
    shopping,
    surveillance_team,
)

INITIAL = ("certification", "recertification")  # processes that run the initial procedure
# Day of the initial procedure (after the application) each step waits for (tests' Case.at).
INITIAL_DAY = {
    "Task_DocumentReview": 10,
    "Task_MysteryShopping": 20,
    "Task_PreAuditTraining": 27,
    "Task_OpeningMeeting": 28,
    "Task_CollectEvidence": 28,
    "Task_AuditConclusion": 28,
    "Task_ClosingMeeting": 29,
    "Task_SubmitAuditMaterials": 29,
    "Task_ConfirmReportReceipt": 29,
    "Task_CertificationDecision": 40,
}
# Day of a surveillance, relative to its on-site start, each step waits for (Lifecycle.surveil).
SURVEILLANCE_DAY = {
    "Task_MysteryShopping": -7,
    "Task_PreAuditTraining": -1,
    "Task_ReviewChangesAndMarkUse": -1,
    "Task_OpeningMeeting": 0,
    "Task_CollectEvidence": 0,
    "Task_AuditConclusion": 0,
    "Task_ClosingMeeting": 1,
    "Task_SubmitAuditMaterials": 1,
    "Task_ConfirmSurveillanceReportReceipt": 1,
}
# Days after a suspension before the client's correction (tests/lifecycle: the 20th day).
CORRECTION_AFTER_DAYS = 19
# Days after its correction cycle opens before the client answers the NCs of an audit.
NC_ANSWER_AFTER_DAYS = 7
NC_STEPS = ("Task_ConfirmNcReport", "Task_SubmitCorrections", "Task_VerifyCorrections")


@dataclass
class Figures:
    """What one simulation did."""

    certificates: int = 0
    tasks_completed: int = 0
    timers_fired: int = 0
    instances_started: int = 0
    wake_ups: int = 0
    completion_seconds: float = 0.0  # inside WorkflowEngine.complete_task
    sweep_seconds: float = 0.0  # inside the scheduler's sweep
    instances_pruned: int = 0  # by the scheduler's pruning job (CERTFLOW_PRUNE_AFTER_DAYS)
    prune_seconds: float = 0.0
    by_element: dict[str, int] = field(default_factory=dict)
    largest_state: dict[str, int] = field(default_factory=dict)  # process → state_json chars
    largest_text: dict[str, str] = field(default_factory=dict)  # process → that state_json
    cpu_seconds: float = (
        0.0  # the worker processes' CPU time (a sharded run, tests/lifecycle_shards.py)
    )
    # changes that used the workflow their process kept, and that restored it
    # (engine/workflow_cache.py)
    workflows_kept: int = 0
    workflows_restored: int = 0
    # SpiffWorkflow's steps and the state's restore and serialization, and the handlers' time
    # left out of them (tests/engine_floor.py; measured only with `floor=True`)
    floor_parts: dict[str, float] = field(default_factory=dict)

    @property
    def floor_seconds(self) -> float:
        return floor_seconds(self.floor_parts)

    def add(self, other: "Figures") -> None:
        """Add another worker's figures to these (the largest states: the larger of the two)."""
        for name in (
            "certificates",
            "tasks_completed",
            "timers_fired",
            "instances_started",
            "workflows_kept",
            "workflows_restored",
            "instances_pruned",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.wake_ups = max(self.wake_ups, other.wake_ups)
        self.completion_seconds += other.completion_seconds
        self.sweep_seconds += other.sweep_seconds
        self.prune_seconds += other.prune_seconds
        self.cpu_seconds += other.cpu_seconds
        for part, seconds in other.floor_parts.items():
            self.floor_parts[part] = self.floor_parts.get(part, 0.0) + seconds
        for key, count in other.by_element.items():
            self.by_element[key] = self.by_element.get(key, 0) + count
        for process_id, size in other.largest_state.items():
            if size > self.largest_state.get(process_id, 0):
                self.largest_state[process_id] = size
                self.largest_text[process_id] = other.largest_text[process_id]


class LifecycleSimulation:
    """N clients, one scripted actor per role (`people`), one clock. With `only_own_clients`
    the actor answers only the tasks of the clients it applied for and leaves the others' to
    the actors of other processes (tests/lifecycle_shards.py)."""

    def __init__(
        self,
        app,
        people: People,
        uploads: Path,
        *,
        suspend_every: int = 0,
        only_own_clients: bool = False,
        floor: bool = False,
    ) -> None:
        self.app, self.people, self.uploads = app, people, uploads
        self.engine = app.extensions["certflow.engine"]
        self.clock = app.extensions["certflow.clock"]
        # Every `suspend_every`-th client (0: none) leaves its first surveillance unplanned.
        self.suspend_every = suspend_every
        self.figures = Figures()
        self._counted_from = (self.engine.workflows.hits, self.engine.workflows.misses)
        self.serial_of_instance: dict[int, int] = {}  # initial certification → client serial
        self.serial_of_uscc: dict[str, int] = {}
        self.day0: dict[int, date] = {}  # instance running the initial procedure → its day 0
        self.onsite: dict[int, date] = {}  # surveillance instance → planned on-site start
        self.left_unplanned: dict[str, str] = {}  # certificate number → its unplanned task
        self.suspended_on: dict[str, date] = {}
        self.nc_round_on: dict[int, date] = {}  # NC answer task → the day it was first seen
        self.on_clock: Callable[[datetime], None] = lambda _now: None  # e.g. a progress bar
        self.organisation_ids: dict[int, int] = {}  # instance → organisation (never changes)
        self.only_own_clients = only_own_clients
        self.owned: dict[int, bool] = {}  # instance → whether its tasks are this actor's
        self.floor = EngineFloor().install() if floor else None

    def take_figures(self) -> Figures:
        """What the simulation did since the start or the last call; counting starts again."""
        figures, self.figures = self.figures, Figures(certificates=self.figures.certificates)
        cache = self.engine.workflows
        figures.workflows_kept = cache.hits - self._counted_from[0]
        figures.workflows_restored = cache.misses - self._counted_from[1]
        self._counted_from = (cache.hits, cache.misses)
        if self.floor:
            figures.floor_parts = self.floor.take()
        return figures

    # -- the run -----------------------------------------------------------------------------
    def apply(self, count: int, first_serial: int = 1) -> None:
        """`count` clients submit their application today (each its own organisation)."""
        self.extend_registrations()
        self.add_applications(range(first_serial, first_serial + count))

    def extend_registrations(self) -> None:
        """The auditors stay registered for the whole simulation (R-7.1)."""
        for auditor in db.session.scalars(select(Auditor)):
            auditor.registration_expires_on = self.today() + timedelta(days=6 * 365)
        db.session.commit()

    def add_applications(self, serials) -> None:
        """These clients (serial numbers) submit their application today."""
        add_clients(serials, self.clock.now())
        for serial in serials:
            client = client_actor(serial)
            instance = self.engine.start("certification", actor=client)
            self.serial_of_instance[instance.id] = serial
            self.serial_of_uscc[client_identity(serial)["uscc"]] = serial
            task = self.open_tasks(instance.id)[0]
            self.complete(task, client, self.application(client_identity(serial), client))
            self.figures.certificates += 1

    def run_until(self, end: datetime) -> None:
        """Answer what is due, move the clock to the next timer or step, until `end`."""
        while True:
            next_step = self.work()  # first: answering may set timers
            moments = [self.engine.next_timer_due(), next_step]
            upcoming = [m for m in moments if m is not None]
            if not upcoming or min(upcoming) > end:
                break
            self.travel_to(min(upcoming))
        self.travel_to(end)
        self.work()

    def travel_to(self, moment: datetime) -> None:
        if moment > self.clock.now():
            self.clock.set(moment)
        self.figures.wake_ups += 1
        self.sweep()
        self.on_clock(self.clock.now())

    def sweep(self) -> None:
        """Fire the timers due on the clock by the scheduler's own sweep, then compact what
        finished its retention days ago by the scheduler's pruning job (hourly in production,
        here at each clock move)."""
        from scheduler import prune_finished, sweep

        db.session.commit()
        started = time.perf_counter()
        self.figures.timers_fired += len(sweep(self.app))
        swept = time.perf_counter()
        self.figures.sweep_seconds += swept - started
        self.figures.instances_pruned += prune_finished(self.app)
        self.figures.prune_seconds += time.perf_counter() - swept

    def work(self) -> datetime | None:
        """Complete every open task whose day has come, until none is left; the moment the
        next open task's step is due (None: the actor leaves every open task open)."""
        while True:
            done, later = 0, []
            now = self.clock.now()  # answering moves no clock: one read for the round
            for task in self.open_tasks():
                step = self.step(task)
                if step is not None and step[0] <= now:
                    self.complete(task, step[1], step[2](task))
                    done += 1
                elif step is not None:
                    later.append(step[0])
            if not done:
                return min(later, default=None)

    # -- plumbing ----------------------------------------------------------------------------
    def today(self) -> date:
        return self.clock.now().astimezone(CHINA_TZ).date()

    def open_tasks(self, instance_id: int | None = None) -> list[HumanTask]:
        db.session.rollback()
        query = select(HumanTask).where(HumanTask.state == "open").order_by(HumanTask.created_at)
        if instance_id is not None:
            query = query.where(HumanTask.instance_id == instance_id)
        tasks = list(db.session.scalars(query))
        return [task for task in tasks if self.owns(task)] if self.only_own_clients else tasks

    def owns(self, task: HumanTask) -> bool:
        """Whether the task's organisation is one of the clients this actor applied for."""
        owned = self.owned.get(task.instance_id)
        if owned is None:
            if task.instance_id in self.serial_of_instance:
                owned = True
            elif task.process_id == "certification":  # another actor's initial certification
                owned = False
            else:
                owned = self.organisation_of(task).uscc in self.serial_of_uscc
            self.owned[task.instance_id] = owned
        return owned

    def complete(self, task: HumanTask, who: Actor, data: dict[str, Any]) -> None:
        instance_id, element_id, process_id = task.instance_id, task.element_id, task.process_id
        if element_id == "Task_SubmitApplication":
            self.day0[instance_id] = self.today()
        started = time.perf_counter()
        self.engine.complete_task(task.id, actor=who, data=data)
        self.figures.completion_seconds += time.perf_counter() - started
        self.figures.tasks_completed += 1
        key = f"{process_id}/{element_id}"
        self.figures.by_element[key] = self.figures.by_element.get(key, 0) + 1
        stored = ProcessInstance.state_json
        status, size = db.session.execute(
            select(ProcessInstance.status, func.coalesce(func.length(stored), 0)).where(
                ProcessInstance.id == instance_id
            )
        ).one()
        if size > self.figures.largest_state.get(process_id, 0):  # the text only when larger
            self.figures.largest_state[process_id] = size
            self.figures.largest_text[process_id] = db.session.scalar(
                select(stored).where(ProcessInstance.id == instance_id)
            )
        if status == "error":
            messages = [i.message for i in self.engine.open_incidents(instance_id)]
            raise RuntimeError(f"{process_id}/{element_id} of instance {instance_id}: {messages}")

    def certificate(self, number: str) -> Certificate:
        return db.session.scalars(select(Certificate).where(Certificate.number == number)).one()

    def organisation_of(self, task: HumanTask) -> Organisation:
        known = self.organisation_ids.get(task.instance_id)
        if known is not None:
            return db.session.get(Organisation, known)
        if task.instance_id in self.serial_of_instance:  # the initial certification
            uscc = client_identity(self.serial_of_instance[task.instance_id])["uscc"]
            query = select(Organisation).where(Organisation.uscc == uscc)
            organisation = db.session.scalars(query).one()
        else:
            certificate = self.certificate(task.business_key)
            organisation = db.session.get(Organisation, certificate.organisation_id)
        self.organisation_ids[task.instance_id] = organisation.id
        return organisation

    def client_of(self, task: HumanTask) -> Actor:
        return client_actor(self.serial_of_uscc[self.organisation_of(task).uscc])

    def sites(self, task: HumanTask) -> list[int]:
        organisation = self.organisation_of(task)
        query = select(Site.id).where(Site.organisation_id == organisation.id, Site.active)
        return list(db.session.scalars(query.order_by(Site.id)))

    # -- what each step is, when and by whom ---------------------------------------------------
    def step(self, task: HumanTask) -> tuple[datetime, Actor, Callable] | None:
        """(not before, who, answer) of an open task; None: the actor leaves it open."""
        p, element = self.people, task.element_id
        if element in NC_STEPS:  # in any audit: every deduction finding has its NC
            return self.nc_step(task)
        if task.process_id == "surveillance":
            return self.surveillance_step(task)
        if task.process_id == "suspension":
            suspended = self.suspended_on.setdefault(task.business_key, self.today())
            if element == "Task_SubmitSuspensionCorrection":
                when = self.at(suspended + timedelta(days=CORRECTION_AFTER_DAYS))
                return (
                    when,
                    self.client_of(task),
                    (lambda _t: {"corrective_actions": "已安排监督审查", "evidence_files": []}),
                )
            if element == "Task_VerifySuspensionCorrection":
                return (
                    self.now(),
                    p.audit_dept,
                    lambda _t: {
                        "accepted": True,
                        "method": "documentary",
                        "note": "已核实",
                    },
                )
        if task.process_id == "mark_plaque" and element == "Task_IssuePlaque":  # R-10.1(f)
            plaque = {
                "plaque_number": f"TP-{task.instance_id}",
                "issued_on": self.today().isoformat(),
                "recipient": "获证组织联系人",
                "note": None,
            }
            return self.now(), p.decider, lambda _t: plaque
        if task.process_id == "recertification" and element == "Task_AskToContinue":
            answer = {"continue_certification": True, "note": None}
            return self.now(), self.client_of(task), lambda _t: answer
        if task.process_id == "recertification" and element == "Task_ReviewPreviousCycle":
            certificate = self.certificate(task.business_key)
            return self.now(), p.audit_dept, lambda _t: previous_cycle_review(certificate)
        if task.process_id in INITIAL:
            return self.initial_step(task)
        raise RuntimeError(f"the scripted actor has no answer for {task.process_id}/{element}")

    def nc_step(self, task: HumanTask):
        """R-8.7: the client confirms the NC report at once, answers every NC a week after
        its correction cycle opens; the team leader verifies the answers the same day."""
        element = task.element_id
        if element == "Task_ConfirmNcReport":
            return self.now(), self.client_of(task), lambda _t: NC_REPORT_CONFIRMED
        if element == "Task_VerifyCorrections":
            return self.now(), self.people.leader, self.verdicts
        client = self.client_of(task)
        opened = self.nc_round_on.setdefault(task.id, self.today())

        def answers(t: HumanTask) -> dict[str, Any]:
            evidence_file = partial(self.upload, "nc_evidence", "整改记录.pdf", client)
            return nc_answers(self.engine.task_data(t)["nc_to_answer"], evidence_file)

        return self.at(opened + timedelta(days=NC_ANSWER_AFTER_DAYS)), client, answers

    def verdicts(self, task: HumanTask) -> dict[str, Any]:
        return nc_verdicts(self.engine.task_data(task)["nc_to_verify"])

    def now(self) -> datetime:
        return self.clock.now()

    @staticmethod
    def at(day: date) -> datetime:
        return nine_am(day) + timedelta(minutes=1)

    def initial_step(self, task: HumanTask):
        p, element = self.people, task.element_id
        if element == "Task_SubmitApplication":  # a recertification's application
            organisation, client = self.organisation_of(task), self.client_of(task)
            who = {"org_name": organisation.name, "uscc": organisation.uscc}
            who |= {"address": organisation.address, "contact_name": "联系人"}
            return self.now(), client, lambda _t: self.application(who, client)
        day0 = self.day0[task.instance_id]

        def day(n: int) -> str:
            return (day0 + timedelta(days=n)).isoformat()

        when = self.at(day0 + timedelta(days=INITIAL_DAY.get(element, 0)))
        answers: dict[str, tuple[Actor, Callable]] = {
            "Task_AcceptanceReview": (p.market, lambda _t: ACCEPTANCE),
            "Task_SignContract": (p.market, lambda t: self.contract(t)),
            "Task_BuildProgramme": (p.scheduler, lambda _t: programme(day)),
            "Task_AppointTeam": (p.scheduler, lambda _t: initial_team(p, day)),
            "Task_AuditPlan": (p.leader, lambda t: self.plan(t, day0 + timedelta(days=28))),
            "Task_DocumentReview": (p.leader, lambda _t: DOCUMENTS_ADEQUATE),
            "Task_MysteryShopping": (p.shopper, lambda _t: shopping(self.today())),
            "Task_PreAuditTraining": (p.leader, lambda _t: self.training(with_expert=True)),
            "Task_OpeningMeeting": (p.leader, lambda _t: opening(self.today())),
            "Task_CollectEvidence": (p.auditor, lambda _t: evidence(day(28))),
            "Task_AuditConclusion": (p.leader, lambda _t: conclusion(self.today())),
            "Task_ClosingMeeting": (p.leader, lambda _t: closing(self.today())),
            "Task_SubmitAuditMaterials": (p.leader, lambda _t: MATERIALS),
            "Task_ConfirmReportReceipt": (self.client_of(task), lambda _t: receipt(self.today())),
            "Task_CertificationDecision": (p.decider, lambda _t: GRANT_FOUR_STARS),
        }
        if element not in answers:
            raise RuntimeError(f"the scripted actor has no answer for {task.process_id}/{element}")
        return (when, *answers[element])

    def surveillance_step(self, task: HumanTask):
        p, element = self.people, task.element_id
        if element == "Task_PlanSurveillance":
            if self.leaves_unplanned(task):
                return None  # R-9.5.1(a): overdue → suspended at the limit
            return self.now(), p.scheduler, self.plan_surveillance
        start, client = self.onsite[task.instance_id], self.client_of(task)
        when = self.at(start + timedelta(days=SURVEILLANCE_DAY.get(element, 0)))
        answers: dict[str, tuple[Actor, Callable]] = {
            "Task_AppointTeam": (p.scheduler, lambda _t: surveillance_team(p, start)),
            "Task_AuditPlan": (p.leader, lambda t: self.plan(t, start)),
            "Task_MysteryShopping": (p.shopper, lambda _t: shopping(self.today())),
            "Task_PreAuditTraining": (p.leader, lambda _t: self.training(with_expert=False)),
            "Task_ReviewChangesAndMarkUse": (p.leader, lambda _t: NOTHING_FOUND_REVIEW),
            "Task_OpeningMeeting": (p.leader, lambda _t: opening(self.today())),
            "Task_CollectEvidence": (p.auditor, lambda _t: evidence(start.isoformat())),
            "Task_AuditConclusion": (p.leader, lambda _t: conclusion(self.today())),
            "Task_ClosingMeeting": (p.leader, lambda _t: closing(self.today())),
            "Task_SubmitAuditMaterials": (p.leader, lambda _t: MATERIALS),
            "Task_ConfirmSurveillanceReportReceipt": (client, lambda _t: receipt(self.today())),
        }
        if element not in answers:
            raise RuntimeError(f"the scripted actor has no answer for surveillance/{element}")
        return (when, *answers[element])

    def leaves_unplanned(self, task: HumanTask) -> bool:
        """The first planning task of every `suspend_every`-th client stays open."""
        if not self.suspend_every:
            return False
        organisation = self.organisation_of(task)
        if self.serial_of_uscc.get(organisation.uscc, 1) % self.suspend_every:
            return False
        return self.left_unplanned.setdefault(task.business_key, task.id) == task.id

    # -- answers -------------------------------------------------------------------------------
    def plan_surveillance(self, task: HumanTask) -> dict[str, Any]:
        """On site 20 days before the due date (within the limit, never an extension)."""
        due = date.fromisoformat(self.engine.task_data(task)["schedule"]["due"])
        start = max(due - timedelta(days=20), self.today() + timedelta(days=8))
        self.onsite[task.instance_id] = start
        return {
            "planned_start": start.isoformat(),
            "planned_end": (start + timedelta(days=1)).isoformat(),
            "extension_reason": None,
        }

    def application(self, who: dict[str, str], client: Actor) -> dict[str, Any]:
        return {
            "org_name": who["org_name"],
            "uscc": who["uscc"],
            "address": who["address"],
            "contact_name": who["contact_name"],
            "contact_phone": "0591-88880000",
            "contact_email": "service@client.example.cn",
            "requested_level": 4,
            "scope": "家用电器的安装、维修、退换货及废旧回收服务",
            "sites": SITES,
            "shift_work": False,
            "headcount": 120,
            "legal_status_file": self.upload("legal_status", "营业执照.pdf", client),
            "service_documents_files": [self.upload("service_documents", "服务手册.pdf", client)],
            "service_flowchart_file": self.upload("service_flowchart", "服务流程图.pdf", client),
            "other_certificate_files": [],
            "public_information_acknowledged": True,
            "truth_attestation": True,
            "attestation_signatory": "王总",
            "attestation_position": "总经理",
            "attestation_signed_on": self.today().isoformat(),
        }

    def upload(self, kind: str, name: str, client: Actor) -> int:
        from domain.attachments import store_attachment

        attachment = store_attachment(
            db.session,
            self.uploads,
            filename=name,
            content_type="application/pdf",
            data=f"%PDF-1.4 {kind} {name}".encode(),
            kind=kind,
            uploaded_by=client.username,
            now=self.clock.now(),
        )
        db.session.commit()
        return attachment.id

    def contract(self, task: HumanTask) -> dict[str, Any]:
        today = self.today().isoformat()
        return {
            "contract_number": f"HT-{task.instance_id:06d}-{today}",
            "client_signatory": "王总",
            "client_signed_on": today,
            "cb_signatory": "市场部 刘经理",
            "cb_signed_on": today,
            "fee": 30000,
        }

    def plan(self, task: HumanTask, start: date) -> dict[str, Any]:
        p = self.people
        return {
            "activities": [
                {
                    "date": (start + timedelta(days=i % 2)).isoformat(),
                    "site": site_id,
                    "activity": "审查",
                    "auditor_id": (p.leader_id, p.auditor_id)[i % 2],
                    "start": "09:00",
                    "duration_hours": 6,
                }
                for i, site_id in enumerate(self.sites(task))
            ],
            **NO_SHIFTS,
        }

    def training(self, *, with_expert: bool) -> dict[str, Any]:
        p = self.people
        attendees = [p.leader_id, p.auditor_id] + ([p.expert_id] if with_expert else [])
        return {
            "training_date": self.today().isoformat(),
            "trainer": "张组长",
            "attendees": attendees,
            "laws_standards_confirmed": True,
            "culture_and_requirements_trained": True,
            "content": "法规标准适用性和审查要求",
        }


def three_years_after(day: date) -> date:
    return add_months(day, 36)


def started_instances(since_id: int) -> dict[str, int]:
    """Instances started after `since_id`, by process."""
    rows = db.session.execute(
        select(ProcessInstance.process_id).where(ProcessInstance.id > since_id)
    ).scalars()
    counts: dict[str, int] = {}
    for process_id in rows:
        counts[process_id] = counts.get(process_id, 0) + 1
    return counts
