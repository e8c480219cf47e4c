"""The audit team's appointment (R-7.2.1–R-7.2.5): check the audit team the scheduler proposes
and, when it is valid, record it with the appointment letter (审查委任). A team that breaks a
rule is refused with one reason per problem, each naming the rule and the person; nothing is
written, and the process goes back to the scheduler.

Impartiality (R-7.2.1(5)): a member who consulted for or worked at the client within 2 years of
the on-site audit is refused — CNAS-CC01 (ISO/IEC 17021-1) says such a person must not audit it,
with no exception to justify (docs/decisions.md). A member who audited this organisation before
is a flag recorded with the appointment (rotation is the body's own policy), not a refusal.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date
from domain import team_considerations as considered
from domain import team_reasons as reasons
from domain.acting import Acting
from domain.auditor_register import FIELDS, latest_evaluation, qualification_refusal
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import (
    Application,
    Audit,
    Auditor,
    AuditTeamMember,
    Certificate,
    ConflictOfInterest,
    Organisation,
)
from domain.said import said
from domain.values import load

ROLE_NAMES = {
    "leader": "审查组长 team leader",
    "auditor": "审查员 auditor",
    "tech_expert": "技术专家 technical expert",
}
AUDITING_ROLES = ("leader", "auditor")
FIELD = FIELDS[0]  # the scheme's one certification field (GB/T 27922)
CONFLICT_YEARS = 2
AUDIT_KINDS = {
    "initial": "初始审查",
    "surveillance": "监督审查",
    "recertification": "再认证审查",
    "special": "特殊审查",
}

LETTER_TEXTS = (
    ("objectives", ("审查目的", "the audit objectives")),
    ("criteria", ("审查依据", "the audit criteria")),
    ("scope_and_boundaries", ("审查范围和边界", "the audit scope and boundaries")),
)


@dataclass(frozen=True)
class Nominee:
    auditor_id: int
    role: str
    auditor: Auditor | None

    @property
    def person(self) -> str:
        """The person by name (issue 10: never by id)."""
        return self.auditor.name if self.auditor is not None else reasons.UNKNOWN_ZH


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# -- reading the proposal ---------------------------------------------------------------------
def _nominees(act: Acting, members: Any) -> list[Nominee]:
    if not isinstance(members, list):
        raise TypeError(f"parameter 'members' must be a list, got {type(members).__name__}")
    nominees = []
    for number, member in enumerate(members, 1):
        auditor_id = member.get("auditor_id") if isinstance(member, Mapping) else None
        role = member.get("role") if isinstance(member, Mapping) else None
        if isinstance(auditor_id, bool) or not isinstance(auditor_id, int):
            raise TypeError(f"members[{number}] needs an integer auditor_id: {member!r}")
        if not isinstance(role, str):
            raise TypeError(f"members[{number}] needs a role: {member!r}")
        auditor = act.session.get(Auditor, auditor_id) if 0 < auditor_id < 2**31 else None
        nominees.append(Nominee(auditor_id, role, auditor))
    return nominees


def _letter_texts(given: Mapping[str, Any], refusals: list) -> dict[str, str]:
    texts = {}
    for name, label in LETTER_TEXTS:
        value = given[name]
        if value is not None and not isinstance(value, str):
            raise TypeError(f"parameter {name!r} must be a string, got {type(value).__name__}")
        texts[name] = (value or "").strip()
        if not texts[name]:
            zh, en = label
            refusals.append(
                said("R-7.2.5", f"审查委任须写明{zh}", f"the appointment must state {en}")
            )
    return texts


def _onsite_dates(given: Mapping[str, Any], refusals: list) -> tuple[date | None, date | None]:
    dates: dict[str, date | None] = {}
    for name in ("onsite_start", "onsite_end"):
        value = given[name]
        try:
            dates[name] = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            dates[name] = None
        if dates[name] is None:
            zh, en = ("开始", "first") if name == "onsite_start" else ("结束", "last")
            refusals.append(
                said(
                    "R-7.2.5",
                    f"现场审查{zh}日期不是有效日期",
                    f"the {en} day of the on-site audit is not a valid date",
                )
            )
    start, end = dates["onsite_start"], dates["onsite_end"]
    if start and end and end < start:
        refusals.append(
            said(
                "R-7.2.5",
                f"现场审查结束日期 {end.isoformat()} 早于开始日期 {start.isoformat()}",
                f"the on-site audit ends ({end.isoformat()}) before it starts "
                f"({start.isoformat()})",
            )
        )
    return start, end


# -- rules ------------------------------------------------------------------------------------
def auditing_records(nominees: list[Nominee]) -> list[Auditor]:
    """The HR records of the members who audit (leader, auditors; never technical experts)."""
    return [
        n.auditor
        for n in nominees
        if n.role in AUDITING_ROLES and n.auditor is not None and not n.auditor.is_technical_expert
    ]


def composition_refusals(
    nominees: list[Nominee], audit_languages: Any, considerations: Any
) -> list[dict[str, Any]]:
    """R-7.2.1(2)/(4): field competence of every team; an audit language no auditing member
    speaks needs the written considerations (domain/team_considerations.py). Each refusal is a
    said text with the form field it concerns (`field`: members or considerations)."""
    auditing = auditing_records(nominees)
    languages = considered.audit_languages(audit_languages)
    return [{**r, "field": "members"} for r in considered.field_refusals(auditing)] + [
        {**r, "field": "considerations"}
        for r in considered.consideration_refusals(auditing, languages, considerations)
    ]


def _team_refusals(nominees: list[Nominee], onsite_end: date | None) -> list[Any]:
    """Every reason the proposed team cannot be appointed (R-7.2.1–R-7.2.4), worded for people
    in both languages (domain.team_reasons)."""
    refusals: list[Any] = []
    seen: set[int] = set()
    for nominee in nominees:
        if nominee.auditor_id in seen:
            refusals.append(reasons.named_twice(nominee.person))
        seen.add(nominee.auditor_id)
        if nominee.role not in ROLE_NAMES:
            refusals.append(reasons.unknown_role(nominee.person))
        if nominee.auditor is None:
            refusals.append(reasons.unknown_auditor())

    leaders = [n for n in nominees if n.role == "leader"]
    if not leaders:
        refusals.append(reasons.no_leader())
    elif len(leaders) > 1:
        refusals.append(reasons.many_leaders([n.person for n in leaders]))

    known = [n for n in nominees if n.auditor is not None and n.role in ROLE_NAMES]
    for nominee in known:
        refusals.extend(member_refusals(nominee, onsite_end))

    auditing = [n for n in nominees if n.role in AUDITING_ROLES]
    if len(auditing) == 1 and auditing[0] in known and not auditing[0].auditor.is_technical_expert:
        refusals.extend(sole_auditor_refusals(auditing[0]))
    else:
        for leader in leaders:
            auditor = leader.auditor
            if auditor and not auditor.is_technical_expert and not auditor.team_leader_qualified:
                refusals.append(reasons.not_leader_qualified(leader.person))
    return refusals


def member_refusals(nominee: Nominee, onsite_end: date | None) -> list[dict[str, Any]]:
    auditor = nominee.auditor
    assert auditor is not None
    name = nominee.person
    if auditor.is_technical_expert:
        if nominee.role != "tech_expert":
            return [reasons.expert_as_auditor(name, nominee.role)]
        return []
    if nominee.role == "tech_expert":
        return [reasons.not_an_expert(name)]
    if qualification_refusal(auditor):
        evaluation = latest_evaluation(auditor)
        return [reasons.evaluated_not_qualified(name, evaluation.on_date if evaluation else None)]
    if not auditor.registration_number or auditor.registration_expires_on is None:
        return [reasons.no_registration(name)]
    if onsite_end is not None and auditor.registration_expires_on < onsite_end:
        return [
            reasons.registration_expires(
                name, auditor.registration_number, auditor.registration_expires_on, onsite_end
            )
        ]
    return []


def sole_auditor_refusals(nominee: Nominee) -> list[dict[str, Any]]:
    """R-7.2.3: a one-auditor team's auditor is qualified as team leader and for the field."""
    auditor = nominee.auditor
    assert auditor is not None
    refusals = []
    if not auditor.team_leader_qualified:
        refusals.append(reasons.sole_not_leader(nominee.person))
    if FIELD not in (auditor.fields or []):
        refusals.append(reasons.sole_not_field(nominee.person))
    return refusals


def impartiality_flags(
    session: Session, audit: Audit, nominees: list[Nominee], onsite_start: date | None
) -> list[dict[str, Any]]:
    """Impartiality flags (R-7.2.1(5)): `audited_before` is recorded with the appointment;
    `conflict_of_interest` also refuses it (see `_conflict_refusals`)."""
    ids = [n.auditor_id for n in nominees if n.auditor is not None]
    if not ids:
        return []
    # The name alone, for instructions (issue 10: people are named, never shown by id).
    plain = {n.auditor_id: n.auditor.name for n in nominees if n.auditor is not None}
    flags: list[dict[str, Any]] = []
    earlier = session.execute(
        select(AuditTeamMember.auditor_id, AuditTeamMember.role, Audit)
        .join(Audit, AuditTeamMember.audit_id == Audit.id)
        .where(
            Audit.organisation_id == audit.organisation_id,
            Audit.id != audit.id,
            AuditTeamMember.auditor_id.in_(ids),
        )
        .order_by(Audit.start_date, Audit.id)
    ).all()
    for auditor_id, role, other in earlier:
        flags.append(
            {
                "auditor_id": auditor_id,
                "auditor_name": plain[auditor_id],
                "flag": "audited_before",
                "detail": reasons.audited_before(
                    plain[auditor_id], other.kind, other.start_date, role
                ),
            }
        )
    if onsite_start is not None:
        since = years_before(onsite_start, CONFLICT_YEARS)
        conflicts = session.scalars(
            select(ConflictOfInterest)
            .where(
                ConflictOfInterest.organisation_id == audit.organisation_id,
                ConflictOfInterest.auditor_id.in_(ids),
                ConflictOfInterest.until >= since,
            )
            .order_by(ConflictOfInterest.id)
        ).all()
        for conflict in conflicts:
            flags.append(
                {
                    "auditor_id": conflict.auditor_id,
                    "auditor_name": plain[conflict.auditor_id],
                    "flag": "conflict_of_interest",
                    "detail": reasons.conflict(
                        plain[conflict.auditor_id],
                        conflict.kind,
                        conflict.until,
                        conflict.note or "",
                        onsite_start,
                    ),
                }
            )
    return flags


def _conflict_refusals(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """R-7.2.1(5), CNAS-CC01: consulting for or employment at the client within 2 years bars
    the person from auditing it."""
    return [
        reasons.conflict_refusal(flag["detail"])
        for flag in flags
        if flag["flag"] == "conflict_of_interest"
    ]


# -- the appointment letter (R-7.2.5) ---------------------------------------------------------
def _reference_without_application(act: Acting, audit: Audit) -> str:
    """How people know an audit without an application (surveillance, special audits): its
    certificate's number, else its organisation's name (issue 10: never "#<audit id>")."""
    certificate = (
        act.session.get(Certificate, audit.certificate_id) if audit.certificate_id else None
    )
    if certificate is not None:
        return certificate.number
    organisation = act.session.get(Organisation, audit.organisation_id)
    return organisation.name if organisation else ""


def _appointment_letter(
    act: Acting,
    audit: Audit,
    nominees: list[Nominee],
    texts: dict[str, str],
    onsite_start: date,
    onsite_end: date,
    considered_facts: dict[str, Any] | None = None,
) -> int:
    organisation = act.session.get(Organisation, audit.organisation_id)
    application = (
        act.session.get(Application, audit.application_id) if audit.application_id else None
    )
    reference = application.number if application else _reference_without_application(act, audit)
    kind = AUDIT_KINDS.get(audit.kind, audit.kind)
    members = [
        {
            "auditor_id": n.auditor_id,
            "name": n.auditor.name,
            "role": n.role,
            "registration_number": n.auditor.registration_number,
        }
        for n in sorted(nominees, key=lambda n: list(ROLE_NAMES).index(n.role))
    ]
    body = render_letter(
        "appointment_letter",
        organisation=organisation,
        reference=application.number if application else None,  # the letter names no other
        kind=kind,
        texts=texts,
        onsite_start=onsite_start,
        onsite_end=onsite_end,
        members=members,
        role_names=ROLE_NAMES,
        appointed_by=act.actor,
        appointed_on=china_date(act.now),
    )
    document = create_document(
        act.session,
        kind="appointment_letter",
        title_facts={"reference": reference, "audit_kind": audit.kind},
        body=body,
        organisation_id=audit.organisation_id,
        application_id=audit.application_id,
        audit_id=audit.id,
        created_by=act.actor,
        now=act.now,
        data={
            "audit_id": audit.id,
            "audit_kind": audit.kind,
            "application_number": application.number if application else None,
            "organisation_name": organisation.name,
            "objectives": texts["objectives"],
            "criteria": texts["criteria"],
            "scope_and_boundaries": texts["scope_and_boundaries"],
            "onsite_start": onsite_start.isoformat(),
            "onsite_end": onsite_end.isoformat(),
            "members": members,
            "appointed_by": act.actor,
            "appointed_on": china_date(act.now).isoformat(),
            "considerations": considered_facts or {},  # R-7.2.1(4)
        },
    )
    return document.id


# -- the appointment ---------------------------------------------------------------------------
def appoint_audit_team(
    act: Acting,
    audit_id: int,
    *,
    members: Any,
    objectives: Any,
    criteria: Any,
    scope_and_boundaries: Any,
    onsite_start: Any,
    onsite_end: Any,
    audit_languages: Any = None,
    considerations: Any = None,
) -> dict[str, Any]:
    """Check the proposed team; record it with the appointment letter when it is valid.
    `audit_languages` (None: Chinese) and `considerations` are R-7.2.1(4)'s (see
    domain/team_considerations.py)."""
    given = {
        "objectives": objectives,
        "criteria": criteria,
        "scope_and_boundaries": scope_and_boundaries,
        "onsite_start": onsite_start,
        "onsite_end": onsite_end,
    }
    audit = load(act.session, Audit, audit_id)
    if audit.status != "planned":
        raise RuleViolation(
            "R-7.2.1", f"审查 #{audit.id} 状态为 {audit.status}：只能为计划中的审查委派审查组"
        )
    if audit.team:
        raise RuleViolation(
            "R-7.2.1", f"审查 #{audit.id} 已委派审查组 the team is already appointed"
        )

    nominees = _nominees(act, members)
    refusals: list[str] = []
    texts = _letter_texts(given, refusals)
    start, end = _onsite_dates(given, refusals)
    refusals = _team_refusals(nominees, end) + refusals
    refusals += composition_refusals(nominees, audit_languages, considerations)
    flags = impartiality_flags(act.session, audit, nominees, start)
    refusals += _conflict_refusals(flags)
    if refusals or start is None or end is None:
        return {
            "appointed": False,
            "refusals": refusals,
            "flags": flags,
            "letter_document_id": None,
        }

    for nominee in nominees:
        act.session.add(
            AuditTeamMember(
                audit_id=audit.id,
                auditor_id=nominee.auditor_id,
                role=nominee.role,
                flags=[
                    {"flag": f["flag"], "detail": f["detail"]}
                    for f in flags
                    if f["auditor_id"] == nominee.auditor_id
                ],
                appointed_by=act.actor,
                appointed_at=act.now,
            )
        )
    audit.objectives = texts["objectives"]
    audit.criteria = texts["criteria"]
    audit.scope = texts["scope_and_boundaries"]
    audit.start_date = start
    audit.end_date = end
    act.session.flush()
    act.session.expire(audit, ["team"])
    languages = considered.audit_languages(audit_languages)
    language = considered.language_flag(auditing_records(nominees), languages)
    facts = {
        "audit_languages": languages,
        "flags": [language] if language else [],
        "text": considerations.strip() if isinstance(considerations, str) else "",
    }
    letter_id = _appointment_letter(act, audit, nominees, texts, start, end, facts)
    return {
        "appointed": True,
        "refusals": [],
        "flags": flags,
        "considerations": facts,
        "letter_document_id": letter_id,
        # Who is on the team, by name (the instructions of the later tasks list it).
        "team": [{"name": n.auditor.name, "role": n.role} for n in nominees if n.auditor],
    }
