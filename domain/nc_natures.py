"""The nature of a nonconformity and what it sets (R-8.7 §8.7.2, §8.7.3; docs/decisions.md):
the correction deadline (general: NC_RESPONSE_DAYS, serious: NC_SERIOUS_RESPONSE_DAYS), the way
it is verified (a serious one on site), and the overdue escalation of the audit department — extend
the deadline, or end the cycle with a proposal to suspend the certificate or refuse registration.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from certflow.dates import china_date, last_day_of_days, limit_timer, timer_on
from domain.acting import Acting
from domain.checks import require_choice, require_date, require_text
from domain.errors import RuleViolation
from domain.models import Nonconformity

# §8.7.2 根据不符合的性质: the natures the team chooses from (form enum, labels in the form).
NATURES = ("general", "serious")
SERIOUS = "serious"
ESCALATION_ACTIONS = ("extend_deadline", "propose_suspension_or_refusal")
EXTEND = "extend_deadline"


@dataclass(frozen=True)
class Deadlines:
    """How long the client has to correct (by nature) and when it is reminded, from the
    settings (nc_response_days, nc_serious_response_days, nc_reminder_days_before)."""

    response_days: int
    reminder_days_before: int
    serious_response_days: int = 90

    def days_for(self, nature: str) -> int:
        return self.serious_response_days if nature == SERIOUS else self.response_days


def require_nature(value: Any, field: str) -> str:
    """R-8.7 §8.7.2: every nonconformity is classified general or serious."""
    return require_choice(value, field, "R-8.7", NATURES)


def check_special_deduction_nature(nature: str, code: str, special_codes: set[str], field: str):
    """A special deduction item (特别扣分项) is a serious nonconformity by definition."""
    if code in special_codes and nature != SERIOUS:
        raise RuleViolation(
            "R-8.7",
            f"{code} is a special deduction item (特别扣分项): its nonconformity is serious",
            field=field,
        )


def deadline_for(act: Acting, nature: str, deadlines: Deadlines) -> date:
    """The last day to correct a nonconformity of this nature, the period starting today."""
    return last_day_of_days(china_date(act.now), deadlines.days_for(nature))


def round_timers(pending: Iterable[Nonconformity], deadlines: Deadlines) -> dict:
    """The deadline of a round of answers — the earliest deadline among the nonconformities
    awaiting an answer — with the instants of its reminder and of its passing."""
    dates = [nc.deadline for nc in pending if nc.deadline is not None]
    if not dates:
        raise RuleViolation("R-8.7", "no nonconformity is waiting for an answer with a deadline")
    deadline = min(dates)
    return {
        "deadline": deadline.isoformat(),
        "reminder_at": timer_on(deadline - timedelta(days=deadlines.reminder_days_before)),
        "deadline_at": limit_timer(deadline),
    }


def check_verification_method(nc: Nonconformity, method: str, field: str) -> None:
    """R-8.7 §8.7.3: a serious nonconformity cannot gain the necessary confidence from documents
    alone (不能通过书面验证取得必要的信任): it is verified on site, with the record."""
    if nc.nature == SERIOUS and method != "on_site":
        raise RuleViolation(
            "R-8.7",
            f"{nc.number} is a serious nonconformity: verify it on site, with the on-site record",
            field=field,
        )


def check_escalation(
    overdue: list[Nonconformity], action: Any, new_deadline: Any, note: Any, today: date
) -> tuple[str, date | None, str]:
    """R-8.7: the audit department's decision on an overdue correction: extend to a later day
    (after the passed deadline and not before today), or propose suspension / refusal."""
    action = require_choice(action, "action", "R-8.7", ESCALATION_ACTIONS)
    note = require_text(note, "note", "R-8.7")
    if action != EXTEND:
        return action, None, note
    day = require_date(new_deadline, "new_deadline", "R-8.7")
    passed = max((nc.deadline for nc in overdue if nc.deadline), default=None)
    if day < today or (passed is not None and day <= passed):
        raise RuleViolation(
            "R-8.7",
            f"the new deadline must be after the passed one ({passed}) and not before today "
            f"({today})",
            field="new_deadline",
        )
    return action, day, note
