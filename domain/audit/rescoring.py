"""Rescoring after corrections (R-8.5.5, R-8.7): a conclusion that depends on correcting
nonconformities — the level reached is below the reference level, including below the lowest
star level — is not final. Once every nonconformity is accepted the team leader rescores the
corrected result (the star level comes from the same DMN table as at the audit) and this gives
the team's final recommendation:

- corrected level ≥ the reference level → recommend (up to the reference level);
- 1 ≤ corrected level < the reference level → downgrade when the client asked for one, else
  not recommend (requested level not met);
- corrected level 0 → not recommend: 经整改仍不能达到最低星级 (R-8.5.5(3)).

The original level and conclusion stay in `conclusion_notes["rescored"]`.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from domain.acting import Acting
from domain.audit.common import application_of, get_audit, require_status
from domain.audit.conclusion import reference_level
from domain.checks import require_int, require_text
from domain.errors import RuleViolation
from domain.models import Nonconformity


def record_rescore(
    act: Acting,
    audit_id: int,
    *,
    score: Any,
    special_deductions: Any,
    star_level: Any,
    basis: Any,
) -> dict[str, Any]:
    """R-8.5.5: the corrected result and the final recommendation (see the module)."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["completed"], "R-8.5.5", "rescore the corrected result")
    notes = dict(audit.conclusion_notes or {})
    if notes.get("rescored"):
        raise RuleViolation("R-8.5.5", f"audit {audit.id} is already rescored")
    if not notes.get("conditional_on_corrections"):
        raise RuleViolation(
            "R-8.5.5", f"the conclusion of audit {audit.id} does not depend on corrections"
        )
    unresolved = act.session.scalars(
        select(Nonconformity.number).where(
            Nonconformity.audit_id == audit.id, Nonconformity.status != "accepted"
        )
    ).all()
    if unresolved:
        raise RuleViolation(
            "R-8.7", f"rescore once every nonconformity is accepted: {', '.join(unresolved)}"
        )
    corrected = _score(score)
    deductions = require_int(special_deductions, "special_deductions", "R-5", minimum=0)
    level = require_int(star_level, "star_level", "R-5", minimum=0)
    if level > 5:
        raise RuleViolation("R-5", f"star_level must be 0–5, got {level}")
    reference, reference_name = reference_level(
        act.session, audit, application_of(act.session, audit)
    )
    if level >= reference:
        final, reason = "recommend", f"{reference_name} level {reference} met after correction"
    elif level >= 1 and notes.get("downgrade_requested"):
        final, reason = "downgrade", f"level {level} after correction, downgrade requested"
    elif level >= 1:
        final = "not_recommend"
        reason = f"{reference_name} level {reference} not met after correction (level {level})"
    else:
        final, reason = "not_recommend", "below the lowest star level even after correction"
    notes["rescored"] = {
        "score": str(corrected),
        "special_deductions": deductions,
        "star_level": level,
        "basis": require_text(basis, "basis", "R-8.5.5"),
        "before": {"star_level": audit.star_level_achieved, "conclusion": audit.conclusion},
        "by": act.actor,
        "at": act.now.isoformat(),
    }
    notes["conditional_on_corrections"] = False
    notes["reason"] = reason
    audit.conclusion_notes = notes
    audit.conclusion = final
    audit.star_level_achieved = level
    return {"star_level": level, "conclusion": final, "reason": reason}


def _score(value: Any) -> Decimal:
    try:
        score = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise RuleViolation("R-3", f"score must be a number 0–100, got {value!r}") from None
    if isinstance(value, bool) or not Decimal(0) <= score <= Decimal(100):
        raise RuleViolation("R-3", f"score must be a number 0–100, got {value!r}")
    return score


def rescored_level_problem(audit: Any, reassessed: int) -> str | None:
    """R-8.10.3(2): after the team rescored the corrected result (审查组…给出最终的推荐结论),
    the outcome is decided on that level — a message when `reassessed` differs, else None."""
    rescored = ((audit.conclusion_notes or {}).get("rescored") or {}).get("star_level")
    if rescored is None or rescored == reassessed:
        return None
    return (
        f"the team rescored the corrected result at level {rescored}: the outcome is decided "
        f"on that level, not {reassessed} (R-8.10.3)"
    )
