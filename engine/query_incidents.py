"""The open incidents across all instances, for the incident list of the roles that repair them
(issue 10): one COUNT and one page SELECT, each incident with its instance's process, business
key and the person who last completed a task in it (whose answer the failing step read)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from engine.core import EngineCore
from engine.models import HumanTask, Incident, ProcessInstance, ProcessVersion
from engine.read_models import IncidentView


@dataclass(frozen=True)
class IncidentFilter:
    """Conditions on open incidents (None: no condition)."""

    process_id: str | None = None  # the instance's (top-level) process
    opened_before: datetime | None = None  # open at least since then (the age filter)


@dataclass(frozen=True)
class OpenIncident:
    """An open incident with what the list shows about its case."""

    incident: IncidentView
    process_id: str
    process_name: str
    process_version_id: int
    business_key: str | None
    last_worked_by: str | None  # who completed the instance's latest human task


def _conditions(flt: IncidentFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Incident.status == "open"]
    if flt.process_id is not None:
        conditions.append(ProcessInstance.process_id == flt.process_id)
    if flt.opened_before is not None:
        conditions.append(Incident.created_at <= flt.opened_before)
    return conditions


class IncidentQueries(EngineCore):
    """Open incidents of every instance (the caller checks that the viewer may see them all)."""

    def count_open_incidents(self) -> int:
        return self.session.scalar(select(func.count(Incident.id)).where(Incident.status == "open"))

    def page_open_incidents(
        self, flt: IncidentFilter, *, limit: int, offset: int = 0
    ) -> tuple[int, list[OpenIncident]]:
        """(how many open incidents the filter accepts, one page of them, oldest first)."""
        conditions = _conditions(flt)
        total = self.session.scalar(
            select(func.count(Incident.id))
            .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
            .where(*conditions)
        )
        last_worked_by = (
            select(HumanTask.completed_by)
            .where(
                HumanTask.instance_id == Incident.instance_id,
                HumanTask.completed_by.is_not(None),
            )
            .order_by(HumanTask.completed_at.desc())
            .limit(1)
            .correlate(Incident)
            .scalar_subquery()
        )
        rows = self.session.execute(
            select(Incident, ProcessInstance, ProcessVersion.name, last_worked_by)
            .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
            .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
            .where(*conditions)
            .order_by(Incident.created_at, Incident.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return total or 0, [
            OpenIncident(
                incident=IncidentView.of(incident),
                process_id=instance.process_id,
                process_name=name,
                process_version_id=instance.process_version_id,
                business_key=instance.business_key,
                last_worked_by=worker,
            )
            for incident, instance, name, worker in rows
        ]
