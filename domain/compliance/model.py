"""What a compliance indicator answers (issue 13): for one rule with a measurable obligation,
the cases that kept it, the cases that broke it, each with what the rule required and what
happened. Plain data: the web and the PDF report render it, the tests compare it."""

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Period:
    """Obligations whose reference day (their limit, or the day of the event) falls in
    [start, end], both China dates and both included."""

    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Case:
    """One measured case: `subject` names it for people (a certificate number, a complaint's
    reference), `organisation_id`/`instance_id` are the link targets (the case page, else the
    instance page), `required`/`actual` the limit and what happened (None: not yet)."""

    key: str  # stable identity within the indicator, e.g. "activity:12"
    subject: str
    reference_day: date
    kept: bool
    organisation_id: int | None = None
    organisation_name: str = ""
    instance_id: int | None = None
    required: date | None = None
    actual: date | None = None
    reason: str = ""  # a code the web translates (e.g. "late", "missing", "on_team")
    people: tuple[str, ...] = ()  # who is concerned (auditors' names), when it matters
    event: str = ""  # the certificate event measured (e.g. "suspended"), for R-14


@dataclass(frozen=True)
class Definition:
    """An indicator's identity: `rules` are the R-ids it measures, `process` the process whose
    cases it measures (for the process filter)."""

    key: str
    rules: tuple[str, ...]
    process: str


@dataclass
class Result:
    definition: Definition
    cases: list[Case] = field(default_factory=list)
    measurable: bool = True  # False: the rules set no such obligation (e.g. auditor rotation)

    @property
    def kept(self) -> int:
        return sum(1 for case in self.cases if case.kept)

    @property
    def broken(self) -> int:
        return sum(1 for case in self.cases if not case.kept)

    @property
    def breaches(self) -> list[Case]:
        return [case for case in self.cases if not case.kept]
