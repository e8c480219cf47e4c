"""One audit day on site (R-8.5.2 … R-8.5.4, R-8.3, R-3): findings against the indicator set,
special deductions and bonus items, the on-site random survey, the daily communication with the
client and an escalation to the audit department (R-8.5.3, R-8.5.6)."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from domain.acting import Acting, stamp
from domain.audit.common import audit_indicator_set, get_audit, require_status
from domain.audit.onsite import TERMINATION_REASONS
from domain.audit.preparation import random_survey
from domain.checks import (
    optional_text,
    require_int,
    require_list,
    require_past_date,
    require_text,
)
from domain.errors import RuleViolation
from domain.indicators import indicator_set_label
from domain.models import Audit, Finding
from domain.scoring import (
    CONFORM,
    NONCONFORM,
    RESULT_SAMPLED,
    RESULT_VALUES,
    SAMPLED,
    IndicatorSet,
)

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


def record_evidence(
    act: Acting,
    audit_id: int,
    *,
    audit_day: Any,
    findings: Any,
    special_deductions: Any,
    special_bonus: Any,
    random_survey: Any,
    daily_communication: Any,
    escalation: Any,
    escalation_details: Any,
    terminate_reason: Any,
) -> str:
    """R-8.5.2/R-8.5.4: one audit day's findings against the indicator set; R-8.5.3: the daily
    communication with the client and any escalation to the audit department. Returns the kind
    of escalation ("none" when there is nothing to escalate).

    A finding is `{"item_code", "method", "result", "sample_size", "failures", "evidence",
    "improvement_opportunity"}`; a later finding on the same item replaces the earlier one.
    Special deductions / bonus items are lists of codes (or `{"code", "evidence"}`), one entry
    per occurrence, kept as findings on the SD-/SB- code."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["in_progress"], "R-8.5", "record evidence before the opening meeting")
    indicator_set = audit_indicator_set(act.session, audit)
    day = check_evidence_day(audit, audit_day, act.now)
    entries, deductions, bonus = check_findings(
        indicator_set, findings, special_deductions, special_bonus
    )
    communication = require_text(daily_communication, "daily_communication", "R-8.5.3")
    raised = check_escalation(escalation, escalation_details, terminate_reason)
    _replace_findings(act, audit, entries)
    for code, evidence in deductions:
        _add_special_finding(act, audit, code, NONCONFORM, evidence)
    for code, evidence in bonus:
        _add_special_finding(act, audit, code, CONFORM, evidence)
    act.session.flush()
    day_record = {
        "audit_day": day.isoformat(),
        "daily_communication": communication,
        "random_survey": _onsite_random_survey(random_survey),
        "finding_count": len(entries),
        "special_deductions": [code for code, _ in deductions],
        "special_bonus": [code for code, _ in bonus],
        "escalation": raised["kind"],
        **stamp(act),
    }
    audit.communications = [*(audit.communications or []), day_record]
    if raised["kind"] != "none":
        audit.escalations = [
            *(audit.escalations or []),
            {**raised, "audit_day": day.isoformat(), **stamp(act, "raised_by", "raised_at")},
        ]
    return raised["kind"]


def check_evidence_day(audit: Audit, audit_day: Any, now: datetime) -> date:
    """R-8.5.2: the audit day has happened and is not before the on-site start (form check
    `audit.evidence_fits` and record_evidence)."""
    day = require_past_date(audit_day, "audit_day", "R-8.5.2", now)
    if audit.start_date and day < audit.start_date:
        raise RuleViolation(
            "R-8.5.2",
            f"审查日 {day} 早于现场审查开始日 {audit.start_date} "
            f"audit day {day} is before the on-site start",
            field="audit_day",
        )
    return day


def check_findings(
    indicator_set: IndicatorSet, findings: Any, special_deductions: Any, special_bonus: Any
) -> tuple[list[dict], list[tuple[str, str]], list[tuple[str, str]]]:
    """R-8.5.2/R-8.5.4, R-3: each finding against the indicator set (a RowViolation names the
    row's field); the special items known."""
    entries = [
        finding_entry(indicator_set, index, raw)
        for index, raw in enumerate(require_list(findings, "findings", "R-8.5.2", allow_empty=True))
    ]
    deductions = special_entries(
        special_deductions, indicator_set.special_deductions, "special_deductions"
    )
    bonus = special_entries(special_bonus, indicator_set.special_bonus, "special_bonus")
    return entries, deductions, bonus


class RowViolation(RuleViolation):
    """A rule broken by one field of one submitted row; `field` is its form path
    ("findings/3/failures"), so a submit-time check can show it next to the field."""

    def __init__(self, rule: str, message: str, field: str) -> None:
        super().__init__(rule, message)
        self.field = field


def evidence_problems(session: Session, data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The evidence form's rows against the rules record_evidence applies (R-8.5.2, R-8.5.4,
    R-3), as field errors before the task completes (422); the same `finding_entry` and
    `special_entries` run again when the handler records the day."""
    audit = get_audit(session, data.get("audit_id"))
    indicator_set = audit_indicator_set(session, audit)
    problems: dict[str, list[str]] = {}
    findings = data.get("findings")
    for index, raw in enumerate(findings if isinstance(findings, list) else []):
        try:
            finding_entry(indicator_set, index, raw)
        except RowViolation as err:
            problems.setdefault(err.field, []).append(str(err))
    for field, known in (
        ("special_deductions", indicator_set.special_deductions),
        ("special_bonus", indicator_set.special_bonus),
    ):
        entries = data.get(field)
        for index, raw in enumerate(entries if isinstance(entries, list) else []):
            try:
                special_entries([raw], known, field)
            except RuleViolation as err:
                problems.setdefault(f"{field}/{index}/code", []).append(str(err))
    return problems


def finding_entry(indicator_set: IndicatorSet, index: int, raw: Any) -> dict:
    """One finding row checked against the set (R-8.5.2, R-8.5.4, R-3); RowViolation names the
    row's field."""
    where = f"findings/{index}"
    if not isinstance(raw, Mapping):
        raise RowViolation("R-8.5.2", "a finding must be an object", where)
    code = raw.get("item_code")
    try:
        item = indicator_set.item(code)
    except KeyError as err:
        raise RowViolation(
            "R-8.5.4",
            f"item {code!r} is not in indicator set {indicator_set_label(indicator_set)}",
            f"{where}/item_code",
        ) from err
    method = raw.get("method")
    if method not in AUDIT_METHODS:
        raise RowViolation(
            "R-8.5.2", f"the method must be one of {AUDIT_METHODS}", f"{where}/method"
        )
    result = raw.get("result")
    if result not in RESULT_VALUES:
        raise RowViolation(
            "R-8.5.4", f"the result must be one of {RESULT_VALUES}", f"{where}/result"
        )
    sample_size = failures = None
    if result == RESULT_SAMPLED:
        if item.kind != SAMPLED:
            raise RowViolation(
                "R-3",
                f"item {code} is assessed as a whole (qualitative); it cannot be sampled — "
                "choose conform or nonconform",
                f"{where}/result",
            )
        sample_size = _row_int(raw.get("sample_size"), f"{where}/sample_size", 1)
        failures = _row_int(raw.get("failures"), f"{where}/failures", 0)
        if failures > sample_size:
            raise RowViolation(
                "R-8.5.2",
                f"the failures ({failures}) exceed the sample size ({sample_size})",
                f"{where}/failures",
            )
    evidence = optional_text(raw.get("evidence"))
    opportunity = optional_text(raw.get("improvement_opportunity"))
    files = _evidence_files(raw.get("evidence_files"), f"{where}/evidence_files")
    deduction = result == NONCONFORM or (result == RESULT_SAMPLED and failures)
    if deduction and not evidence:
        raise RowViolation(
            "R-8.5.4",
            f"a deduction on item {code} needs the objective evidence in detail",
            f"{where}/evidence",
        )
    if deduction and opportunity:
        raise RowViolation(
            "R-8.5.4",
            f"item {code} is a deduction item (扣分项); an improvement opportunity may not be "
            "recorded on it — record the nonconformity instead",
            f"{where}/improvement_opportunity",
        )
    return {
        "item_code": code,
        "method": method,
        "result": result,
        "sample_size": sample_size,
        "failures": failures,
        "evidence": evidence,
        "improvement_opportunity": opportunity,
        "evidence_files": files,
    }


def _evidence_files(value: Any, field: str) -> list[int]:
    """The attachment ids of a finding's files (none when absent)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    ):
        raise RowViolation("R-8.5.4", "the evidence files must be a list of uploaded files", field)
    return list(value)


def _row_int(value: Any, field: str, minimum: int) -> int:
    try:
        return require_int(value, field, "R-8.5.2", minimum=minimum)
    except RuleViolation as err:
        raise RowViolation("R-8.5.2", err.detail, field) from err


def special_entries(value: Any, known: Iterable[Any], field: str) -> list[tuple[str, str]]:
    codes = {special.code for special in known}
    entries = []
    for index, raw in enumerate(require_list(value, field, "R-3", allow_empty=True)):
        code, evidence = (
            (raw.get("code"), optional_text(raw.get("evidence")))
            if isinstance(raw, Mapping)
            else (raw, "")
        )
        if code not in codes:
            raise RuleViolation(
                "R-3", f"{field}[{index}]: {code!r} is not one of {sorted(codes)}", field=field
            )
        entries.append((code, evidence))
    return entries


def _onsite_random_survey(value: Any) -> dict | None:
    """R-8.3: a random survey on site, `{"sample_size", "satisfied_count"}`, or None."""
    if not value:
        return None
    if not isinstance(value, Mapping):
        raise RuleViolation("R-8.3", "random_survey must be an object or null")
    return random_survey(True, value.get("sample_size"), value.get("satisfied_count"))


def check_escalation(kind: Any, details: Any, terminate_reason: Any) -> dict:
    """R-8.5.3 (a)/(b): what the leader reports to the audit department, with details; a
    proposed termination names one of the R-8.5.6 reasons."""
    kind = kind or "none"
    if kind not in ESCALATIONS:
        raise RuleViolation("R-8.5.3", f"escalation must be one of {ESCALATIONS}, got {kind!r}")
    reason = terminate_reason or None
    if kind == "none":
        if reason:
            raise RuleViolation(
                "R-8.5.6",
                "a termination must be escalated to the audit department",
                field="escalation",
            )
        return {"kind": "none"}
    if (kind == "terminate_request" or reason is not None) and reason not in TERMINATION_REASONS:
        raise RuleViolation(
            "R-8.5.6",
            f"terminate_reason must be one of {TERMINATION_REASONS}",
            field="terminate_reason",
        )
    return {
        "kind": kind,
        "details": require_text(details, "escalation_details", "R-8.5.3"),
        "terminate_reason": reason,
    }


def _replace_findings(act: Acting, audit: Audit, entries: list[dict]) -> None:
    """Each entry replaces the audit's earlier findings on its item, and a later entry of the
    same day on the same item replaces the earlier entry. One read and one write for the day
    (a query and a flush per finding cost about 1 ms each, 48 items a day)."""
    last = {entry["item_code"]: index for index, entry in enumerate(entries)}
    kept = [entry for index, entry in enumerate(entries) if last[entry["item_code"]] == index]
    if not kept:
        return
    earlier = select(Finding).where(Finding.audit_id == audit.id, Finding.item_code.in_(last))
    for finding in act.session.scalars(earlier):
        act.session.delete(finding)
    act.session.flush()
    # One INSERT for the day's rows (the ORM wrote one per object, and nothing here needs
    # their ids or objects: the score and the NCs read the findings back by query).
    act.session.execute(
        insert(Finding),
        [
            {"audit_id": audit.id, "recorded_by": act.actor, "recorded_at": act.now, **entry}
            for entry in kept
        ],
    )


def _add_special_finding(act: Acting, audit: Audit, code: str, result: str, evidence: str) -> None:
    act.session.add(
        Finding(
            audit_id=audit.id,
            item_code=code,
            method="records",
            result=result,
            evidence=evidence,
            recorded_by=act.actor,
            recorded_at=act.now,
        )
    )
