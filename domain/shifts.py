"""R-7.1.4 shift work (如果客户采用轮班作业，应在建立审查方案和编制审查计划时考虑在轮班工作中发生的
活动): the programme names the client's shifts, and every audit plan covers each of them or says
why a shift is not audited this time. Used by the programme, the plan and their form checks."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from domain.errors import RuleViolation
from domain.models import Audit, AuditProgramme
from domain.values import optional_text

RULE = "R-7.1.4"


def _text(raw: Any, field: str) -> str:
    text = optional_text(raw, field)
    if not text:
        raise RuleViolation(RULE, f"{field} is required", field=field)
    return text


def check_programme_shifts(shift_work: bool, raw: Any) -> list[dict[str, str]]:
    """The programme's shifts [{"name", "hours"}]: required for a client working in shifts,
    named once each."""
    rows = [] if raw is None else raw
    if not isinstance(rows, list):
        raise RuleViolation(RULE, "shifts must be a list", field="shifts")
    shifts: list[dict[str, str]] = []
    for index, item in enumerate(rows):
        if not isinstance(item, Mapping):
            raise RuleViolation(RULE, f"shifts[{index}] must be an object", field=f"shifts/{index}")
        name = _text(item.get("name"), f"shifts/{index}/name")
        if any(shift["name"] == name for shift in shifts):
            raise RuleViolation(
                RULE, f"班次 {name} 重复 shift {name} is named twice", field=f"shifts/{index}/name"
            )
        shifts.append({"name": name, "hours": _text(item.get("hours"), f"shifts/{index}/hours")})
    if shift_work and not shifts:
        raise RuleViolation(
            RULE,
            "客户采用轮班作业，审查方案须列出各班次 the client works in shifts: name its shifts",
            field="shifts",
        )
    return shifts


def check_plan_shifts(
    programme_shifts: list[dict[str, str]], coverage: Any, not_covered_reason: Any
) -> dict[str, Any]:
    """The plan's answer to the programme's shifts: how each covered shift is audited; a shift
    left out needs the reason. Result {"covered": [{"shift", "how"}], "not_covered": [names],
    "not_covered_reason"}."""
    names = [shift["name"] for shift in programme_shifts]
    rows = [] if coverage is None else coverage
    if not isinstance(rows, list):
        raise RuleViolation(RULE, "shift_coverage must be a list", field="shift_coverage")
    covered: list[dict[str, str]] = []
    for index, item in enumerate(rows):
        where = f"shift_coverage/{index}"
        if not isinstance(item, Mapping):
            raise RuleViolation(RULE, f"{where} must be an object", field=where)
        shift = item.get("shift")
        if shift not in names:
            raise RuleViolation(
                RULE, f"{shift!r} 不是审查方案中的班次 is not a shift of the programme", field=where
            )
        if any(row["shift"] == shift for row in covered):
            raise RuleViolation(RULE, f"班次 {shift} 重复 shift {shift} twice", field=where)
        covered.append({"shift": shift, "how": _text(item.get("how"), f"{where}/how")})
    missing = [name for name in names if all(row["shift"] != name for row in covered)]
    reason = optional_text(not_covered_reason, "shifts_not_covered_reason")
    if missing and not reason:
        raise RuleViolation(
            RULE,
            f"审查计划未覆盖班次 {'、'.join(missing)}：请安排审查或说明理由 the plan does not "
            f"cover the shifts {', '.join(missing)}: audit them or say why not",
            field="shifts_not_covered_reason",
        )
    return {"covered": covered, "not_covered": missing, "not_covered_reason": reason or None}


def programme_shifts(session: Session, audit: Audit) -> list[dict[str, str]]:
    """The shifts named in the programme the audit belongs to."""
    programme = session.get(AuditProgramme, audit.programme_id)
    return list(programme.shifts or []) if programme is not None else []


def check_audit_plan_shifts(
    session: Session, audit: Audit, coverage: Any, not_covered_reason: Any
) -> dict[str, Any]:
    """R-7.1.4 for one audit's plan (form check `audit.plan_fits` and `audit.record_plan`)."""
    return check_plan_shifts(programme_shifts(session, audit), coverage, not_covered_reason)
