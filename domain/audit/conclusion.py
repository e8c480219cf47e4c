"""The score and the team's conclusion (R-3, R-8.5.5, R-8.7, R-8.10.2/3, R-13): the latest
finding per item scored against the audit's indicator set; a conclusion that fits the level
reached and the reference level; the nonconformities found (NC-1 …)."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from domain.acting import Acting
from domain.audit.client_communication import record_client_communication
from domain.audit.common import (
    application_of,
    audit_indicator_set,
    get_audit,
    latest_findings,
    require_status,
)
from domain.audit.deduction_ncs import derive_nonconformities
from domain.certificates import current_certificate, get_certificate
from domain.checks import is_true, optional_text, require_int, require_list, require_text
from domain.errors import RuleViolation
from domain.models import Application, Audit, Nonconformity
from domain.nc_natures import check_special_deduction_nature, require_nature
from domain.scoring import IndicatorSet, score_audit

CONCLUSIONS = ("recommend", "downgrade", "not_recommend")  # R-8.5.5 (1)–(3)


def compute_score(act: Acting, audit_id: int) -> dict:
    """R-3: score the audit's findings (latest finding per item) against its indicator set."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["in_progress"], "R-3", "score the audit")
    indicator_set = audit_indicator_set(act.session, audit)
    results, deductions, bonus = findings_for_scoring(act.session, audit, indicator_set)
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


def record_conclusion(
    act: Acting,
    audit_id: int,
    *,
    star_level: Any,
    conclusion: Any,
    downgrade_requested: Any,
    nonconformities: Any,
    follow_up: Any,
    programme_adjustments: Any,
    disagreements: Any,
    top_management_communication: Any = None,
    deduction_discussion: Any = None,
) -> dict:
    """R-8.5.5: the team's conclusion, consistent with the star level reached and the level
    requested; R-8.7: the nonconformities found (NC-1 …); R-13: who concluded and when;
    R-8.5.3/R-8.5.4: the communication with top management and the deductions discussed with
    the client (domain/audit/client_communication.py).

    - `recommend`: star_level ≥ 1 and (≥ the requested level, or nonconformities whose
      correction is expected to reach the requested level — recorded as a conditional
      recommendation);
    - `downgrade`: the client asked for it and 1 ≤ star_level < requested level;
    - `not_recommend`: with 0 < star_level < requested it is allowed when the client asked for
      no downgrade (the reason — requested level not met — is recorded); refused when the
      requested level is met, and refused at star_level 0: below the lowest level the client
      first gets nonconformities and the chance to correct (R-8.5.5(3) 经整改仍不能达到最低星级),
      so the conclusion is `recommend` conditional on corrections and the corrected result is
      rescored before the decision (domain/audit/rescoring.py).
    """
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["in_progress"], "R-8.5.5", "record the conclusion")
    if audit.conclusion is not None:
        raise RuleViolation("R-8.5.5", f"audit {audit.id} already has a conclusion")
    if audit.final_score is None:
        raise RuleViolation("R-8.5.5", "the audit has not been scored (R-3) yet")
    level = require_int(star_level, "star_level", "R-5", minimum=0)
    if level > 5:
        raise RuleViolation("R-5", f"star_level must be 0–5, got {level}")
    if conclusion not in CONCLUSIONS:
        raise RuleViolation("R-8.5.5", f"conclusion must be one of {CONCLUSIONS}")
    application = application_of(act.session, audit)
    requested, reference = reference_level(act.session, audit, application)
    indicator_set = audit_indicator_set(act.session, audit)
    entries = [
        nonconformity_entry(indicator_set, index, raw)
        for index, raw in enumerate(
            require_list(nonconformities, "nonconformities", "R-8.7", allow_empty=True)
        )
    ]
    communication = record_client_communication(
        {
            "nonconformities": nonconformities,
            "top_management_communication": top_management_communication,
            "deduction_discussion": deduction_discussion,
            "disagreements": disagreements,
        },
        act.now,
    )
    downgrade = is_true(downgrade_requested)
    # every deduction finding the team raised no NC for gets one derived from it
    derived = derive_nonconformities(act.session, audit, indicator_set, entries)
    reason = check_conclusion(conclusion, level, requested, downgrade, entries + derived, reference)
    create_nonconformities(act.session, audit, entries + derived)
    audit.star_level_achieved = level
    audit.conclusion = conclusion
    audit.conclusion_notes = {
        "requested_level": application.requested_level,
        "reference_level": requested,
        "reference": reference,
        "downgrade_requested": downgrade,
        "conditional_on_corrections": conclusion == "recommend" and level < requested,
        "reason": reason,
        "follow_up": optional_text(follow_up),
        "programme_adjustments": optional_text(programme_adjustments),
        "disagreements": optional_text(disagreements),
        **communication,
    }
    audit.concluded_by = act.actor
    audit.concluded_at = act.now
    return {
        "terminated": False,
        "conclusion": conclusion,
        "star_level": level,
        # Every NC of the audit, so those of the surveillance review (R-8.10.2 c, f; recorded
        # before the on-site audit) are in the NC report and the NC cycle too.
        "nonconformity_count": len(audit.nonconformities),
        "conditional_on_corrections": audit.conclusion_notes["conditional_on_corrections"],
    }


def reference_level(session: Session, audit: Audit, application: Application) -> tuple[int, str]:
    """The level a conclusion is measured against, and its name: for a surveillance audit the
    level the certificate holds now (R-8.10.2, R-8.10.3) — so for any audit of a certificate
    (a special audit for a new site too, R-9.4.1) — otherwise the level applied for."""
    if audit.certificate_id is not None:
        certificate = current_certificate(session, get_certificate(session, audit.certificate_id))
        return certificate.star_level, "held"
    return application.requested_level, "requested"


def check_conclusion(
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
    if star_level == 0 and (conclusion != "recommend" or not nonconformities):
        raise RuleViolation(
            "R-8.5.5",
            "no star level was reached: the client first gets nonconformities and the chance to "
            "correct (经整改仍不能达到最低星级): conclude recommend with the nonconformities to "
            "correct; not recommend follows only if the corrected result still misses the lowest "
            "level",
        )
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


def nonconformity_entry(indicator_set: IndicatorSet, index: int, raw: Any) -> dict:
    where = f"nonconformities[{index}]"
    if not isinstance(raw, Mapping):
        raise RuleViolation("R-8.7", f"{where} must be an object")
    code = raw.get("item_code")
    special_codes = {special.code for special in indicator_set.special_deductions}
    known = {item.code for item in indicator_set.items} | special_codes
    if code not in known:
        raise RuleViolation(
            "R-8.5.4", f"{where}: {code!r} is not a requirement of the indicator set"
        )
    nature = require_nature(raw.get("nature"), f"nonconformities/{index}/nature")  # §8.7.2
    check_special_deduction_nature(nature, code, special_codes, f"nonconformities/{index}/nature")
    return {
        "item_code": code,
        "nature": nature,
        "description": require_text(raw.get("description"), f"{where}.description", "R-8.5.4"),
        "evidence": require_text(raw.get("evidence"), f"{where}.evidence", "R-8.5.4"),
    }


def create_nonconformities(session: Session, audit: Audit, entries: list[dict]) -> None:
    start = len(audit.nonconformities)
    for offset, entry in enumerate(entries, start=1):
        audit.nonconformities.append(
            Nonconformity(audit_id=audit.id, number=f"NC-{start + offset}", status="open", **entry)
        )
    session.flush()


def conclusion_problems(
    session: Session, data: Mapping[str, Any], now: datetime
) -> dict[str, list[str]]:
    """The conclusion form's data against R-8.5.5 (and R-8.5.3/R-8.5.4) before the task
    completes (field errors); record_conclusion enforces the same rules again when it records."""
    audit = get_audit(session, data.get("audit_id"))
    level, reference = reference_level(session, audit, application_of(session, audit))
    indicator_set = audit_indicator_set(session, audit)
    try:
        entries = [
            nonconformity_entry(indicator_set, index, raw)  # §8.7.2
            for index, raw in enumerate(data.get("nonconformities") or [])
        ]
        record_client_communication(data, now)
    except RuleViolation as err:
        return {err.field or "nonconformities": [str(err)]}
    derived = derive_nonconformities(session, audit, indicator_set, entries)
    try:
        check_conclusion(
            data.get("conclusion"),
            int(data.get("star_level") or 0),
            level,
            is_true(data.get("downgrade_requested")),
            entries + derived,
            reference,
        )
    except RuleViolation as err:
        return {"conclusion": [str(err)]}
    return {}
