"""The audit programme (R-7.1.1, R-7.1.2, R-7.1.4): the audit programme of the certification cycle
with its first activities (document review, initial audit) and the initial `Audit`. The cycle
dates and the surveillance/recertification activities are added when the certificate is issued
(the cycle runs from the decision date, R-7.1.1).
"""

from datetime import date
from typing import Any

from sqlalchemy import select

from certflow.dates import china_date
from domain.acceptance import MIN_MAN_DAYS
from domain.acting import Acting
from domain.errors import RuleViolation
from domain.models import Application, Audit, AuditProgramme, Certificate, ProgrammeActivity
from domain.programme_revisions import record_process_revision
from domain.shifts import check_programme_shifts
from domain.values import decimal_number, flag, iso_date, load, optional_text

IN_PROGRESS = ("accepted", "contracted")
HELD = ("valid", "suspended")


def _cycle_running(
    act: Acting, programme: AuditProgramme, application: Application, today: date
) -> bool:
    """The programme's cycle has not ended and its certificate is still held (a withdrawn or
    cancelled certificate ends the cycle early, R-9.5)."""
    if programme.cycle_end is None or programme.cycle_end < today:
        return False
    held = act.session.scalars(
        select(Certificate.id).where(
            Certificate.application_id == application.id,
            Certificate.status.in_(HELD),
        )
    ).first()
    return held is not None


def _refuse_second_programme(act: Acting, application: Application) -> None:
    """One programme per client per certification cycle (R-7.1.1): none for this application
    yet, and none of another application that is in progress or whose cycle still runs (except
    for a recertification, which prepares the next cycle, R-8.11)."""
    today = china_date(act.now)
    rows = act.session.execute(
        select(AuditProgramme, Application)
        .join(Application, AuditProgramme.application_id == Application.id)
        .where(AuditProgramme.organisation_id == application.organisation_id)
    ).all()
    for programme, other in rows:
        if other.id == application.id:
            raise RuleViolation(
                "R-7.1.1",
                f"申请 {application.number} 已有审查方案 already has programme {programme.id}",
            )
        # A recertification prepares the next cycle while the current one still runs:
        # its programme starts at the new decision date, so only one in progress is refused.
        running = _cycle_running(act, programme, other, today)
        if other.status in IN_PROGRESS or (running and application.kind != "recertification"):
            raise RuleViolation(
                "R-7.1.1",
                f"该客户已有审查方案 the client already has programme {programme.id} "
                f"(application {other.number}, {other.status}): one programme per client per "
                "certification cycle",
            )


def check_programme_dates(
    document_review_date: Any, initial_audit_start: Any, initial_audit_end: Any
) -> tuple[date, date, date]:
    """R-8.1, R-7.1.2: the document review is planned before the initial audit, which ends on or
    after its start (form check `programme.dates_fit` and create_programme)."""
    review_date = iso_date(
        document_review_date, "document_review_date", "R-8.1", "文件评审日期 review date"
    )
    audit_start = iso_date(
        initial_audit_start, "initial_audit_start", "R-7.1.2", "初始审查开始 audit start"
    )
    audit_end = iso_date(
        initial_audit_end, "initial_audit_end", "R-7.1.2", "初始审查结束 audit end"
    )
    if review_date >= audit_start:
        raise RuleViolation(
            "R-8.1",
            f"文件评审 {review_date.isoformat()} 须在现场审查 {audit_start.isoformat()} 之前 "
            "the document review comes before the on-site audit",
            field="document_review_date",
        )
    if audit_end < audit_start:
        raise RuleViolation(
            "R-7.1.2",
            f"初始审查结束日期 {audit_end.isoformat()} 早于开始日期 {audit_start.isoformat()} "
            "the audit ends before it starts",
            field="initial_audit_end",
        )
    return review_date, audit_start, audit_end


def check_shift_work_explained(application: Application, shift_work_notes: Any) -> None:
    """R-7.1.4: a client working in shifts gets a programme that says how shifts are covered."""
    if application.shift_work and not optional_text(shift_work_notes, "shift_work_notes"):
        raise RuleViolation(
            "R-7.1.4",
            "客户采用轮班作业，审查方案须说明如何考虑轮班活动 the client works in shifts: say how "
            "the programme covers shift work",
            field="shift_work_notes",
        )


def create_programme(
    act: Acting,
    application_id: int,
    *,
    mystery_shopping: Any,
    random_survey: Any,
    document_review_date: Any,
    initial_audit_start: Any,
    initial_audit_end: Any,
    man_days: Any,
    sizing_notes: Any,
    shift_work_notes: Any,
    shifts: Any = None,
) -> dict[str, Any]:
    """Create the programme, its document review and initial audit, and the initial Audit."""
    application = load(act.session, Application, application_id)
    if application.status != "contracted":
        raise RuleViolation(
            "R-6.2.2a",
            f"申请 {application.number} 状态为 {application.status}：审查方案须在签订合同之后 "
            "the programme follows the signed contract",
        )
    mystery_shopping = flag(mystery_shopping, "mystery_shopping", "R-8.2")
    random_survey = flag(random_survey, "random_survey", "R-8.3")
    review_date, audit_start, audit_end = check_programme_dates(
        document_review_date, initial_audit_start, initial_audit_end
    )
    man_days = decimal_number(man_days, "man_days", "R-7.1.2", "审查人日 man-days")
    sizing_notes = optional_text(sizing_notes, "sizing_notes")
    shift_work_notes = optional_text(shift_work_notes, "shift_work_notes")

    if man_days is None or man_days < MIN_MAN_DAYS:
        raise RuleViolation(
            "R-7.1.2", f"审查人日至少 0.5 man-days must be at least 0.5: {man_days}"
        )
    check_shift_work_explained(application, shift_work_notes)
    shifts = check_programme_shifts(application.shift_work, shifts)
    _refuse_second_programme(act, application)

    programme = AuditProgramme(
        organisation_id=application.organisation_id,
        application_id=application.id,
        mystery_shopping=mystery_shopping,
        random_survey=random_survey,
        shift_work_notes=shift_work_notes,
        shifts=shifts,
        sizing_notes=sizing_notes,
        man_days=man_days,
        created_by=act.actor,
        created_at=act.now,
    )
    act.session.add(programme)
    act.session.flush()
    act.session.add_all(
        [
            ProgrammeActivity(
                programme_id=programme.id, kind="document_review", planned_date=review_date
            ),
            ProgrammeActivity(
                programme_id=programme.id, kind="initial_audit", planned_date=audit_start
            ),
        ]
    )
    audit = Audit(
        programme_id=programme.id,
        application_id=application.id,
        organisation_id=application.organisation_id,
        kind="initial",
        scope=application.scope,
        start_date=audit_start,
        end_date=audit_end,
        status="planned",
    )
    act.session.add(audit)
    act.session.flush()
    record_process_revision(act, programme, "established")  # revision 1
    return {
        "id": programme.id,
        "audit_id": audit.id,
        "mystery_shopping": mystery_shopping,
        "random_survey": random_survey,
        "shifts": shifts,  # shown to the team leader writing the plan
    }
