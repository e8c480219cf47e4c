"""One nonconformity per deduction finding (R-8.7, R-8.5.4; docs/decisions.md "Every deduction
finding yields a nonconformity").

A finding deducts points when its item earns less than its points — `nonconform`, or `sampled`
with failures (the latest finding per item, as scored, domain/audit/conclusion.py) — and every
occurrence of a special deduction item (特别扣分项) is a deduction of its own. Each must be
corrected (整改): the team's conclusion derives a nonconformity for every deduction finding the
team did not raise one for itself (general; serious for a special deduction, R-8.7 §8.7.2), linked
to its finding. The team leader adds wording by raising the NC in the conclusion form (that NC
then stands for the finding); a derived NC cannot be dropped — R-8.5.4 allows improvement
opportunities but never for deduction items.
"""

from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from domain.audit.common import latest_findings
from domain.models import Audit, Finding, Nonconformity
from domain.nc_natures import SERIOUS
from domain.scoring import NONCONFORM, RESULT_SAMPLED, IndicatorSet

GENERAL = "general"


@dataclass(frozen=True)
class DeductionFinding:
    """A finding that cost points: its item (or special deduction) and whether it is special."""

    finding: Finding
    special: bool


def deduction_findings(
    session: Session, audit: Audit, indicator_set: IndicatorSet
) -> list[DeductionFinding]:
    """R-8.5.4: the audit's findings that deducted points, in the order they were recorded."""
    special_codes = {special.code for special in indicator_set.special_deductions}
    item_codes = {item.code for item in indicator_set.items}
    latest: dict[str, Finding] = {}
    special: list[Finding] = []
    for finding in latest_findings(session, audit):
        if finding.item_code in special_codes:
            special.append(finding)  # one per occurrence, each scored (domain/scoring.py)
        elif finding.item_code in item_codes:
            latest[finding.item_code] = finding
    found = [
        DeductionFinding(finding, special=False)
        for finding in latest.values()
        if finding.result == NONCONFORM
        or (finding.result == RESULT_SAMPLED and (finding.failures or 0) > 0)
    ]
    found += [DeductionFinding(finding, special=True) for finding in special]
    return sorted(found, key=lambda entry: (entry.finding.recorded_at, entry.finding.id))


def uncovered_deductions(
    deductions: list[DeductionFinding], raised_codes: list[str]
) -> list[DeductionFinding]:
    """The deduction findings no raised NC stands for: an item's finding is covered by an NC of
    that item; each occurrence of a special deduction needs an NC of its own."""
    raised = Counter(raised_codes)
    uncovered = []
    for entry in deductions:
        code = entry.finding.item_code
        if entry.special:
            if raised[code] > 0:
                raised[code] -= 1
                continue
        elif raised[code] > 0:
            continue
        uncovered.append(entry)
    return uncovered


def derived_entry(indicator_set: IndicatorSet, entry: DeductionFinding) -> dict:
    """The NC derived from one deduction finding (R-8.7 §8.7.2: a special deduction is serious).
    Its description is a record of the NC report, in the report's language — the requirement's
    Chinese text — shown as written on every page like the team's NCs, never two languages."""
    finding = entry.finding
    if entry.special:
        item = next(s for s in indicator_set.special_deductions if s.code == finding.item_code)
        label = f"特别扣分项 {item.code} {item.text_zh}"
    else:
        item = indicator_set.item(finding.item_code)
        label = f"扣分项 {item.code} {item.text_zh}"
    evidence = finding.evidence or ""
    if finding.result == RESULT_SAMPLED and finding.sample_size:
        evidence = f"{evidence}（抽样 {finding.sample_size}，不符合 {finding.failures}）".strip()
    return {
        "item_code": finding.item_code,
        "nature": SERIOUS if entry.special else GENERAL,
        "description": label,
        "evidence": evidence,
        "finding_id": finding.id,
    }


def derive_nonconformities(
    session: Session, audit: Audit, indicator_set: IndicatorSet, team_entries: list[dict]
) -> list[dict]:
    """R-8.7: the NC entries to add to the team's so that every deduction finding of the audit
    has its nonconformity — none for a finding the team (now, or earlier in this audit, e.g. the
    surveillance review) already raised one for."""
    raised = [nc.item_code for nc in audit.nonconformities]
    raised += [entry["item_code"] for entry in team_entries]
    uncovered = uncovered_deductions(deduction_findings(session, audit, indicator_set), raised)
    return [derived_entry(indicator_set, entry) for entry in uncovered]


def derived_of(audit: Audit) -> list[Nonconformity]:
    """The audit's NCs derived from a deduction finding."""
    return [nc for nc in audit.nonconformities if nc.finding_id is not None]
