"""Waiting and working time per task for the quality manager (issue 13), read from the task
events of the event log (the ones the XES / CSV export carries):

* waiting: the task was created until someone took it (its first `task_claimed`);
* working: from that claim until `task_completed`.

A task completed without ever being claimed (the candidate completed it straight from the
queue) waited until its completion and has no working time: it counts in `waited` only.
Only tasks completed in the period count; filters as the other process figures
(engine/query_figures.py) plus the role the task was offered to."""

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from engine.core import EngineCore
from engine.models import EventLog, HumanTask, ProcessInstance
from engine.query_figures import FigureFilter, figure_conditions, percentile


@dataclass(frozen=True)
class TaskTimes:
    process_id: str
    element_id: str
    name: str
    role: str  # the candidate role ("" none)
    completed: int
    claimed: int  # of them, taken by someone before completion
    waiting_median_hours: float
    waiting_p90_hours: float
    working_median_hours: float | None  # None: none was claimed
    working_p90_hours: float | None


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p90(values: list[float]) -> float | None:
    return round(percentile(values, 0.9), 1) if values else None


class TaskTimeQueries(EngineCore):
    def task_times(self, flt: FigureFilter, role: str | None = None) -> list[TaskTimes]:
        """Per process and step: tasks completed in the period, their waiting and working
        hours (median, nearest-rank p90)."""
        first_claim = (
            select(EventLog.task_id, func.min(EventLog.at).label("claimed_at"))
            .where(EventLog.event_type == "task_claimed")
            .group_by(EventLog.task_id)
            .subquery()
        )
        statement = (
            select(
                HumanTask.process_id,
                HumanTask.element_id,
                HumanTask.name,
                HumanTask.candidate_role,
                HumanTask.created_at,
                first_claim.c.claimed_at,
                HumanTask.completed_at,
            )
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .outerjoin(first_claim, first_claim.c.task_id == HumanTask.id)
            .where(HumanTask.completed_at.is_not(None))
            .where(*figure_conditions(flt, HumanTask.completed_at))
        )
        if role is not None:
            statement = statement.where(HumanTask.candidate_role == role)
        waiting: dict[tuple[str, str], list[float]] = defaultdict(list)
        working: dict[tuple[str, str], list[float]] = defaultdict(list)
        about: dict[tuple[str, str], tuple[str, str]] = {}
        for pid, eid, name, candidate, created, claimed, done in self.session.execute(statement):
            key = (pid, eid)
            about[key] = (name, candidate or "")
            # A claim after completion cannot happen; a claim is "before" only if it is.
            taken = claimed if claimed is not None and claimed <= done else None
            waiting[key].append(_hours(created, taken or done))
            if taken is not None:
                working[key].append(_hours(taken, done))
        return [
            TaskTimes(
                pid,
                eid,
                about[(pid, eid)][0],
                about[(pid, eid)][1],
                len(waits),
                len(working[(pid, eid)]),
                round(statistics.median(waits), 1),
                round(percentile(waits, 0.9), 1),
                _median(working[(pid, eid)]),
                _p90(working[(pid, eid)]),
            )
            for (pid, eid), waits in sorted(waiting.items())
        ]
