"""The builder of the compliance datasets' rows (issue 13): people, organisations, audits,
decisions, certificates, surveillances, status changes, NCs and complaints dated on the simulated
calendar, each case registered in `Seeded.expected` with its verdict. Certificates are issued by
the domain's own `issue_certificate` (which opens the programme cycle with its surveillance
activities and announces the certification, R-14); status changes go through
`change_status`/`publish` as the suspension and withdrawal processes do. Used by
domain/compliance/seed.py (the fast dataset of the page tests) and
domain/compliance/refused_breaches.py (what the processes refuse to produce)."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_time_in_utc
from certflow.models import User
from domain.certificate_issue import issue_certificate
from domain.certificates import change_status, publish
from domain.models import (
    Application,
    Audit,
    Auditor,
    AuditProgramme,
    AuditTeamMember,
    Certificate,
    CertificateEvent,
    Decision,
    Nonconformity,
    Organisation,
    ProgrammeActivity,
)
from domain.models_cases import Complaint
from domain.models_people import AuditorEvent

DECIDER = "seed_decider"


@dataclass
class SeedAct:
    session: Session
    now: datetime
    actor: str = "seed"


@dataclass
class Seeded:
    """indicator key → {case key: kept}; `organisations` by letter."""

    expected: dict[str, dict[str, bool]] = field(default_factory=dict)
    organisations: dict[str, int] = field(default_factory=dict)

    def expect(self, indicator: str, key: str, kept: bool) -> None:
        self.expected.setdefault(indicator, {})[key] = kept

    def breaches(self, indicator: str) -> set[str]:
        return {k for k, kept in self.expected.get(indicator, {}).items() if not kept}

    def kept(self, indicator: str) -> set[str]:
        return {k for k, kept in self.expected.get(indicator, {}).items() if kept}

    def merge(self, other: "Seeded") -> "Seeded":
        """`other`'s cases and organisations added to these (two parts of one dataset)."""
        for indicator, cases in other.expected.items():
            self.expected.setdefault(indicator, {}).update(cases)
        self.organisations.update(other.organisations)
        return self


def at(day: date, hour: int = 10) -> datetime:
    """`hour` o'clock China time on `day`, as stored (UTC)."""
    return china_time_in_utc(day, hour)


class SeedBuilder:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.seeded = Seeded()
        self.auditors: dict[str, Auditor] = {}

    # -- people ---------------------------------------------------------------------------------
    def auditor(self, key, name, *, expires, expert=False, history=()) -> Auditor:
        user = User(
            username=f"seed_{key}", display_name=name, created_at=datetime(2023, 1, 1, tzinfo=UTC)
        )
        user.set_password(f"unused-{key}-{id(self)}")
        self.session.add(user)
        self.session.flush()
        auditor = Auditor(
            user_id=user.id,
            name=name,
            registration_number=None if expert else f"SEED-CCAA-{key.upper()}",
            level=None if expert else "auditor",
            registration_expires_on=None if expert else expires,
            team_leader_qualified=not expert,
            fields=["after_sales_service"],
            is_technical_expert=expert,
            languages=["zh"],
        )
        self.session.add(auditor)
        self.session.flush()
        for on_date, before, after in history:  # the register's renewals
            self.session.add(
                AuditorEvent(
                    auditor_id=auditor.id,
                    kind="renewed",
                    on_date=on_date,
                    expires_before=before,
                    expires_after=after,
                    recorded_by="seed_hr",
                    recorded_at=at(on_date),
                )
            )
        self.session.flush()
        self.auditors[key] = auditor
        return auditor

    # -- organisations and their cycle ----------------------------------------------------------
    def organisation(self, letter: str, name: str) -> Organisation:
        number = len(self.seeded.organisations) + 1
        organisation = Organisation(
            name=name,
            uscc=f"91990000SEED{number:04d}{letter}X"[:18],
            address=f"示例市示例路 {number} 号",
            contact_name="联系人",
            created_at=at(date(2023, 1, 2)),
        )
        self.session.add(organisation)
        self.session.flush()
        self.seeded.organisations[letter] = organisation.id
        return organisation

    def audit(
        self, organisation, application, programme, start, *, team, kind="initial", valid=True
    ):
        """A conducted audit of two days from `start`; `valid`: every member's registration is
        valid on both days (R-7.2.2), as the seed arranged it."""
        audit = Audit(
            programme_id=programme.id,
            application_id=application.id if application else None,
            organisation_id=organisation.id,
            kind=kind,
            start_date=start,
            end_date=start + timedelta(days=1),
            status="completed",
            conclusion="recommend",
            star_level_achieved=4,
        )
        self.session.add(audit)
        self.session.flush()
        for key in team:
            self.session.add(
                AuditTeamMember(
                    audit_id=audit.id,
                    auditor_id=self.auditors[key].id,
                    role="leader" if key == team[0] else "auditor",
                    flags=[],
                    appointed_by="seed_scheduler",
                    appointed_at=at(start - timedelta(days=10)),
                )
            )
        self.session.flush()
        self.seeded.expect("registration_valid", f"audit:{audit.id}", valid)
        return audit

    def application(self, organisation, submitted: date, kind="initial") -> Application:
        application = Application(
            number=f"SEED-{organisation.id}-{kind[:1]}-{submitted.isoformat()}",
            organisation_id=organisation.id,
            kind=kind,
            requested_level=4,
            scope="家用电器的安装与维修服务",
            shift_work=False,
            headcount=80,
            status="contracted",
            submitted_by="client",
            submitted_at=at(submitted),
            man_days=Decimal("3.0"),
        )
        self.session.add(application)
        self.session.flush()
        return application

    def decide(self, application, audit, decided_on, *, by=DECIDER) -> Decision:
        decision = Decision(
            application_id=application.id,
            audit_id=audit.id,
            outcome="grant",
            star_level=4,
            decided_by=by,
            decided_at=at(decided_on),
            decided_on=decided_on,
        )
        self.session.add(decision)
        self.session.flush()
        on_team = by != DECIDER
        self.seeded.expect("decision_independent", f"decision:{decision.id}", not on_team)
        return decision

    def certify(self, letter, name, decided_on, *, team=("wang",), by=DECIDER, valid=True):
        """An organisation certified on `decided_on` (initial audit 3 weeks before)."""
        organisation = self.organisation(letter, name)
        application = self.application(organisation, decided_on - timedelta(days=60))
        programme = AuditProgramme(
            organisation_id=organisation.id,
            application_id=application.id,
            man_days=Decimal("3.0"),
            created_by="seed_scheduler",
            created_at=at(decided_on - timedelta(days=50)),
        )
        self.session.add(programme)
        self.session.flush()
        start = decided_on - timedelta(days=21)
        audit = self.audit(organisation, application, programme, start, team=team, valid=valid)
        decision = self.decide(application, audit, decided_on, by=by)
        act = SeedAct(self.session, at(decided_on, 15))
        result = issue_certificate(act, application.id, decision.id, signatory="示例签发人")
        certificate = self.session.get(Certificate, result["id"])
        event_id = self._last_event_id(certificate)
        self.seeded.expect("status_published", f"event:{event_id}", True)
        return organisation, programme, certificate, audit

    def recertify(self, organisation, certificate, requested, decided, *, kept):
        """The holder asks for recertification on `requested`; decided on `decided` (None:
        not yet). The new certificate is not issued: the indicator reads the decision."""
        application = self.application(organisation, requested, kind="recertification")
        if decided is not None:
            programme = AuditProgramme(
                organisation_id=organisation.id,
                application_id=application.id,
                man_days=Decimal("3.0"),
                created_by="seed_scheduler",
                created_at=at(requested),
            )
            self.session.add(programme)
            self.session.flush()
            start = decided - timedelta(days=30)
            audit = self.audit(
                organisation, application, programme, start, team=("wang",), kind="initial"
            )
            self.decide(application, audit, decided)
        self.seeded.expect("recertification_in_time", f"certificate:{certificate.id}", kept)

    def nonconformity(self, audit, number, deadline, *, answered, accepted, kept):
        nc = Nonconformity(
            audit_id=audit.id,
            number=number,
            item_code="4.1",
            description="示例不符合 An example nonconformity",
            deadline=deadline,
            status="accepted" if accepted else ("answered" if answered else "confirmed"),
            answered_at=at(answered) if answered else None,
        )
        self.session.add(nc)
        self.session.flush()
        if kept is not None:
            self.seeded.expect("nc_closed_in_time", f"nc:{nc.id}", kept)

    def complaint(self, number, received, answered, *, organisation=None, kept):
        complaint = Complaint(
            reference=f"SEED-TS-{number:04d}",
            kind="about_client" if organisation else "about_cb",
            channel="staff",
            complainant_name="投诉人",
            complainant_contact="13800000000",
            subject="服务投诉 A service complaint",
            description="示例 Example",
            organisation_id=organisation.id if organisation else None,
            status="answered" if answered else "received",
            received_at=at(received),
            reply_due_on=received + timedelta(days=29),
            answered_at=at(answered) if answered else None,
        )
        self.session.add(complaint)
        self.session.flush()
        if kept is not None:
            self.seeded.expect("complaint_answered", f"complaint:{complaint.id}", kept)

    def surveil(self, organisation, programme, number, start, *, kept, extended_to=None):
        activity = self.session.scalars(
            select(ProgrammeActivity).where(
                ProgrammeActivity.programme_id == programme.id,
                ProgrammeActivity.kind == f"surveillance_{number}",
            )
        ).one()
        if start is not None:
            audit = self.audit(
                organisation, None, programme, start, team=("wang",), kind="surveillance"
            )
            activity.audit_id, activity.status = audit.id, "done"
        if extended_to is not None:  # a recorded reason, approved
            activity.extension_requested_to = extended_to
            activity.extension_reason = "客户搬迁 The client moved"
            activity.extension_approved = True
            activity.extension_decided_by = "seed_auditdept"
        self.session.flush()
        self.seeded.expect(
            "surveillance_interval", f"programme:{programme.id}:surveillance_{number}", kept
        )

    def change(self, certificate, status, event, day, *, published_on=None, rule="R-9.5.1"):
        """A status change on `day`, announced on `published_on` (None: never); its
        publication is expected kept when announced within 5 days (R-14)."""
        row = change_status(
            self.session,
            certificate,
            status=status,
            event=event,
            rule=rule,
            actor="seed_auditdept",
            now=at(day),
            mark_use_allowed=status == "valid",
        )
        if published_on is not None:
            publish(self.session, certificate, kind=event, now=at(published_on), lines=["示例公告"])
        published = published_on is not None and published_on <= day + timedelta(days=5)
        self.seeded.expect("status_published", f"event:{row.id}", published)
        return row

    def _last_event_id(self, certificate) -> int:
        return self.session.scalars(
            select(CertificateEvent.id)
            .where(CertificateEvent.certificate_id == certificate.id)
            .order_by(CertificateEvent.id.desc())
            .limit(1)
        ).one()


def event_id(session: Session, certificate: Certificate, name: str) -> int:
    return session.scalars(
        select(CertificateEvent.id)
        .where(CertificateEvent.certificate_id == certificate.id, CertificateEvent.event == name)
        .order_by(CertificateEvent.id.desc())
        .limit(1)
    ).one()


def activity(session: Session, programme: AuditProgramme, number: int) -> ProgrammeActivity:
    return session.scalars(
        select(ProgrammeActivity).where(
            ProgrammeActivity.programme_id == programme.id,
            ProgrammeActivity.kind == f"surveillance_{number}",
        )
    ).one()
