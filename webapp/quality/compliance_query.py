"""The filters of the compliance dashboard, its breach lists and the management-review report
(issue 13): period (China dates, both days included), process, organisation. A bad value is a
422 naming the field, never a silently different answer."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _

from certflow.dates import add_months, china_date
from domain.compliance import Period
from webapp.i18n import china_day_start

MAX_DATE_LENGTH = 10


class FilterError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ComplianceQuery:
    start: date
    end: date
    process: str = ""
    organisation: int | None = None

    @classmethod
    def from_args(
        cls, args: Any, now: datetime, processes: set[str], organisations: set[int]
    ) -> "ComplianceQuery":
        """The query of the request's arguments `from`, `to`, `process`, `organisation`; the
        default period is the 12 months up to today. FilterError on a bad value."""
        today = china_date(now)
        end = _day(args.get("to", ""), "to") or today
        start = _day(args.get("from", ""), "from") or add_months(end, -12) + timedelta(days=1)
        if start > end:
            raise FilterError("from", _("The period starts after it ends."))
        process = args.get("process", "")
        if process and process not in processes:
            raise FilterError("process", _("Choose a process from the list."))
        organisation = args.get("organisation", "")
        organisation_id = None
        if organisation:
            if not organisation.isdigit() or int(organisation) not in organisations:
                raise FilterError("organisation", _("Choose an organisation from the list."))
            organisation_id = int(organisation)
        return cls(start, end, process, organisation_id)

    @property
    def period(self) -> Period:
        return Period(self.start, self.end)

    @property
    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start 00:00, the day after end 00:00) China time, in UTC."""
        return china_day_start(self.start), china_day_start(self.end + timedelta(days=1))

    def args(self) -> dict[str, str]:
        """The query as request arguments (for links that keep the filters)."""
        values = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "process": self.process,
            "organisation": str(self.organisation) if self.organisation else "",
        }
        return {k: v for k, v in values.items() if v}


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        if len(value) > MAX_DATE_LENGTH:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(field, _("Enter a date as YYYY-MM-DD.")) from None


__all__ = ["ComplianceQuery", "FilterError"]
