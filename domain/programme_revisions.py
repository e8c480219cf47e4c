"""Revisions of the audit programme (R-7.1.2 审查方案的确定和任何后续调整都应考虑客户的规模、服务
范围与复杂程度，以及经过证实的服务质量水平和以前审查的结果).

Every change of a programme is kept as a numbered revision: why (a reason kind and the words of
the person), who, when, what changed (field by field, activity by activity) and the whole
programme after the change. Revision 1 is the programme as established; the process adds
revisions when it changes the programme (the certification cycle set at the decision, a
surveillance planned or extended, an extra surveillance); the scheduler revises it by hand for
the reasons the rule names (`revise_programme`).
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.acceptance import MIN_MAN_DAYS
from domain.acting import Acting
from domain.errors import RuleViolation
from domain.models import AuditProgramme, ProgrammeActivity
from domain.models_programme import AuditProgrammeRevision
from domain.values import decimal_number, flag, iso_date, optional_text, required_text

# Reasons a person gives (R-7.1.2 the factors every adjustment considers; R-8.5.5(4) the
# conclusion identifies needed changes; complaints and changes of the client).
MANUAL_REASONS = (
    "audit_results",  # 以前审查的结果 (incl. the audit conclusion, R-8.5.5(4))
    "client_size",  # 客户的规模
    "scope_complexity",  # 服务范围与复杂程度
    "service_quality",  # 经过证实的服务质量水平
    "client_change",  # major changes of the client (R-8.10.1(b))
    "complaint",  # substantiated complaints (R-8.10.1(a), R-8.11)
    "other",
)
# Revisions the process makes itself.
PROCESS_REASONS = (
    "established",  # revision 1: the programme as built
    "cycle_set",  # the certification decision starts the cycle
    "surveillance",  # a surveillance planned, extended or added
    "baseline",  # a programme older than its revision history, as found at its first revision
)
REASON_KINDS = MANUAL_REASONS + PROCESS_REASONS
REVISABLE_FIELDS = ("man_days", "sizing_notes", "mystery_shopping", "random_survey")
_ACTIVITY_FIELDS = (
    "planned_date",
    "due_date",
    "hard_limit_date",
    "window_opens_on",
    "status",
    "extension_requested_to",
    "extension_approved",
)
MAX_REASON = 2000


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _man_days(value: Any) -> str | None:
    """Man-days as stored (one decimal), whether just assigned or read back."""
    return None if value is None else f"{Decimal(value):.1f}"


def programme_snapshot(session: Session, programme: AuditProgramme) -> dict[str, Any]:
    """The programme as it stands: its own fields and every activity (JSON-ready)."""
    activities = session.scalars(
        select(ProgrammeActivity)
        .where(ProgrammeActivity.programme_id == programme.id)
        .order_by(ProgrammeActivity.id)
    ).all()
    return {
        "fields": {
            "cycle_start": _plain(programme.cycle_start),
            "cycle_end": _plain(programme.cycle_end),
            "man_days": _man_days(programme.man_days),
            "sizing_notes": programme.sizing_notes or "",
            "mystery_shopping": bool(programme.mystery_shopping),
            "random_survey": bool(programme.random_survey),
            "shift_work_notes": programme.shift_work_notes or "",
            "shifts": list(programme.shifts or []),
        },
        "activities": [
            {"id": a.id, "kind": a.kind, **{f: _plain(getattr(a, f)) for f in _ACTIVITY_FIELDS}}
            for a in activities
        ],
    }


def snapshot_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict]:
    """What changed from `before` to `after`: one entry per field and per activity attribute
    (an activity that is new is one "added" entry)."""
    if before is None:
        return []
    changes = [
        {"field": name, "activity": None, "before": before["fields"].get(name), "after": value}
        for name, value in after["fields"].items()
        if before["fields"].get(name) != value
    ]
    earlier = {a["id"]: a for a in before["activities"]}
    for activity in after["activities"]:
        old = earlier.get(activity["id"])
        if old is None:
            shown = activity["planned_date"] or activity["due_date"]
            changes.append(
                {"field": "added", "activity": activity["kind"], "before": None, "after": shown}
            )
            continue
        changes.extend(
            {"field": name, "activity": activity["kind"], "before": old.get(name), "after": value}
            for name in _ACTIVITY_FIELDS
            if (value := activity.get(name)) != old.get(name)
        )
    return changes


def latest_revision(session: Session, programme_id: int) -> AuditProgrammeRevision | None:
    return session.scalars(
        select(AuditProgrammeRevision)
        .where(AuditProgrammeRevision.programme_id == programme_id)
        .order_by(AuditProgrammeRevision.number.desc())
        .limit(1)
    ).first()


def _lock(session: Session, programme_id: int) -> AuditProgramme:
    """The programme row, locked until commit (PostgreSQL): revisions are numbered one at a
    time; the unique (programme, number) catches anything else."""
    programme = session.scalars(
        select(AuditProgramme).where(AuditProgramme.id == programme_id).with_for_update()
    ).first()
    if programme is None:
        raise LookupError(f"audit_programme {programme_id} not found")
    return programme


def record_revision(
    session: Session,
    programme: AuditProgramme,
    *,
    reason_kind: str,
    reason: str = "",
    actor: str,
    now: datetime,
) -> AuditProgrammeRevision | None:
    """Keep the programme as it now stands as its next revision, with what changed since the
    last one (R-7.1.2). Nothing changed → no revision (None), except the first one. A programme
    without history (made before revisions were kept) gets its present state as revision 1,
    "baseline": the state before this change is not known any more."""
    if reason_kind not in REASON_KINDS:
        raise ValueError(f"unknown programme revision reason {reason_kind!r}")
    session.flush()
    after = programme_snapshot(session, programme)
    previous = latest_revision(session, programme.id)
    if previous is None and reason_kind != "established":
        reason_kind, reason = "baseline", ""
    changes = snapshot_changes(previous.snapshot if previous else None, after)
    if previous is not None and not changes:
        return None
    number = (
        session.scalar(
            select(func.max(AuditProgrammeRevision.number)).where(
                AuditProgrammeRevision.programme_id == programme.id
            )
        )
        or 0
    ) + 1
    revision = AuditProgrammeRevision(
        programme_id=programme.id,
        number=number,
        reason_kind=reason_kind,
        reason=reason,
        changes=changes,
        snapshot=after,
        revised_by=actor,
        revised_at=now,
    )
    session.add(revision)
    session.flush()
    return revision


def ensure_baseline(act: Acting, programme: AuditProgramme) -> None:
    """A programme made before revisions were kept gets its state as revision 1 ("baseline")
    before its first recorded change, so that change shows what it changed."""
    if latest_revision(act.session, programme.id) is None:
        record_revision(
            act.session, programme, reason_kind="baseline", actor=act.actor, now=act.now
        )


def record_process_revision(act: Acting, programme: AuditProgramme, reason_kind: str) -> None:
    """A change the process made (established, cycle set, surveillance) as a revision."""
    record_revision(act.session, programme, reason_kind=reason_kind, actor=act.actor, now=act.now)


# --- the scheduler's revision -------------------------------------------------------------------


def _activity_limit(activity: ProgrammeActivity) -> date | None:
    """R-7.1.3: the latest day an activity may be planned — its due date, or the approved
    extension (never beyond the hard limit)."""
    if activity.extension_approved and activity.extension_requested_to:
        return activity.extension_requested_to
    return activity.due_date


def _planned_dates(
    session: Session, programme: AuditProgramme, planned_dates: Any
) -> dict[ProgrammeActivity, date]:
    """{activity id: "YYYY-MM-DD"} → the activities and their new planned dates, checked."""
    if planned_dates is None:
        return {}
    if not isinstance(planned_dates, dict):
        raise RuleViolation("R-7.1.2", "planned dates must be given per activity")
    result: dict[ProgrammeActivity, date] = {}
    for key, value in planned_dates.items():
        if value in (None, ""):
            continue
        field = f"planned_date_{key}"
        activity = session.get(ProgrammeActivity, int(key)) if str(key).isdigit() else None
        if activity is None or activity.programme_id != programme.id:
            raise RuleViolation("R-7.1.2", "不是本方案的审查活动 not an activity of this programme")
        day = iso_date(value, field, "R-7.1.2", "计划日期 planned date")
        if day == activity.planned_date:
            continue
        if activity.status != "planned":
            raise RuleViolation(
                "R-7.1.2",
                f"审查活动已{activity.status}，不能再调整日期 the activity is {activity.status}: "
                "its date is no longer planned",
                field=field,
            )
        limit = _activity_limit(activity)
        if limit is not None and day > limit:
            raise RuleViolation(
                "R-7.1.3",
                f"计划日期 {day.isoformat()} 晚于期限 {limit.isoformat()} the planned date is "
                "after the activity's limit",
                field=field,
            )
        result[activity] = day
    return result


def _check_review_before_audit(session: Session, programme: AuditProgramme) -> None:
    """R-8.1: the document review stays planned before the initial audit."""
    by_kind = {
        a.kind: a.planned_date
        for a in session.scalars(
            select(ProgrammeActivity).where(ProgrammeActivity.programme_id == programme.id)
        )
    }
    review, audit = by_kind.get("document_review"), by_kind.get("initial_audit")
    if review and audit and review >= audit:
        raise RuleViolation(
            "R-8.1",
            f"文件评审 {review.isoformat()} 须在初始审查 {audit.isoformat()} 之前 the document "
            "review comes before the initial audit",
            field="planned_dates",
        )


def revise_programme(
    act: Acting,
    programme_id: int,
    *,
    reason_kind: Any,
    reason: Any,
    man_days: Any = None,
    sizing_notes: Any = None,
    mystery_shopping: Any = None,
    random_survey: Any = None,
    planned_dates: Any = None,
) -> AuditProgrammeRevision:
    """R-7.1.2: the scheduler adjusts the programme (man-days, sizing, mystery shopping, random
    survey, planned dates of activities still planned) for a named reason; the change is kept
    as the next revision. A value of None leaves that part as it is; no change is refused."""
    programme = _lock(act.session, programme_id)
    if reason_kind not in MANUAL_REASONS:
        raise RuleViolation(
            "R-7.1.2", "请选择调整原因 choose the reason of the adjustment", field="reason_kind"
        )
    reason = required_text(
        reason, "reason", "R-7.1.2", "调整说明 what the adjustment considers", MAX_REASON
    )
    ensure_baseline(act, programme)
    if man_days not in (None, ""):
        days = decimal_number(man_days, "man_days", "R-7.1.2", "审查人日 man-days")
        if days < MIN_MAN_DAYS:
            raise RuleViolation(
                "R-7.1.2",
                f"审查人日至少 0.5 man-days must be at least 0.5: {days}",
                field="man_days",
            )
        programme.man_days = days
    if sizing_notes is not None:
        programme.sizing_notes = optional_text(sizing_notes, "sizing_notes", "R-7.1.2", 4000)
    if mystery_shopping is not None:
        programme.mystery_shopping = flag(mystery_shopping, "mystery_shopping", "R-8.2")
    if random_survey is not None:
        programme.random_survey = flag(random_survey, "random_survey", "R-8.3")
    for activity, day in _planned_dates(act.session, programme, planned_dates).items():
        activity.planned_date = day
    act.session.flush()
    _check_review_before_audit(act.session, programme)
    revision = record_revision(
        act.session, programme, reason_kind=reason_kind, reason=reason, actor=act.actor, now=act.now
    )
    if revision is None:
        raise RuleViolation(
            "R-7.1.2", "方案没有任何变化 nothing in the programme changed", field="reason_kind"
        )
    return revision


def revisions_of(session: Session, programme_id: int) -> list[AuditProgrammeRevision]:
    return list(
        session.scalars(
            select(AuditProgrammeRevision)
            .where(AuditProgrammeRevision.programme_id == programme_id)
            .order_by(AuditProgrammeRevision.number)
        )
    )


def revisions_of_programmes(
    session: Session, programme_ids: list[int]
) -> dict[int, list[AuditProgrammeRevision]]:
    """{programme id: its revisions in order} for several programmes in one query (the case
    page lists every programme of the case; issue 16)."""
    found: dict[int, list[AuditProgrammeRevision]] = {i: [] for i in programme_ids}
    if programme_ids:
        for revision in session.scalars(
            select(AuditProgrammeRevision)
            .where(AuditProgrammeRevision.programme_id.in_(programme_ids))
            .order_by(AuditProgrammeRevision.programme_id, AuditProgrammeRevision.number)
        ):
            found[revision.programme_id].append(revision)
    return found
