"""The auditor register kept by HR (R-7.2.2: 认证审查人员必须取得服务认证人员注册资格，由人力资源部
评价具备相应资格与能力的人员): register an auditor or technical expert with their registration
and its validity, fields, leader qualification and languages; record evaluations; renew a
registration; read the history and the registrations about to lapse.

Rules:
* A registration has a number and a last valid day (docs/calendar.md); it is renewed only on a
  positive evaluation (result `qualified`) recorded since the last renewal — each evaluation
  renews once (the renewal row holds it, unique: of two concurrent renewals one is stored) —
  and only when the latest evaluation is positive; the new last day lies after the current one
  and within REGISTRATION_YEARS of the evaluation.
* An evaluation may update what HR found: fields, leader qualification, languages.
* The latest evaluation `not_qualified` bars the person from appointment until a positive one
  (`qualification_refusal`, applied by domain.team.member_refusals).
Every refusal names the field and the rule (RegisterProblems, 422 in the API and the pages).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from certflow.dates import china_date, last_day_of_months
from certflow.models import User
from domain.acting import Acting
from domain.errors import RuleViolation
from domain.models import Auditor
from domain.models_people import AuditorEvent

REGISTRATION_YEARS = 3  # a CCAA personnel registration is valid for 3 years
LEVELS = ("intern", "auditor", "senior")
# Certification fields an auditor can be competent for; the scheme has one (GB/T 27922).
FIELDS = ("after_sales_service",)
# Working languages (R-7.2.1(4)): codes shown with their names by the pages.
LANGUAGES = ("zh", "en", "ja", "ko", "de", "fr", "ru", "es", "ar", "ug", "bo", "mn")
RESULTS = ("qualified", "not_qualified")
EXPIRING_DAYS = 90  # the hr list shows registrations whose last day is within this many days
MAX_TEXT = 200
MAX_NOTE = 4000


class RegisterProblems(RuleViolation):
    """One or more fields break a rule of the register; `errors` = {field: [message naming the
    rule]}. Nothing is written."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        first_field, messages = next(iter(errors.items()))
        super().__init__("R-7.2.2", messages[0], field=first_field)
        self.errors = errors


@dataclass
class _Problems:
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, rule: str, message: str) -> None:
        self.errors.setdefault(name, []).append(f"{rule}: {message}")

    def raise_any(self) -> None:
        if self.errors:
            raise RegisterProblems(self.errors)


def _text(problems: _Problems, name: str, value: Any, *, required: bool, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        problems.add(name, "R-7.2.2", "须为文字 must be text")
    elif required and not text:
        problems.add(name, "R-7.2.2", "必填 required")
    elif len(text) > limit or "\x00" in text:
        problems.add(name, "R-7.2.2", f"超过{limit}字 longer than {limit} characters")
    return text


def _codes(problems: _Problems, name: str, values: Any, allowed: Iterable[str]) -> list[str]:
    allowed = tuple(allowed)
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        problems.add(name, "R-7.2.2", "须为列表 must be a list of codes")
        return []
    unknown = [v for v in values if v not in allowed]
    if unknown:
        problems.add(name, "R-7.2.2", f"未知代码 unknown {unknown}; allowed: {', '.join(allowed)}")
    return sorted(set(values) & set(allowed), key=allowed.index)


@dataclass
class AuditorRecord:
    """What HR registers about a person (R-7.2.2, R-7.2.1(4))."""

    name: str
    registration_number: str | None = None
    registration_expires_on: date | None = None
    level: str | None = None
    team_leader_qualified: bool = False
    is_technical_expert: bool = False
    fields: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    username: str | None = None  # the person's account, when they use certflow


def register_auditor(act: Acting, record: AuditorRecord) -> Auditor:
    """A new auditor or technical expert in the register, with its first history row."""
    session = act.session
    problems = _Problems()
    name = _text(problems, "name", record.name, required=True, limit=100)
    number = _text(
        problems, "registration_number", record.registration_number, required=False, limit=50
    )
    fields = _codes(problems, "fields", record.fields, FIELDS)
    languages = _codes(problems, "languages", record.languages, LANGUAGES)
    if not languages:
        problems.add("languages", "R-7.2.1(4)", "至少一种工作语言 at least one working language")
    today = china_date(act.now)
    if record.is_technical_expert:
        if record.team_leader_qualified:
            problems.add(
                "team_leader_qualified",
                "R-7.2.4",
                "技术专家不能担任审查组长 a technical expert never leads a team",
            )
    else:
        if not number:
            problems.add(
                "registration_number",
                "R-7.2.2",
                "审查员须有服务认证人员注册 an auditor needs a registration",
            )
        if record.registration_expires_on is None:
            problems.add(
                "registration_expires_on",
                "R-7.2.2",
                "须写明注册有效期 the registration's last valid day is required",
            )
        elif record.registration_expires_on < today:
            problems.add(
                "registration_expires_on",
                "R-7.2.2",
                "注册已过期 the registration has already lapsed",
            )
        if record.level not in LEVELS:
            problems.add("level", "R-7.2.2", f"须为 must be one of {', '.join(LEVELS)}")
    user = _user(session, record.username, problems)
    if (
        number
        and session.scalars(select(Auditor.id).where(Auditor.registration_number == number)).first()
    ):
        problems.add(
            "registration_number",
            "R-7.2.2",
            "该注册号已登记 this registration is already in the register",
        )
    problems.raise_any()
    expert = record.is_technical_expert
    auditor = Auditor(
        user_id=user.id if user else None,
        name=name,
        registration_number=number or None,
        level=None if expert else record.level,
        registration_expires_on=None if expert else record.registration_expires_on,
        team_leader_qualified=False if expert else bool(record.team_leader_qualified),
        fields=fields,
        is_technical_expert=expert,
        languages=languages,
    )
    session.add(auditor)
    session.flush()
    _event(act, auditor, "registered", today, expires_after=auditor.registration_expires_on)
    return auditor


def _user(session: Session, username: str | None, problems: _Problems) -> User | None:
    if not username:
        return None
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        problems.add("username", "R-7.2.2", "没有这个用户 no such user")
        return None
    if user.has_role("client"):
        problems.add("username", "R-7.2.2", "客户用户不能登记为审查员 a client cannot audit")
    elif session.scalars(select(Auditor.id).where(Auditor.user_id == user.id)).first():
        problems.add("username", "R-7.2.2", "该用户已有审查员记录 this user is already registered")
    return user


def _event(act: Acting, auditor: Auditor, kind: str, on: date, **values: Any) -> AuditorEvent:
    event = AuditorEvent(
        auditor=auditor,  # through the relationship: auditor.events sees it at once
        kind=kind,
        on_date=on,
        recorded_by=act.actor,
        recorded_at=act.now,
        **values,
    )
    act.session.add(event)
    act.session.flush()
    return event


def get_auditor(session: Session, auditor_id: int) -> Auditor:
    auditor = session.get(Auditor, auditor_id) if 0 < auditor_id < 2**31 else None
    if auditor is None:
        raise LookupError(f"auditor {auditor_id} not found")
    return auditor


@dataclass
class Evaluation:
    """HR's evaluation of a person's qualification and competence (R-7.2.2)."""

    evaluated_on: date
    evaluator: str
    result: str
    note: str = ""
    team_leader_qualified: bool | None = None  # None: unchanged
    fields: list[str] | None = None
    languages: list[str] | None = None


def record_evaluation(act: Acting, auditor_id: int, evaluation: Evaluation) -> AuditorEvent:
    auditor = get_auditor(act.session, auditor_id)
    problems = _Problems()
    evaluator = _text(problems, "evaluator", evaluation.evaluator, required=True, limit=MAX_TEXT)
    note = _text(problems, "note", evaluation.note, required=False, limit=MAX_NOTE)
    if evaluation.result not in RESULTS:
        problems.add("result", "R-7.2.2", f"须为 must be one of {', '.join(RESULTS)}")
    elif evaluation.result == "not_qualified" and not note:
        problems.add("note", "R-7.2.2", "评价不合格须说明理由 a negative evaluation states why")
    if evaluation.evaluated_on > china_date(act.now):
        problems.add("evaluated_on", "R-7.2.2", "评价日期不能在将来 cannot be in the future")
    if evaluation.team_leader_qualified and auditor.is_technical_expert:
        problems.add(
            "team_leader_qualified",
            "R-7.2.4",
            "技术专家不能担任审查组长 a technical expert never leads a team",
        )
    fields = (
        None if evaluation.fields is None else _codes(problems, "fields", evaluation.fields, FIELDS)
    )
    languages = (
        None
        if evaluation.languages is None
        else _codes(problems, "languages", evaluation.languages, LANGUAGES)
    )
    problems.raise_any()
    changes: dict[str, list[Any]] = {}
    updates = {
        "team_leader_qualified": evaluation.team_leader_qualified,
        "fields": fields,
        "languages": languages,
    }
    for name, value in updates.items():
        if value is not None and getattr(auditor, name) != value:
            changes[name] = [getattr(auditor, name), value]
            setattr(auditor, name, value)
    summary = "; ".join(f"{k}: {v[0]} → {v[1]}" for k, v in changes.items())
    return _event(
        act,
        auditor,
        "evaluated",
        evaluation.evaluated_on,
        result=evaluation.result,
        evaluator=evaluator,
        note="\n".join(x for x in (note, summary) if x),
        expires_before=auditor.registration_expires_on,
        expires_after=auditor.registration_expires_on,
    )


def latest_evaluation(auditor: Auditor) -> AuditorEvent | None:
    evaluations = [e for e in auditor.events if e.kind == "evaluated"]
    return max(evaluations, key=lambda e: (e.on_date, e.id)) if evaluations else None


def renewal_refusal(auditor: Auditor) -> str | None:
    """Why the registration cannot be renewed now (R-7.2.2), or None."""
    if auditor.is_technical_expert:
        return "R-7.2.2: 技术专家没有注册资格可续期 a technical expert holds no registration"
    evaluation = latest_evaluation(auditor)
    if evaluation is None or evaluation.result != "qualified":
        return (
            "R-7.2.2: 续期须先经人力资源部评价合格 a renewal needs a positive evaluation "
            "by HR first"
        )
    if any(e.kind == "renewed" and e.evaluation_id == evaluation.id for e in auditor.events):
        return (
            "R-7.2.2: 该次评价已用于续期，须重新评价 this evaluation was already used for a "
            "renewal; record a new one"
        )
    return None


def renew_registration(
    act: Acting, auditor_id: int, *, expires_on: date, registration_number: str | None = None
) -> AuditorEvent:
    """Extend the registration's validity on the latest, positive, unused evaluation."""
    auditor = get_auditor(act.session, auditor_id)
    problems = _Problems()
    refusal = renewal_refusal(auditor)
    if refusal:
        problems.errors["evaluation"] = [refusal]
    number = _text(problems, "registration_number", registration_number, required=False, limit=50)
    evaluation = latest_evaluation(auditor)
    current = auditor.registration_expires_on
    if current is not None and expires_on <= current:
        problems.add(
            "expires_on",
            "R-7.2.2",
            f"须晚于当前有效期 {current.isoformat()} must be after the current last day",
        )
    if expires_on < china_date(act.now):
        problems.add("expires_on", "R-7.2.2", "不能在过去 cannot be in the past")
    if evaluation is not None and not refusal:
        limit = last_day_of_months(evaluation.on_date, 12 * REGISTRATION_YEARS)
        if expires_on > limit:
            problems.add(
                "expires_on",
                "R-7.2.2",
                f"最长至评价后{REGISTRATION_YEARS}年 {limit.isoformat()} at most "
                f"{REGISTRATION_YEARS} years after the evaluation",
            )
    problems.raise_any()
    assert evaluation is not None
    if number:
        auditor.registration_number = number
    auditor.registration_expires_on = expires_on
    return _event(
        act,
        auditor,
        "renewed",
        china_date(act.now),
        evaluation_id=evaluation.id,
        expires_before=current,
        expires_after=expires_on,
        evaluator=evaluation.evaluator,
    )


def qualification_refusal(auditor: Auditor) -> str | None:
    """R-7.2.2: the latest evaluation found the person not qualified → no appointment."""
    evaluation = latest_evaluation(auditor)
    if evaluation is None or evaluation.result != "not_qualified":
        return None
    return (
        f"R-7.2.2: {auditor.name} 人力资源部 {evaluation.on_date.isoformat()} "
        "评价不合格 was evaluated not qualified by HR"
    )


def expiring(session: Session, today: date, within_days: int = EXPIRING_DAYS) -> list[Auditor]:
    """Registered auditors whose registration has lapsed or ends within `within_days`."""
    horizon = today + timedelta(days=within_days)
    return list(
        session.scalars(
            select(Auditor)
            .where(
                Auditor.is_technical_expert.is_(False),
                or_(
                    Auditor.registration_expires_on.is_(None),
                    Auditor.registration_expires_on <= horizon,
                ),
            )
            .order_by(Auditor.registration_expires_on, Auditor.name, Auditor.id)
        )
    )


def all_auditors(session: Session) -> list[Auditor]:
    return list(session.scalars(select(Auditor).order_by(Auditor.name, Auditor.id)))
