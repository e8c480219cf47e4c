"""The evidence checklist of an audit (R-8.5.2, R-8.5.4, R-3): what is recorded so far per
indicator item, and the running score of a day's rows on top of it.

The running score is scored by `domain.scoring.score_audit` itself, on the indicator set narrowed
to the items assessed so far (unassessed items are left out of the applicable points), so the
checklist and the final `compute_score` can never disagree once every item is assessed. Nothing
here writes: a page may call it while someone is still filling in the day.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from domain.audit.common import get_audit, latest_findings
from domain.audit.conclusion import findings_for_scoring
from domain.audit.evidence import finding_entry, special_entries
from domain.errors import RuleViolation
from domain.indicators import active_indicator_set, indicator_set_by_label
from domain.models import Audit, Finding
from domain.scoring import IndicatorSet, ScoreResult, score_audit


@dataclass(frozen=True)
class RunningScore:
    assessed: int  # items with a result so far
    total: int  # items in the set (48 in GB/T 27922-2011)
    result: ScoreResult | None  # None while nothing scorable is assessed

    @property
    def complete(self) -> bool:
        return self.assessed == self.total


@dataclass(frozen=True)
class ChecklistState:
    indicator_set: IndicatorSet
    recorded: dict[str, Finding]  # the latest finding per item code, from earlier days
    score: RunningScore
    special_deductions: list[str]  # codes found so far, one per occurrence (with today's)
    special_bonus: list[str]


def checklist_indicator_set(session: Session, audit: Audit) -> IndicatorSet:
    """The set the audit is (or will be) assessed against, read only: the recorded one, else the
    active one (`audit_indicator_set` pins it when the first day is recorded)."""
    try:
        if audit.indicator_set:
            return indicator_set_by_label(session, audit.indicator_set)[1]
        return active_indicator_set(session)[1]
    except LookupError as err:
        raise RuleViolation("R-3", str(err)) from err


def running_score(
    indicator_set: IndicatorSet,
    results: Iterable[Mapping[str, Any]],
    special_deductions: list[str],
    special_bonus: list[str],
) -> RunningScore:
    """R-3: the score of the items assessed so far (`score_audit` entries, one per item)."""
    results = list(results)
    assessed = {entry["item"] for entry in results}
    narrowed = replace(
        indicator_set,
        indicators=tuple(
            replace(
                first,
                children=tuple(
                    replace(second, items=tuple(i for i in second.items if i.code in assessed))
                    for second in first.children
                ),
            )
            for first in indicator_set.indicators
        ),
    )
    total = len(indicator_set.items)
    try:
        result = score_audit(narrowed, results, special_deductions, special_bonus)
    except ValueError:  # nothing assessed yet, or every assessed item is not applicable
        result = None
    return RunningScore(assessed=len(assessed), total=total, result=result)


def checklist_state(
    session: Session,
    audit_id: Any,
    day_findings: Any = (),
    day_deductions: Any = (),
    day_bonus: Any = (),
) -> ChecklistState:
    """The checklist of audit `audit_id`: earlier days' findings, plus the rows of the day being
    filled in (a row replaces the earlier finding on its item, as record_evidence does). Rows
    that break a rule are left out of the running score (the form shows their errors)."""
    audit = get_audit(session, audit_id)
    indicator_set = checklist_indicator_set(session, audit)
    recorded = {f.item_code: f for f in latest_findings(session, audit)}  # latest wins
    results, deductions, bonus = findings_for_scoring(session, audit, indicator_set)
    by_item = {entry["item"]: entry for entry in results}
    for index, raw in enumerate(day_findings if isinstance(day_findings, list) else []):
        try:
            entry = finding_entry(indicator_set, index, raw)
        except RuleViolation:
            continue
        by_item[entry["item_code"]] = {
            "item": entry["item_code"],
            "result": entry["result"],
            "sample_size": entry["sample_size"],
            "failures": entry["failures"],
        }
    deductions = deductions + _valid_codes(day_deductions, indicator_set.special_deductions)
    bonus = bonus + _valid_codes(day_bonus, indicator_set.special_bonus)
    item_codes = {item.code for item in indicator_set.items}
    return ChecklistState(
        indicator_set=indicator_set,
        recorded={code: f for code, f in recorded.items() if code in item_codes},
        score=running_score(indicator_set, by_item.values(), deductions, bonus),
        special_deductions=deductions,
        special_bonus=bonus,
    )


def _valid_codes(entries: Any, known: Iterable[Any]) -> list[str]:
    codes = []
    for raw in entries if isinstance(entries, list) else []:
        try:
            codes.extend(code for code, _ in special_entries([raw], known, "codes"))
        except RuleViolation:
            continue
    return codes
