"""Handlers: the audit — plan, document review, mystery shopping, training, on-site audit,
conclusion, closing meeting and the audit report (R-7.3, R-8.1 … R-8.6, R-8.9, R-3, R-13).

Operators and parameters are fixed by docs/initial-certification.md. Every handler refuses a
broken rule with `RuleViolation("R-x", ...)`; the engine turns it into an incident and the
savepoint it runs in undoes anything half-written. The small parameter helpers at the top
(`get_audit`, `require_text`, `require_date`, ...) are shared by the other handler modules.
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date
from domain.certificates import current_certificate, get_certificate
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.indicators import (
    active_indicator_set,
    indicator_set_by_label,
    indicator_set_label,
)
from domain.models import (
    Application,
    Audit,
    AuditProgramme,
    Document,
    Finding,
    Nonconformity,
    Site,
)
from domain.programme_dates import parse_iso_date
from domain.scoring import (
    CONFORM,
    NONCONFORM,
    RESULT_SAMPLED,
    RESULT_VALUES,
    SAMPLED,
    IndicatorSet,
    score_audit,
)
from handlers.registry import GuardContext, HandlerContext, handler, validator

# the 16 items of the opening meeting; the form `forms/opening_meeting.json` uses the
# same keys. Values: (Chinese, English).
OPENING_MEETING_ITEMS: dict[str, tuple[str, str]] = {
    "introductions": ("介绍审查组成员及其分工", "Introduce the audit team members and their roles"),
    "level_scope_confirmed": (
        "确认申请认证的星级和认证范围",
        "Confirm the star level applied for and the certification scope",
    ),
    "plan_confirmed": ("确认审查计划及相关安排", "Confirm the audit plan and its arrangements"),
    "communication_channels": (
        "确认审查组与受审查方之间的正式沟通渠道",
        "Confirm the formal communication channels between the team and the client",
    ),
    "resources": (
        "确认审查所需的资源和设施已具备",
        "Confirm that the resources and facilities the team needs are available",
    ),
    "confidentiality": ("确认保密事宜", "Confirm confidentiality matters"),
    "safety": (
        "确认审查组相关的健康、安全和安保要求",
        "Confirm health, safety and security arrangements for the team",
    ),
    "guides_observers": (
        "确认陪同人员和观察员的安排及其作用",
        "Confirm the guides and observers, and their roles",
    ),
    "reporting_method": (
        "报告审查发现的方法（包括扣分项的判定）",
        "Method of reporting findings (including how deduction items are graded)",
    ),
    "termination_conditions": (
        "提前终止审查的条件",
        "Conditions under which the audit may be terminated early",
    ),
    "leader_responsibility": (
        "审查组长对审查实施负责",
        "The team leader is responsible for conducting the audit",
    ),
    "previous_findings": (
        "以往审查发现的状况（如适用）",
        "Status of findings of earlier audits (where applicable)",
    ),
    "sampling_method": (
        "基于抽样的审查方法",
        "Audit methods, based on sampling",
    ),
    "language": ("审查使用的语言", "Language of the audit"),
    "progress_reporting": (
        "审查期间向受审查方通报审查进展",
        "Keeping the client informed of the audit's progress",
    ),
    "questions": ("受审查方提问的机会", "Opportunity for the client to ask questions"),
}

# a–e: what the closing meeting covers; the form `forms/closing_meeting.json` uses the
# same keys.
CLOSING_MEETING_ITEMS: dict[str, tuple[str, str]] = {
    "sampling_uncertainty": (
        "审查证据基于抽样，存在不确定性",
        "Audit evidence is based on samples and carries uncertainty",
    ),
    "reporting_method_timetable": ("报告的方式和时间安排", "Method and timetable of reporting"),
    "deduction_items": ("扣分项的说明", "The deduction items found"),
    "post_audit_activities": (
        "审查后的活动（不符合整改、验证、认证决定）",
        "Post-audit activities (corrections, verification, certification decision)",
    ),
    "complaints_appeals": ("投诉和申诉的处理过程", "How complaints and appeals are handled"),
}

AUDIT_METHODS = ("interview", "observation", "records")
# what the team leader reports to the audit department (none = nothing to escalate).
# terminate_request: the leader asks for a termination, naming the reason.
ESCALATIONS = (
    "none",
    "objectives_unachievable",
    "significant_risk",
    "scope_change",
    "terminate_request",
)
ESCALATION_DECISIONS = ("continue", "modify_plan", "change_scope", "terminate")
TERMINATION_REASONS = ("client_not_cooperating", "material_difference", "other_impossible")
CONCLUSIONS = ("recommend", "downgrade", "not_recommend")  # R-8.5.5 (1)–(3)
# Audits of a certificate in force: their conclusion compares with the held level (R-8.10.2/3).
SURVEILLANCE_AUDIT_KINDS = ("surveillance", "extra_surveillance")

# what the document review of a recertification covers at least. The reviewed documents
# (`documents_reviewed`, a list of strings) name each by its key — alone or as "key: title" —
# or by its Chinese name.
RECERTIFICATION_DOCUMENTS: dict[str, tuple[str, str]] = {
    "service_scope": ("服务范围", "service scope"),
    "policy_objectives": ("服务方针和目标", "policy and objectives"),
    "organisation_responsibilities": ("组织机构和职责", "organisation and responsibilities"),
    "documented_procedures": ("要求的形成文件的程序", "required documented procedures"),
}

REPORT_KIND = "audit_report"
MYSTERY_SHOPPING_KIND = "mystery_shopping_record"
AUDIT_KIND_LABELS = {
    "initial": "初次认证审查 Initial certification audit",
    "surveillance": "监督审查 Surveillance audit",
    "recertification": "再认证审查 Recertification audit",
    "special": "特殊审查 Special audit",
}
DEFAULT_CRITERIA = "GB/T 27922-2011 商品售后服务评价体系"
UNCERTAINTY_STATEMENT = (
    "审查基于对可获得信息的抽样，审查结论存在一定的不确定性。 "
    "The audit is based on a sample of the available information; its conclusions carry "
    "sampling uncertainty."
)


# --- shared parameter helpers -------------------------------------------------------------------


def get_audit(session: Session, audit_id: Any) -> Audit:
    audit = session.get(Audit, require_id(audit_id, "audit_id"))
    if audit is None:
        raise LookupError(f"audit {audit_id} not found")
    return audit


def require_id(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{field}: expected an id, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{field}: expected an id, got {value!r}") from err


def require_text(value: Any, field: str, rule: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleViolation(rule, f"'{field}' is required")
    return value.strip()


def optional_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def require_date(value: Any, field: str, rule: str) -> date:
    try:
        return parse_iso_date(value)
    except ValueError as err:
        raise RuleViolation(rule, f"'{field}' must be an ISO date (YYYY-MM-DD): {err}") from err


def require_not_future(day: date, field: str, rule: str, now: datetime) -> date:
    if day > china_date(now):
        raise RuleViolation(rule, f"'{field}' ({day}) is in the future")
    return day


def require_list(value: Any, field: str, rule: str, *, allow_empty: bool = False) -> list[Any]:
    if value is None and allow_empty:
        return []
    if not isinstance(value, list) or (not value and not allow_empty):
        raise RuleViolation(rule, f"'{field}' must be a non-empty list")
    return value


def require_int(value: Any, field: str, rule: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RuleViolation(rule, f"'{field}' must be a whole number, got {value!r}")
    try:
        number = int(value)
    except ValueError as err:
        raise RuleViolation(rule, f"'{field}' must be a whole number, got {value!r}") from err
    if minimum is not None and number < minimum:
        raise RuleViolation(rule, f"'{field}' must be at least {minimum}, got {number}")
    return number


def is_true(value: Any) -> bool:
    """Form checkboxes: only a real `true` counts as confirmed."""
    return value is True


def application_of(session: Session, audit: Audit) -> Application:
    application_id = audit.application_id
    if application_id is None:
        programme = session.get(AuditProgramme, audit.programme_id)
        application_id = programme.application_id if programme else None
    application = session.get(Application, application_id) if application_id else None
    if application is None:
        raise LookupError(f"audit {audit.id} has no application")
    return application


def require_status(audit: Audit, allowed: Iterable[str], rule: str, doing: str) -> None:
    allowed = tuple(allowed)
    if audit.status not in allowed:
        raise RuleViolation(
            rule, f"audit {audit.id} is {audit.status}; cannot {doing} (needs {'/'.join(allowed)})"
        )


def checked_keys(
    value: Any, items: Mapping[str, tuple[str, str]], field: str, rule: str
) -> list[str]:
    """The keys of a checklist that are confirmed; refuses unknown and unconfirmed keys.

    Accepts `{"key": true, ...}` or a list of the confirmed keys."""
    if isinstance(value, Mapping):
        unknown = [key for key in value if key not in items]
        confirmed = {key for key, ticked in value.items() if is_true(ticked)}
    elif isinstance(value, list):
        unknown = [key for key in value if key not in items]
        confirmed = set(value)
    else:
        raise RuleViolation(rule, f"'{field}' must be a checklist of {len(items)} items")
    if unknown:
        raise RuleViolation(rule, f"'{field}' has unknown items: {', '.join(map(str, unknown))}")
    missing = [key for key in items if key not in confirmed]
    if missing:
        labels = "; ".join(f"{key} ({items[key][0]} {items[key][1]})" for key in missing)
        raise RuleViolation(rule, f"'{field}' items not confirmed: {labels}")
    return list(items)


def team_auditor_ids(audit: Audit, *, include_experts: bool = True) -> set[int]:
    return {
        member.auditor_id
        for member in audit.team
        if include_experts or member.role != "tech_expert"
    }


def audit_indicator_set(session: Session, audit: Audit) -> IndicatorSet:
    """The set the audit is assessed against: the one it recorded, else the active one (pinned).

    Pinning on first use keeps an audit's findings and score on one version even when a process
    owner deploys a new version during the audit."""
    try:
        if audit.indicator_set:
            return indicator_set_by_label(session, audit.indicator_set)[1]
        row, indicator_set = active_indicator_set(session)
    except LookupError as err:
        raise RuleViolation("R-3", str(err)) from err
    audit.indicator_set = indicator_set_label(row)
    return indicator_set


def _stamp(ctx: HandlerContext, who: str = "recorded_by", when: str = "recorded_at") -> dict:
    return {who: ctx.actor, when: ctx.now.isoformat()}


# --- audit plan ---------------------------------------------------------------------------


@handler("audit.record_plan")
def record_plan(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-7.3: activities with dates, sites, times and the auditor doing each; every active site
    covered, every auditor on the team (not a technical expert, R-7.2.4), within the on-site
    dates."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    require_status(audit, ["planned"], "R-7.3", "record the audit plan")
    if audit.start_date is None or audit.end_date is None:
        raise RuleViolation("R-7.3", "the audit has no on-site dates: appoint the team first")
    activities = [
        _plan_activity(ctx.session, audit, index, raw)
        for index, raw in enumerate(require_list(params.get("activities"), "activities", "R-7.3"))
    ]
    _require_sites_covered(ctx.session, audit, activities)
    audit.plan = {
        "activities": activities,
        "revision": int((audit.plan or {}).get("revision", 0)) + 1,
        **_stamp(ctx),
    }
    return {}


def _plan_activity(session: Session, audit: Audit, index: int, raw: Any) -> dict:
    where = f"activities[{index}]"
    if not isinstance(raw, Mapping):
        raise RuleViolation("R-7.3", f"{where} must be an object")
    day = require_date(raw.get("date"), f"{where}.date", "R-7.3")
    if not audit.start_date <= day <= audit.end_date:
        raise RuleViolation(
            "R-7.3",
            f"{where}: {day} is outside the on-site dates {audit.start_date}–{audit.end_date}",
        )
    site = _site_of(session, audit, raw.get("site"), where)
    auditor_id = require_id(raw.get("auditor_id"), f"{where}.auditor_id")
    if auditor_id not in team_auditor_ids(audit, include_experts=False):
        raise RuleViolation(
            "R-7.3",
            f"{where}: auditor {auditor_id} is not an auditor of this audit's team "
            "(technical experts never audit, R-7.2.4)",
        )
    start = require_text(raw.get("start"), f"{where}.start", "R-7.3")
    try:
        datetime.strptime(start, "%H:%M")
    except ValueError as err:
        raise RuleViolation("R-7.3", f"{where}.start must be HH:MM, got {start!r}") from err
    duration = raw.get("duration_hours")
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0:
        raise RuleViolation("R-7.3", f"{where}.duration_hours must be a positive number")
    return {
        "date": day.isoformat(),
        "site": site.id,
        "site_name": site.name,
        "activity": require_text(raw.get("activity"), f"{where}.activity", "R-7.3"),
        "auditor_id": auditor_id,
        "start": start,
        "duration_hours": duration,
    }


def _site_of(session: Session, audit: Audit, value: Any, where: str) -> Site:
    site = session.get(Site, require_id(value, f"{where}.site"))
    if site is None or site.organisation_id != audit.organisation_id:
        raise RuleViolation("R-7.3", f"{where}: site {value!r} is not a site of the client")
    return site


def active_sites(session: Session, organisation_id: int) -> list[Site]:
    return list(
        session.scalars(
            select(Site)
            .where(Site.organisation_id == organisation_id, Site.active.is_(True))
            .order_by(Site.id)
        )
    )


def _require_sites_covered(session: Session, audit: Audit, activities: list[dict]) -> None:
    covered = {activity["site"] for activity in activities}
    missing = [
        site for site in active_sites(session, audit.organisation_id) if site.id not in covered
    ]
    if missing:
        names = ", ".join(f"{site.name} (#{site.id})" for site in missing)
        raise RuleViolation("R-7.3", f"the plan does not cover the active sites: {names}")


# --- document review, R-8.2/R-8.3 mystery shopping, R-8.4 training ----------------------


@handler("audit.record_document_review")
def record_document_review(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.1: the client's service management documents reviewed before the on-site audit;
    inadequate documents need findings (what the client has to revise)."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    require_status(audit, ["planned"], "R-8.1", "record the document review")
    documents = require_list(params.get("documents_reviewed"), "documents_reviewed", "R-8.1")
    if application_of(ctx.session, audit).kind == "recertification":
        _require_recertification_minimum(documents)
    adequate = is_true(params.get("adequate"))
    findings = optional_text(params.get("findings"))
    if not adequate and not findings:
        raise RuleViolation("R-8.1", "documents found inadequate need findings (what to revise)")
    history = list((audit.document_review or {}).get("history", []))
    entry = {
        "documents_reviewed": documents,
        "adequate": adequate,
        "findings": findings,
        **_stamp(ctx, "reviewed_by", "reviewed_at"),
    }
    audit.document_review = {**entry, "round": len(history) + 1, "history": [*history, entry]}
    return {"adequate": adequate}


def _covers(entry: Any, key: str) -> bool:
    if not isinstance(entry, str):
        return False
    text = entry.strip()
    zh = RECERTIFICATION_DOCUMENTS[key][0]
    return text == key or text.startswith((f"{key}:", f"{key} ", f"{key}：", zh))


def _require_recertification_minimum(documents: list[Any]) -> None:
    """R-8.1: a recertification's document review covers at least the service scope, the
    policy and objectives, the organisation and responsibilities and the required documented
    procedures."""
    missing = [
        key
        for key in RECERTIFICATION_DOCUMENTS
        if not any(_covers(entry, key) for entry in documents)
    ]
    if missing:
        wanted = "; ".join(
            f"{key} ({zh} {en})" for key, (zh, en) in RECERTIFICATION_DOCUMENTS.items()
        )
        raise RuleViolation(
            "R-8.1",
            f"a recertification's document review must cover {', '.join(missing)}; list each of "
            f"these in documents_reviewed by its key (alone or as 'key: title') or its Chinese "
            f"name: {wanted}",
        )


@handler("audit.record_mystery_shopping")
def record_mystery_shopping(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.2/R-8.3: the unannounced visit (who, when, what service, observations) and the
    optional random satisfaction survey, kept as a record Document with the case."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    require_status(audit, ["planned", "in_progress"], "R-8.2", "record mystery shopping")
    visit_date = require_not_future(
        require_date(params.get("visit_date"), "visit_date", "R-8.2"),
        "visit_date",
        "R-8.2",
        ctx.now,
    )
    record = {
        "visit_date": visit_date.isoformat(),
        "shopper": require_text(params.get("shopper"), "shopper", "R-8.2"),
        "service_experienced": require_text(
            params.get("service_experienced"), "service_experienced", "R-8.2"
        ),
        "observations": require_text(params.get("observations"), "observations", "R-8.2"),
        "random_survey": _random_survey(params),
    }
    application = application_of(ctx.session, audit)
    survey = record["random_survey"]
    create_document(
        ctx.session,
        kind=MYSTERY_SHOPPING_KIND,
        title=f"暗访及随机调查记录 Mystery shopping record — {application.number}",
        lines=[
            f"# 暗访及随机调查记录 Mystery shopping record — {application.number}",
            f"- 日期 Date: {record['visit_date']}",
            f"- 暗访人员 Shopper: {record['shopper']}",
            f"- 体验的服务 Service experienced: {record['service_experienced']}",
            f"- 观察 Observations: {record['observations']}",
            (
                f"- 随机调查 Random survey: {survey['satisfied_count']}/{survey['sample_size']} "
                "满意 satisfied"
                if survey["done"]
                else "- 随机调查 Random survey: 未进行 not done"
            ),
        ],
        organisation_id=audit.organisation_id,
        application_id=application.id,
        audit_id=audit.id,
        data={**record, **_stamp(ctx)},
        created_by=ctx.actor,
        now=ctx.now,
    )
    return {}


def _random_survey(params: dict[str, Any]) -> dict:
    """R-8.3: a survey needs a sample (≥ 1) and a satisfied count within it."""
    if not is_true(params.get("random_survey_done")):
        return {"done": False, "sample_size": None, "satisfied_count": None}
    size = require_int(params.get("survey_sample_size"), "survey_sample_size", "R-8.3", minimum=1)
    satisfied = require_int(params.get("satisfied_count"), "satisfied_count", "R-8.3", minimum=0)
    if satisfied > size:
        raise RuleViolation("R-8.3", f"satisfied_count ({satisfied}) exceeds the sample ({size})")
    return {"done": True, "sample_size": size, "satisfied_count": satisfied}


@handler("audit.record_training")
def record_training(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.4: pre-audit training attended by the whole team, before the on-site audit; laws and
    standards confirmed applicable, the CB's culture and audit requirements trained."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    require_status(audit, ["planned"], "R-8.4", "record the pre-audit training")
    training_date = require_not_future(
        require_date(params.get("training_date"), "training_date", "R-8.4"),
        "training_date",
        "R-8.4",
        ctx.now,
    )
    if audit.start_date and training_date > audit.start_date:
        raise RuleViolation(
            "R-8.4", f"training on {training_date} is after the on-site start {audit.start_date}"
        )
    attendees = {
        require_id(value, "attendees")
        for value in require_list(params.get("attendees"), "attendees", "R-8.4")
    }
    absent = sorted(team_auditor_ids(audit) - attendees)
    if absent:
        raise RuleViolation("R-8.4", f"team members did not attend: auditor ids {absent}")
    if not is_true(params.get("laws_standards_confirmed")):
        raise RuleViolation("R-8.4", "the applicability of laws and standards must be confirmed")
    if not is_true(params.get("culture_and_requirements_trained")):
        raise RuleViolation(
            "R-8.4", "the team leader must train the CB's culture and audit requirements"
        )
    audit.training = {
        "training_date": training_date.isoformat(),
        "trainer": require_text(params.get("trainer"), "trainer", "R-8.4"),
        "attendees": sorted(attendees),
        "laws_standards_confirmed": True,
        "culture_and_requirements_trained": True,
        "content": require_text(params.get("content"), "content", "R-8.4"),
        **_stamp(ctx),
    }
    return {}


# --- on-site audit -----------------------------------------------------------------------


@handler("audit.record_opening_meeting")
def record_opening_meeting(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.5.1: the opening meeting, chaired by the team leader, every checklist item confirmed;
    the audit is then in progress."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    require_status(audit, ["planned"], "R-8.5.1", "hold the opening meeting")
    if not (audit.plan or {}).get("activities"):
        raise RuleViolation("R-8.5.1", "there is no audit plan to confirm (R-7.3)")
    meeting_date = require_not_future(
        require_date(params.get("meeting_date"), "meeting_date", "R-8.5.1"),
        "meeting_date",
        "R-8.5.1",
        ctx.now,
    )
    if (
        audit.start_date
        and audit.end_date
        and not (audit.start_date <= meeting_date <= audit.end_date)
    ):
        raise RuleViolation(
            "R-8.5.1",
            f"meeting on {meeting_date} is outside the on-site dates "
            f"{audit.start_date}–{audit.end_date}",
        )
    checklist = checked_keys(params.get("checklist"), OPENING_MEETING_ITEMS, "checklist", "R-8.5.1")
    audit.opening_meeting = {
        "meeting_date": meeting_date.isoformat(),
        "attendees": require_list(params.get("attendees"), "attendees", "R-8.5.1"),
        "checklist": {key: True for key in checklist},
        "notes": optional_text(params.get("notes")),
        **_stamp(ctx, "chaired_by", "recorded_at"),
    }
    audit.status = "in_progress"
    return {}


@handler("audit.record_evidence")
def record_evidence(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.5.2/R-8.5.4: one audit day's findings against the indicator set; R-8.5.3: the daily
    communication with the client and any escalation to the audit department.

    A finding is `{"item_code", "method", "result", "sample_size", "failures", "evidence",
    "improvement_opportunity"}`; a later finding on the same item replaces the earlier one.
    Special deductions / bonus items are lists of codes (or `{"code", "evidence"}`), one entry
    per occurrence, kept as findings on the SD-/SB- code."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    require_status(audit, ["in_progress"], "R-8.5", "record evidence before the opening meeting")
    indicator_set = audit_indicator_set(ctx.session, audit)
    audit_day = require_not_future(
        require_date(params.get("audit_day"), "audit_day", "R-8.5.2"),
        "audit_day",
        "R-8.5.2",
        ctx.now,
    )
    if audit.start_date and audit_day < audit.start_date:
        raise RuleViolation("R-8.5.2", f"audit day {audit_day} is before the on-site start")
    findings = [
        _finding_entry(indicator_set, index, raw)
        for index, raw in enumerate(
            require_list(params.get("findings"), "findings", "R-8.5.2", allow_empty=True)
        )
    ]
    deductions = _special_entries(
        params.get("special_deductions"), indicator_set.special_deductions, "special_deductions"
    )
    bonus = _special_entries(
        params.get("special_bonus"), indicator_set.special_bonus, "special_bonus"
    )
    communication = require_text(
        params.get("daily_communication"), "daily_communication", "R-8.5.3"
    )
    escalation = _escalation(params)
    for entry in findings:
        _replace_finding(ctx, audit, entry)
    for code, evidence in deductions:
        _add_special_finding(ctx, audit, code, NONCONFORM, evidence)
    for code, evidence in bonus:
        _add_special_finding(ctx, audit, code, CONFORM, evidence)
    day_record = {
        "audit_day": audit_day.isoformat(),
        "daily_communication": communication,
        "random_survey": _onsite_random_survey(params.get("random_survey")),
        "finding_count": len(findings),
        "special_deductions": [code for code, _ in deductions],
        "special_bonus": [code for code, _ in bonus],
        "escalation": escalation["kind"],
        **_stamp(ctx),
    }
    audit.communications = [*(audit.communications or []), day_record]
    if escalation["kind"] != "none":
        audit.escalations = [
            *(audit.escalations or []),
            {
                **escalation,
                "audit_day": audit_day.isoformat(),
                **_stamp(ctx, "raised_by", "raised_at"),
            },
        ]
    return {"escalation": escalation["kind"], "more_days": is_true(params.get("more_days"))}


def _finding_entry(indicator_set: IndicatorSet, index: int, raw: Any) -> dict:
    where = f"findings[{index}]"
    if not isinstance(raw, Mapping):
        raise RuleViolation("R-8.5.2", f"{where} must be an object")
    code = raw.get("item_code")
    try:
        item = indicator_set.item(code)
    except KeyError as err:
        raise RuleViolation(
            "R-8.5.4",
            f"{where}: item {code!r} is not in indicator set {indicator_set_label(indicator_set)}",
        ) from err
    method = raw.get("method")
    if method not in AUDIT_METHODS:
        raise RuleViolation("R-8.5.2", f"{where}: method must be one of {AUDIT_METHODS}")
    result = raw.get("result")
    if result not in RESULT_VALUES:
        raise RuleViolation("R-8.5.4", f"{where}: result must be one of {RESULT_VALUES}")
    sample_size = failures = None
    if result == RESULT_SAMPLED:
        if item.kind != SAMPLED:
            raise RuleViolation("R-3", f"{where}: item {code} is qualitative; it is not sampled")
        sample_size = require_int(
            raw.get("sample_size"), f"{where}.sample_size", "R-8.5.2", minimum=1
        )
        failures = require_int(raw.get("failures"), f"{where}.failures", "R-8.5.2", minimum=0)
        if failures > sample_size:
            raise RuleViolation("R-8.5.2", f"{where}: failures exceed the sample size")
    evidence = optional_text(raw.get("evidence"))
    opportunity = optional_text(raw.get("improvement_opportunity"))
    deduction = result == NONCONFORM or (result == RESULT_SAMPLED and failures)
    if deduction and not evidence:
        raise RuleViolation(
            "R-8.5.4", f"{where}: a deduction on item {code} needs objective evidence in detail"
        )
    if deduction and opportunity:
        raise RuleViolation(
            "R-8.5.4",
            f"{where}: item {code} is a deduction item (扣分项); an improvement opportunity may "
            "not be recorded on it — record the nonconformity instead",
        )
    return {
        "item_code": code,
        "method": method,
        "result": result,
        "sample_size": sample_size,
        "failures": failures,
        "evidence": evidence,
        "improvement_opportunity": opportunity,
    }


def _special_entries(value: Any, known: Iterable[Any], field: str) -> list[tuple[str, str]]:
    codes = {special.code for special in known}
    entries = []
    for index, raw in enumerate(require_list(value, field, "R-3", allow_empty=True)):
        code, evidence = (
            (raw.get("code"), optional_text(raw.get("evidence")))
            if isinstance(raw, Mapping)
            else (raw, "")
        )
        if code not in codes:
            raise RuleViolation("R-3", f"{field}[{index}]: {code!r} is not one of {sorted(codes)}")
        entries.append((code, evidence))
    return entries


def _onsite_random_survey(value: Any) -> dict | None:
    """R-8.3: a random survey on site, `{"sample_size", "satisfied_count"}`, or None."""
    if not value:
        return None
    if not isinstance(value, Mapping):
        raise RuleViolation("R-8.3", "random_survey must be an object or null")
    return _random_survey(
        {
            "random_survey_done": True,
            "survey_sample_size": value.get("sample_size"),
            "satisfied_count": value.get("satisfied_count"),
        }
    )


def _escalation(params: dict[str, Any]) -> dict:
    """R-8.5.3 (a)/(b): what the leader reports to the audit department, with details; a
    proposed termination names one of the R-8.5.6 reasons."""
    kind = params.get("escalation") or "none"
    if kind not in ESCALATIONS:
        raise RuleViolation("R-8.5.3", f"escalation must be one of {ESCALATIONS}, got {kind!r}")
    reason = params.get("terminate_reason") or None
    if kind == "none":
        if reason:
            raise RuleViolation(
                "R-8.5.6", "a termination must be escalated to the audit department"
            )
        return {"kind": "none"}
    if (kind == "terminate_request" or reason is not None) and reason not in TERMINATION_REASONS:
        raise RuleViolation("R-8.5.6", f"terminate_reason must be one of {TERMINATION_REASONS}")
    return {
        "kind": kind,
        "details": require_text(params.get("escalation_details"), "escalation_details", "R-8.5.3"),
        "terminate_reason": reason,
    }


def _replace_finding(ctx: HandlerContext, audit: Audit, entry: dict) -> None:
    for earlier in ctx.session.scalars(
        select(Finding).where(Finding.audit_id == audit.id, Finding.item_code == entry["item_code"])
    ):
        ctx.session.delete(earlier)
    ctx.session.add(Finding(audit_id=audit.id, recorded_by=ctx.actor, recorded_at=ctx.now, **entry))
    ctx.session.flush()


def _add_special_finding(
    ctx: HandlerContext, audit: Audit, code: str, result: str, evidence: str
) -> None:
    ctx.session.add(
        Finding(
            audit_id=audit.id,
            item_code=code,
            method="records",
            result=result,
            evidence=evidence,
            recorded_by=ctx.actor,
            recorded_at=ctx.now,
        )
    )
    ctx.session.flush()


@handler("audit.record_escalation_decision")
def record_escalation_decision(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.5.3: the audit department decides on the pending escalation; a scope change needs the
    market department's agreement (b); a termination names an R-8.5.6 reason."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    require_status(audit, ["in_progress"], "R-8.5.3", "decide an escalation")
    escalations = list(audit.escalations or [])
    pending = next(
        (i for i in reversed(range(len(escalations))) if "decision" not in escalations[i]), None
    )
    if pending is None:
        raise RuleViolation("R-8.5.3", "there is no escalation waiting for a decision")
    decision = params.get("decision")
    if decision not in ESCALATION_DECISIONS:
        raise RuleViolation("R-8.5.3", f"decision must be one of {ESCALATION_DECISIONS}")
    if decision == "change_scope" and not is_true(params.get("market_agreed")):
        raise RuleViolation(
            "R-8.5.3", "a scope change is decided together with the market department"
        )
    reason = params.get("termination_reason") or None
    if decision == "terminate" and reason not in TERMINATION_REASONS:
        raise RuleViolation(
            "R-8.5.6", f"a termination needs one of the reasons {TERMINATION_REASONS}"
        )
    escalations[pending] = {
        **escalations[pending],
        "decision": decision,
        "market_agreed": is_true(params.get("market_agreed")),
        "termination_reason": reason if decision == "terminate" else None,
        "notes": optional_text(params.get("notes")),
        **_stamp(ctx, "decided_by", "decided_at"),
    }
    audit.escalations = escalations
    return {"decision": decision}


@handler("audit.terminate")
def terminate(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.5.6: terminate the audit, with the audit department's approval and a listed reason."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    require_status(audit, ["planned", "in_progress"], "R-8.5.6", "terminate the audit")
    reason = params.get("reason")
    if reason not in TERMINATION_REASONS:
        raise RuleViolation(
            "R-8.5.6",
            f"an audit is terminated only for one of {TERMINATION_REASONS}, got {reason!r}",
        )
    decided = [entry for entry in audit.escalations or [] if "decision" in entry]
    if not decided or decided[-1]["decision"] != "terminate":
        raise RuleViolation("R-8.5.6", "the audit department has not approved a termination")
    audit.status = "terminated"
    audit.termination_reason = reason
    audit.terminated_at = ctx.now
    return {"terminated": True}


@handler("audit.compute_score")
def compute_score(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-3: score the audit's findings (latest finding per item) against its indicator set."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    require_status(audit, ["in_progress"], "R-3", "score the audit")
    indicator_set = audit_indicator_set(ctx.session, audit)
    results, deductions, bonus = findings_for_scoring(ctx.session, audit, indicator_set)
    try:
        scored = score_audit(indicator_set, results, deductions, bonus)
    except ValueError as err:
        raise RuleViolation("R-3", str(err)) from err
    audit.score = Decimal(str(scored.score))
    audit.final_score = Decimal(str(scored.final_score))
    audit.special_deductions = scored.special_deduction_count
    return {
        "score": scored.score,
        "final_score": scored.final_score,
        "special_deductions": scored.special_deduction_count,
        "bonus_applied": scored.bonus_applied,
    }


def latest_findings(session: Session, audit: Audit) -> list[Finding]:
    return list(
        session.scalars(
            select(Finding)
            .where(Finding.audit_id == audit.id)
            .order_by(Finding.recorded_at, Finding.id)
        )
    )


def findings_for_scoring(
    session: Session, audit: Audit, indicator_set: IndicatorSet
) -> tuple[list[dict], list[str], list[str]]:
    """One result per item (the latest finding wins) and the special codes, one per occurrence."""
    item_codes = {item.code for item in indicator_set.items}
    deduction_codes = {special.code for special in indicator_set.special_deductions}
    bonus_codes = {special.code for special in indicator_set.special_bonus}
    results: dict[str, dict] = {}
    deductions: list[str] = []
    bonus: list[str] = []
    for finding in latest_findings(session, audit):
        if finding.item_code in deduction_codes:
            deductions.append(finding.item_code)
        elif finding.item_code in bonus_codes:
            bonus.append(finding.item_code)
        elif finding.item_code in item_codes:
            results[finding.item_code] = {
                "item": finding.item_code,
                "result": finding.result,
                "sample_size": finding.sample_size,
                "failures": finding.failures,
            }
    return list(results.values()), deductions, bonus


# --- conclusion, R-8.5.7 closing meeting ---------------------------------------------


@handler("audit.record_conclusion")
def record_conclusion(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.5.5: the team's conclusion, consistent with the star level reached and the level
    requested; R-8.7: the nonconformities found (NC-1 …); R-13: who concluded and when.

    - `recommend`: star_level ≥ 1 and (≥ the requested level, or nonconformities whose
      correction is expected to reach the requested level — recorded as a conditional
      recommendation);
    - `downgrade`: the client asked for it and 1 ≤ star_level < requested level;
    - `not_recommend`: required when star_level is 0; with 0 < star_level < requested it is
      allowed when the client asked for no downgrade (the reason — requested level not met — is
      recorded); refused when the requested level is met.
    """
    audit = get_audit(ctx.session, params.get("audit_id"))
    require_status(audit, ["in_progress"], "R-8.5.5", "record the conclusion")
    if audit.conclusion is not None:
        raise RuleViolation("R-8.5.5", f"audit {audit.id} already has a conclusion")
    if audit.final_score is None:
        raise RuleViolation("R-8.5.5", "the audit has not been scored (R-3) yet")
    star_level = require_int(params.get("star_level"), "star_level", "R-5", minimum=0)
    if star_level > 5:
        raise RuleViolation("R-5", f"star_level must be 0–5, got {star_level}")
    conclusion = params.get("conclusion")
    if conclusion not in CONCLUSIONS:
        raise RuleViolation("R-8.5.5", f"conclusion must be one of {CONCLUSIONS}")
    application = application_of(ctx.session, audit)
    requested, reference = reference_level(ctx.session, audit, application)
    indicator_set = audit_indicator_set(ctx.session, audit)
    nonconformities = [
        _nonconformity_entry(indicator_set, index, raw)
        for index, raw in enumerate(
            require_list(
                params.get("nonconformities"), "nonconformities", "R-8.7", allow_empty=True
            )
        )
    ]
    downgrade_requested = is_true(params.get("downgrade_requested"))
    reason = _check_conclusion(
        conclusion, star_level, requested, downgrade_requested, nonconformities, reference
    )
    _create_nonconformities(ctx.session, audit, nonconformities)
    audit.star_level_achieved = star_level
    audit.conclusion = conclusion
    audit.conclusion_notes = {
        "requested_level": application.requested_level,
        "reference_level": requested,
        "reference": reference,
        "downgrade_requested": downgrade_requested,
        "conditional_on_corrections": conclusion == "recommend" and star_level < requested,
        "reason": reason,
        "follow_up": optional_text(params.get("follow_up")),
        "programme_adjustments": optional_text(params.get("programme_adjustments")),
        "disagreements": optional_text(params.get("disagreements")),
    }
    audit.concluded_by = ctx.actor
    audit.concluded_at = ctx.now
    return {
        "terminated": False,
        "conclusion": conclusion,
        "star_level": star_level,
        "nonconformity_count": len(nonconformities),
    }


def reference_level(session: Session, audit: Audit, application: Application) -> tuple[int, str]:
    """The level a conclusion is measured against, and its name: for a surveillance audit the
    level the certificate holds now (R-8.10.2, R-8.10.3) — so for any audit of a certificate
    (a special audit for a new site too, R-9.4.1) — otherwise the level applied for."""
    if audit.certificate_id is not None:
        certificate = current_certificate(session, get_certificate(session, audit.certificate_id))
        return certificate.star_level, "held"
    return application.requested_level, "requested"


def _check_conclusion(
    conclusion: str,
    star_level: int,
    requested: int,
    downgrade_requested: bool,
    nonconformities: list[dict],
    reference: str = "requested",
) -> str:
    """Refuse a conclusion that does not fit the level reached (R-8.5.5); return its reason.

    `requested` is the reference level: the level applied for, or (reference "held") the level
    a surveillance audit's certificate holds (R-8.10.3)."""
    if star_level == 0 and conclusion != "not_recommend":
        raise RuleViolation("R-8.5.5", "no star level was reached: the conclusion is not_recommend")
    if conclusion == "recommend":
        if star_level >= requested:
            return f"{reference} level {requested} met (level {star_level} reached)"
        if not nonconformities:
            raise RuleViolation(
                "R-8.5.5",
                f"level {star_level} is below the {reference} level {requested} and no "
                "nonconformities are to be corrected: recommend a downgrade (on the client's "
                "request) or do not recommend",
            )
        return (
            f"level {star_level} reached; {reference} level {requested} recommended once the "
            f"{len(nonconformities)} nonconformities are corrected"
        )
    if conclusion == "downgrade":
        if not downgrade_requested:
            raise RuleViolation(
                "R-8.5.5", "a downgrade is recommended only on the client's request"
            )
        if not 1 <= star_level < requested:
            raise RuleViolation(
                "R-8.5.5",
                f"a downgrade needs 1 ≤ star level < {reference} level {requested}, "
                f"got {star_level}",
            )
        return f"downgrade requested by the client: level {star_level} instead of {requested}"
    if star_level >= requested:
        raise RuleViolation(
            "R-8.5.5", f"the {reference} level {requested} is met (level {star_level}): recommend"
        )
    if star_level > 0 and downgrade_requested:
        raise RuleViolation(
            "R-8.5.5",
            f"the client asked for a downgrade and level {star_level} is met: recommend the "
            "downgrade",
        )
    if star_level == 0:
        return "below the lowest star level"
    return f"{reference} level {requested} not met (level {star_level}); no downgrade requested"


def _nonconformity_entry(indicator_set: IndicatorSet, index: int, raw: Any) -> dict:
    where = f"nonconformities[{index}]"
    if not isinstance(raw, Mapping):
        raise RuleViolation("R-8.7", f"{where} must be an object")
    code = raw.get("item_code")
    known = {item.code for item in indicator_set.items} | {
        special.code for special in indicator_set.special_deductions
    }
    if code not in known:
        raise RuleViolation(
            "R-8.5.4", f"{where}: {code!r} is not a requirement of the indicator set"
        )
    return {
        "item_code": code,
        "description": require_text(raw.get("description"), f"{where}.description", "R-8.5.4"),
        "evidence": require_text(raw.get("evidence"), f"{where}.evidence", "R-8.5.4"),
    }


def _create_nonconformities(session: Session, audit: Audit, entries: list[dict]) -> None:
    start = len(audit.nonconformities)
    for offset, entry in enumerate(entries, start=1):
        audit.nonconformities.append(
            Nonconformity(audit_id=audit.id, number=f"NC-{start + offset}", status="open", **entry)
        )
    session.flush()


@handler("audit.record_closing_meeting")
def record_closing_meeting(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.5.7: the closing meeting after the conclusion, items a–e covered, attendance and
    unresolved disagreements recorded; the audit is completed."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    require_status(audit, ["in_progress"], "R-8.5.7", "hold the closing meeting")
    if audit.conclusion is None:
        raise RuleViolation("R-8.5.5", "the conclusion is made before the closing meeting")
    meeting_date = require_not_future(
        require_date(params.get("meeting_date"), "meeting_date", "R-8.5.7"),
        "meeting_date",
        "R-8.5.7",
        ctx.now,
    )
    items = checked_keys(
        params.get("items_covered"), CLOSING_MEETING_ITEMS, "items_covered", "R-8.5.7"
    )
    audit.closing_meeting = {
        "meeting_date": meeting_date.isoformat(),
        "attendees": require_list(params.get("attendees"), "attendees", "R-8.5.7"),
        "items_covered": {key: True for key in items},
        "client_questions": optional_text(params.get("client_questions")),
        "disagreements": optional_text(params.get("disagreements")),
        **_stamp(ctx, "chaired_by", "recorded_at"),
    }
    audit.status = "completed"
    return {}


# --- audit report -------------------------------------------------------------------------


@handler("audit.record_report_receipt")
def record_report_receipt(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.6: evidence that the client received the audit report."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    report = latest_report(ctx.session, audit.id)
    if report is None:
        raise RuleViolation("R-8.6", "no audit report has been issued for this audit")
    received_on = require_not_future(
        require_date(params.get("received_on"), "received_on", "R-8.6"),
        "received_on",
        "R-8.6",
        ctx.now,
    )
    if received_on < china_date(report.created_at):
        raise RuleViolation("R-8.6", f"received on {received_on}, before the report was issued")
    audit.report_received_by = require_text(params.get("received_by"), "received_by", "R-8.6")
    audit.report_received_on = received_on
    return {}


def latest_report(session: Session, audit_id: int) -> Document | None:
    return session.scalars(
        select(Document)
        .where(Document.audit_id == audit_id, Document.kind == REPORT_KIND)
        .order_by(Document.id.desc())
        .limit(1)
    ).first()


@handler("notices.audit_report")
def audit_report(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.6: the written audit report with contents (1)–(7), stored with the case; `data` holds
    the same facts structured."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    require_status(audit, ["completed"], "R-8.6", "issue the audit report")
    application = application_of(ctx.session, audit)
    data = report_data(ctx.session, audit, application)
    document = create_document(
        ctx.session,
        kind=REPORT_KIND,
        title=f"审查报告 Audit report — {application.number}",
        lines=report_lines(data),
        organisation_id=audit.organisation_id,
        application_id=application.id,
        audit_id=audit.id,
        data=data,
        created_by=ctx.actor,
        now=ctx.now,
    )
    return {"document_id": document.id}


def report_data(session: Session, audit: Audit, application: Application) -> dict:
    organisation = application.organisation
    indicator_set = audit_indicator_set(session, audit)
    notes = audit.conclusion_notes or {}
    return {
        "application_number": application.number,
        "audit_id": audit.id,
        # (1) client name and address
        "client": {"name": organisation.name, "address": organisation.address},
        # (2) scope and sites
        "scope": audit.scope or application.scope,
        "sites": [
            {"id": site.id, "name": site.name, "address": site.address}
            for site in active_sites(session, audit.organisation_id)
        ],
        # (3) audit type, criteria, objectives
        "audit_type": audit.kind,
        "criteria": audit.criteria or DEFAULT_CRITERIA,
        "objectives": audit.objectives,
        # (4) team leader and members with registration numbers
        "team": [
            {
                "name": member.auditor.name,
                "role": member.role,
                "registration_number": member.auditor.registration_number,
            }
            for member in audit.team
        ],
        # (5) dates and places, deviations from the plan, uncertainty
        "dates": {
            "start": _iso(audit.start_date),
            "end": _iso(audit.end_date),
            "audit_days": sorted({day["audit_day"] for day in audit.communications or []}),
        },
        "places": sorted(
            {activity["site_name"] for activity in (audit.plan or {}).get("activities", [])}
        ),
        "deviations": [
            {
                "kind": entry.get("kind"),
                "details": entry.get("details"),
                "decision": entry.get("decision"),
                "notes": entry.get("notes", ""),
            }
            for entry in audit.escalations or []
            if entry.get("decision") in ("modify_plan", "change_scope")
        ],
        "uncertainty": UNCERTAINTY_STATEMENT,
        # (6) narrative of the audit and of each requirement
        "narrative": _narrative(session, audit, indicator_set),
        # (7) the team's recommendation
        "recommendation": {
            "conclusion": audit.conclusion,
            "star_level": audit.star_level_achieved,
            "requested_level": notes.get("requested_level", application.requested_level),
            "reason": notes.get("reason", ""),
            "follow_up": notes.get("follow_up", ""),
            "programme_adjustments": notes.get("programme_adjustments", ""),
            "concluded_by": audit.concluded_by,
            "concluded_at": audit.concluded_at.isoformat() if audit.concluded_at else None,
        },
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _narrative(session: Session, audit: Audit, indicator_set: IndicatorSet) -> dict:
    latest: dict[str, Finding] = {}
    deductions, bonus = [], []
    special_deductions = {special.code: special for special in indicator_set.special_deductions}
    special_bonus = {special.code: special for special in indicator_set.special_bonus}
    for finding in latest_findings(session, audit):
        if finding.item_code in special_deductions:
            deductions.append(_special_line(special_deductions[finding.item_code], finding))
        elif finding.item_code in special_bonus:
            bonus.append(_special_line(special_bonus[finding.item_code], finding))
        else:
            latest[finding.item_code] = finding
    requirements = []
    for second in indicator_set.second_levels:
        for item in second.items:
            finding = latest.get(item.code)
            requirements.append(
                {
                    "item_code": item.code,
                    "indicator": f"{second.name_zh} {second.name_en}",
                    "text_zh": item.text_zh,
                    "text_en": item.text_en,
                    "result": finding.result if finding else None,
                    "method": finding.method if finding else None,
                    "sample_size": finding.sample_size if finding else None,
                    "failures": finding.failures if finding else None,
                    "evidence": finding.evidence if finding else "",
                    "improvement_opportunity": finding.improvement_opportunity if finding else "",
                }
            )
    mystery = session.scalars(
        select(Document)
        .where(Document.audit_id == audit.id, Document.kind == MYSTERY_SHOPPING_KIND)
        .order_by(Document.id)
    ).all()
    return {
        "document_review": (audit.document_review or {}).get("findings", ""),
        "mystery_shopping": [document.data for document in mystery],
        "opening_meeting": (audit.opening_meeting or {}).get("meeting_date"),
        "daily_communications": [
            {"audit_day": day["audit_day"], "communication": day["daily_communication"]}
            for day in audit.communications or []
        ],
        "requirements": requirements,
        "special_deductions": deductions,
        "special_bonus": bonus,
        "nonconformities": [
            {
                "number": nc.number,
                "item_code": nc.item_code,
                "description": nc.description,
                "evidence": nc.evidence,
            }
            for nc in audit.nonconformities
        ],
        "indicator_set": audit.indicator_set,
        "score": float(audit.score) if audit.score is not None else None,
        "final_score": float(audit.final_score) if audit.final_score is not None else None,
        "special_deduction_count": audit.special_deductions,
        "disagreements": [
            text
            for text in (
                (audit.conclusion_notes or {}).get("disagreements", ""),
                (audit.closing_meeting or {}).get("disagreements", ""),
            )
            if text
        ],
    }


def _special_line(special: Any, finding: Finding) -> dict:
    return {
        "code": special.code,
        "text_zh": special.text_zh,
        "text_en": special.text_en,
        "evidence": finding.evidence,
    }


def report_lines(data: dict) -> list[str]:
    narrative, recommendation = data["narrative"], data["recommendation"]
    team = data["team"]
    lines = [
        f"# 审查报告 Audit report — {data['application_number']}",
        "",
        "## 1 受审查方 Client",
        f"- {data['client']['name']}",
        f"- {data['client']['address']}",
        "",
        "## 2 认证范围和场所 Scope and sites",
        f"- 范围 Scope: {data['scope']}",
        *(f"- 场所 Site: {site['name']}，{site['address']}" for site in data["sites"]),
        "",
        "## 3 审查类型、准则和目的 Audit type, criteria, objectives",
        f"- 类型 Type: {AUDIT_KIND_LABELS.get(data['audit_type'], data['audit_type'])}",
        f"- 准则 Criteria: {data['criteria']}",
        f"- 目的 Objectives: {data['objectives'] or '—'}",
        "",
        "## 4 审查组 Audit team",
        *(
            f"- {member['name']} ({_ROLE_LABELS.get(member['role'], member['role'])}) "
            f"注册号 Registration: {member['registration_number'] or '—'}"
            for member in team
        ),
        "",
        "## 5 日期、地点、偏离与不确定性 Dates, places, deviations, uncertainty",
        f"- 现场审查 On site: {data['dates']['start']} – {data['dates']['end']}",
        f"- 审查日 Audit days: {', '.join(data['dates']['audit_days']) or '—'}",
        f"- 地点 Places: {', '.join(data['places']) or '—'}",
        *(
            [
                f"- 偏离计划 Deviation: {d['kind']} → {d['decision']} {d['details']}"
                for d in data["deviations"]
            ]
            or ["- 偏离计划 Deviations from the plan: 无 none"]
        ),
        f"- {data['uncertainty']}",
        "",
        "## 6 审查过程与发现 Narrative and findings",
        f"- 指标体系 Indicator set: {narrative['indicator_set']}",
        f"- 得分 Score: {narrative['score']}; 最终得分 Final score: {narrative['final_score']}; "
        f"特别扣分项 Special deductions: {narrative['special_deduction_count']}",
        *(
            f"- {req['item_code']} {req['text_zh']}: {req['result'] or '—'}"
            + (f"; {req['evidence']}" if req["evidence"] else "")
            + (
                f"; 改进机会 Improvement opportunity: {req['improvement_opportunity']}"
                if req["improvement_opportunity"]
                else ""
            )
            for req in narrative["requirements"]
        ),
        *(
            f"- 特别扣分项 {item['code']} {item['text_zh']}: {item['evidence']}"
            for item in narrative["special_deductions"]
        ),
        *(
            f"- 特别加分项 {item['code']} {item['text_zh']}: {item['evidence']}"
            for item in narrative["special_bonus"]
        ),
        *(
            f"- 不符合 Nonconformity {nc['number']} ({nc['item_code']}): {nc['description']} — "
            f"{nc['evidence']}"
            for nc in narrative["nonconformities"]
        ),
        *(f"- 未解决的分歧 Unresolved disagreement: {text}" for text in narrative["disagreements"]),
        "",
        "## 7 审查组推荐意见 Team recommendation",
        f"- {_CONCLUSION_LABELS.get(recommendation['conclusion'], recommendation['conclusion'])}",
        f"- 星级 Star level: {recommendation['star_level']} "
        f"(申请 requested: {recommendation['requested_level']})",
        f"- {recommendation['reason']}",
    ]
    return lines


_ROLE_LABELS = {
    "leader": "组长 leader",
    "auditor": "审查员 auditor",
    "tech_expert": "技术专家 expert",
}
_CONCLUSION_LABELS = {
    "recommend": "推荐认证 Recommend certification",
    "downgrade": "推荐降级认证 Recommend a downgrade",
    "not_recommend": "不推荐认证 Do not recommend",
}


@validator("conclusion_fits_score")
def conclusion_fits_score(ctx: GuardContext) -> dict[str, list[str]]:
    """The conclusion form's data against R-8.5.5 before the task completes (422); the handler
    audit.record_conclusion enforces the same rule again when it records it."""
    data = ctx.data
    audit = get_audit(ctx.session, data.get("audit_id"))
    level, reference = reference_level(ctx.session, audit, application_of(ctx.session, audit))
    try:
        _check_conclusion(
            data.get("conclusion"),
            int(data.get("star_level") or 0),
            level,
            is_true(data.get("downgrade_requested")),
            list(data.get("nonconformities") or []),
            reference,
        )
    except RuleViolation as err:
        return {"conclusion": [str(err)]}
    return {}
