"""Process figures for the quality manager (issue 13): throughput times per process and per
task (median, 90th percentile), volumes per month, overdue open tasks by role, and the process
versions deployed in a period (who, when, why). Read from the instances, the human-task index
and the deployments; the web filters by period, process and (through the instance ids of an
organisation's case) organisation."""

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from certflow.dates import CHINA_TZ
from engine.core import EngineCore
from engine.models import Deployment, HumanTask, ProcessInstance, ProcessVersion


@dataclass(frozen=True)
class FigureFilter:
    """[start, end) in UTC; `process_id` None: all; `instance_ids` None: all instances;
    `version` None: every version (only with a process)."""

    start: datetime
    end: datetime
    process_id: str | None = None
    instance_ids: tuple[int, ...] | None = None
    version: int | None = None


@dataclass(frozen=True)
class Throughput:
    process_id: str
    element_id: str | None  # None: the whole process
    name: str
    count: int
    median_hours: float
    p90_hours: float


@dataclass(frozen=True)
class MonthVolume:
    month: str  # YYYY-MM, China calendar
    process_id: str
    started: int
    finished: int


@dataclass(frozen=True)
class DeployedVersion:
    process_id: str
    name: str
    version: int
    sha256: str
    deployed_by: str
    deployed_at: datetime
    comment: str


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least `share` of the values at
    or below it (p90 of 10 values is the 9th)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _summary(process_id, element_id, name, durations: list[float]) -> Throughput:
    return Throughput(
        process_id,
        element_id,
        name,
        len(durations),
        round(statistics.median(durations), 1),
        round(percentile(durations, 0.9), 1),
    )


def figure_conditions(flt: FigureFilter, column) -> list[ColumnElement[bool]]:
    """The filter on a query joined to ProcessInstance: `column` (a moment) in the period."""
    conditions = [column >= flt.start, column < flt.end]
    if flt.process_id is not None:
        conditions.append(ProcessInstance.process_id == flt.process_id)
        if flt.version is not None:
            conditions.append(
                ProcessInstance.process_version_id.in_(
                    select(ProcessVersion.id).where(
                        ProcessVersion.process_id == flt.process_id,
                        ProcessVersion.version == flt.version,
                    )
                )
            )
    if flt.instance_ids is not None:
        conditions.append(ProcessInstance.id.in_(flt.instance_ids or (-1,)))
    return conditions


class FigureQueries(EngineCore):
    def _instance_conditions(self, flt: FigureFilter, column) -> list[ColumnElement[bool]]:
        return figure_conditions(flt, column)

    def _process_names(self) -> dict[str, str]:
        latest = (
            select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("v"))
            .group_by(ProcessVersion.process_id)
            .subquery()
        )
        rows = self.session.execute(
            select(ProcessVersion.process_id, ProcessVersion.name).join(
                latest,
                (latest.c.process_id == ProcessVersion.process_id)
                & (latest.c.v == ProcessVersion.version),
            )
        ).all()
        return dict(rows)

    def process_throughput(self, flt: FigureFilter) -> list[Throughput]:
        """Instances finished in the period: start to end, per process."""
        rows = self.session.execute(
            select(ProcessInstance.process_id, ProcessInstance.started_at, ProcessInstance.ended_at)
            .where(ProcessInstance.ended_at.is_not(None))
            .where(*self._instance_conditions(flt, ProcessInstance.ended_at))
        ).all()
        grouped: dict[str, list[float]] = defaultdict(list)
        for process_id, started, ended in rows:
            grouped[process_id].append(_hours(started, ended))
        names = self._process_names()
        return [
            _summary(pid, None, names.get(pid, pid), durations)
            for pid, durations in sorted(grouped.items())
        ]

    def task_throughput(self, flt: FigureFilter) -> list[Throughput]:
        """Human tasks completed in the period: created to completed, per process and step."""
        rows = self.session.execute(
            select(
                HumanTask.process_id,
                HumanTask.element_id,
                HumanTask.name,
                HumanTask.created_at,
                HumanTask.completed_at,
            )
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(HumanTask.completed_at.is_not(None))
            .where(*self._instance_conditions(flt, HumanTask.completed_at))
        ).all()
        grouped: dict[tuple[str, str], list[float]] = defaultdict(list)
        names: dict[tuple[str, str], str] = {}
        for process_id, element_id, name, created, completed in rows:
            grouped[(process_id, element_id)].append(_hours(created, completed))
            names[(process_id, element_id)] = name
        return [
            _summary(pid, eid, names[(pid, eid)], durations)
            for (pid, eid), durations in sorted(grouped.items())
        ]

    def monthly_volumes(self, flt: FigureFilter) -> list[MonthVolume]:
        """Instances started and finished per China calendar month of the period."""
        counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for index, column in enumerate((ProcessInstance.started_at, ProcessInstance.ended_at)):
            rows = self.session.execute(
                select(ProcessInstance.process_id, column).where(
                    column.is_not(None), *self._instance_conditions(flt, column)
                )
            ).all()
            for process_id, moment in rows:
                counts[(_china_month(moment), process_id)][index] += 1
        return [
            MonthVolume(month, pid, started, finished)
            for (month, pid), (started, finished) in sorted(counts.items())
        ]

    def overdue_by_role(
        self,
        now: datetime,
        process_id: str | None = None,
        instance_ids: Iterable[int] | None = None,
    ) -> dict[str, int]:
        """Open tasks past their due time, counted by the role they wait for ("" none)."""
        statement = (
            select(HumanTask.candidate_role, func.count(HumanTask.id))
            .where(HumanTask.state == "open", HumanTask.due_at.is_not(None), HumanTask.due_at < now)
            .group_by(HumanTask.candidate_role)
        )
        if process_id is not None:
            statement = statement.where(HumanTask.process_id == process_id)
        if instance_ids is not None:
            statement = statement.where(HumanTask.instance_id.in_(tuple(instance_ids) or (-1,)))
        return {role or "": count for role, count in self.session.execute(statement).all()}

    def deployed_versions(self, start: datetime, end: datetime) -> list[DeployedVersion]:
        """Process versions deployed in [start, end): the definition changes of the period."""
        rows = self.session.execute(
            select(ProcessVersion, Deployment)
            .join(Deployment, Deployment.id == ProcessVersion.deployment_id)
            .where(Deployment.deployed_at >= start, Deployment.deployed_at < end)
            .order_by(Deployment.deployed_at, ProcessVersion.process_id)
        ).all()
        return [
            DeployedVersion(
                v.process_id, v.name, v.version, v.sha256, d.deployed_by, d.deployed_at, d.comment
            )
            for v, d in rows
        ]


def _china_month(moment: datetime) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m")
