"""Read queries on process instances for the web and the API: one instance, the instances of a
link (e.g. an organisation's case), which a viewer may see, the elements passed, the event log,
incidents and the stored BPMN files. Rows come back as read models (engine.read_models)."""

from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import defer, joinedload

from engine.core import EngineCore, valid_id
from engine.models import (
    EventLog,
    HumanTask,
    Incident,
    ProcessInstance,
    ProcessVersionFile,
    SourceFile,
)
from engine.query_scope import (
    InstanceFilter,
    InstanceLink,
    TaskScope,
    instance_conditions,
    instance_involving,
    task_visible,
)
from engine.read_models import EventView, IncidentView, InstanceView, ProcessView


def _as_viewed() -> tuple:
    """An instance as its read model needs it: with its version, without the stored workflow
    state (up to hundreds of KB for a running case; InstanceView never shows it) — issue 16.
    Built at the call: loader options configure the mappers, which must not happen at import."""
    return defer(ProcessInstance.state_json), joinedload(ProcessInstance.process_version)


# Events whose element counts as passed on the diagram (besides completed human tasks).
COMPLETING_EVENTS = ("task_completed", "incident_resolved")


class InstanceQueries(EngineCore):
    """Process instances, their events and incidents as the web and the API read them."""

    def latest_processes(self) -> list[ProcessView]:
        """The latest deployed version of every process, by process id."""
        return [ProcessView.of(version) for version in self.list_latest_versions()]

    def find_instance(self, instance_id: int) -> InstanceView | None:
        row = self.session.get(ProcessInstance, instance_id) if valid_id(instance_id) else None
        return InstanceView.of(row) if row is not None else None

    def instance_view(self, instance_id: int) -> InstanceView:
        """The instance (NotFoundError when there is none), e.g. after an operation."""
        return InstanceView.of(self._get_instance(instance_id))

    def instance_in_scope(
        self, instance_id: int, scope: TaskScope, linked_to: InstanceLink | None = None
    ) -> bool:
        """Has the instance a task the scope may see, or is it one the link accepts?"""
        through: list[ColumnElement[bool]] = [
            select(HumanTask.id)
            .where(HumanTask.instance_id == ProcessInstance.id, task_visible(scope))
            .correlate_except(HumanTask)
            .exists()
        ]
        if linked_to is not None:
            through.append(linked_to(ProcessInstance.id, ProcessInstance.business_key))
        query = select(ProcessInstance.id).where(ProcessInstance.id == instance_id, or_(*through))
        return self.session.scalars(query.limit(1)).first() is not None

    def list_instances(self, linked_to: InstanceLink) -> list[InstanceView]:
        """The instances the link accepts, oldest first."""
        rows = self.session.scalars(
            select(ProcessInstance)
            .where(linked_to(ProcessInstance.id, ProcessInstance.business_key))
            .order_by(ProcessInstance.started_at, ProcessInstance.id)
            .options(*_as_viewed())
        )
        return [InstanceView.of(row) for row in rows]

    def page_instances(
        self, flt: InstanceFilter, *, limit: int, offset: int = 0
    ) -> tuple[int, list[InstanceView]]:
        """(how many instances the filter accepts, one page of them oldest first)."""
        conditions = instance_conditions(flt)
        total = self.session.scalar(select(func.count(ProcessInstance.id)).where(*conditions)) or 0
        rows = self.session.scalars(
            select(ProcessInstance)
            .where(*conditions)
            .order_by(ProcessInstance.started_at, ProcessInstance.id)
            .limit(limit)
            .offset(offset)
            .options(*_as_viewed())
        )
        return total, [InstanceView.of(row) for row in rows]

    def instance_exists(
        self, linked_to: InstanceLink, involving: TaskScope | None = None
    ) -> ColumnElement[bool]:
        """EXISTS (an instance the link accepts [started by the scope's user or holding a task
        it may see]) for a caller's own query, with which the link may be correlated."""
        conditions = [linked_to(ProcessInstance.id, ProcessInstance.business_key)]
        if involving is not None:
            conditions.append(instance_involving(involving))
        return (
            select(ProcessInstance.id).where(*conditions).correlate_except(ProcessInstance).exists()
        )

    def passed_elements(self, instance: InstanceView) -> list[str]:
        """Elements completed (human tasks, completing events) and no longer active."""
        done = set(
            self.session.scalars(
                select(HumanTask.element_id).where(
                    HumanTask.instance_id == instance.id, HumanTask.state == "completed"
                )
            )
        )
        done |= {
            element
            for element in self.session.scalars(
                select(EventLog.element_id).where(
                    EventLog.instance_id == instance.id,
                    EventLog.event_type.in_(COMPLETING_EVENTS),
                    EventLog.element_id.is_not(None),
                )
            )
            if element
        }
        return sorted(done - set(instance.active_elements or []))

    def instance_events(
        self,
        instance_ids: list[int],
        *,
        limit: int,
        newest_first: bool,
        only_for: TaskScope | None = None,
        instance_event_types: Iterable[str] = (),
    ) -> list[EventView]:
        """The event log of the instances; with `only_for`, only the events of the instance
        itself listed in `instance_event_types` and those of the tasks the scope may see."""
        if not instance_ids:
            return []
        order = (
            [EventLog.at.desc(), EventLog.id.desc()] if newest_first else [EventLog.at, EventLog.id]
        )
        # Columns, not entities: up to hundreds of rows only read into EventViews (issue 16).
        statement = select(*EventLog.__table__.c).where(EventLog.instance_id.in_(instance_ids))
        if only_for is not None:
            own_tasks = select(HumanTask.id).where(
                HumanTask.instance_id.in_(instance_ids), task_visible(only_for)
            )
            statement = statement.where(
                or_(
                    EventLog.event_type.in_(tuple(instance_event_types)),
                    EventLog.task_id.in_(own_tasks),
                )
            )
        rows = self.session.execute(statement.order_by(*order).limit(limit))
        return [EventView.of(row) for row in rows]

    def incident_views(self, instance_id: int) -> list[IncidentView]:
        """The open incidents of the instance."""
        return self.incidents_of([instance_id])

    def open_incidents_of(self, instance: InstanceView) -> list[IncidentView]:
        """The open incidents of the instance as viewed; no query unless it is in error: an
        incident is opened only by an operation that then saves the status "error", which
        stays until none is open (InstanceRun._status; issue 16, the API's answers)."""
        return self.incident_views(instance.id) if instance.status == "error" else []

    def incidents_of(self, instance_ids: list[int]) -> list[IncidentView]:
        """The open incidents of several instances, oldest first."""
        ids = [i for i in instance_ids if valid_id(i)]
        if not ids:
            return []
        rows = self.session.scalars(
            select(Incident)
            .where(Incident.instance_id.in_(ids), Incident.status == "open")
            .order_by(Incident.id)
        )
        return [IncidentView.of(row) for row in rows]

    def blocked_instances_worked_on(self, username: str, limit: int = 20) -> list[InstanceView]:
        """Instances stopped on an incident in which `username` completed a task, latest first."""
        rows = self.session.scalars(
            select(ProcessInstance)
            .where(
                ProcessInstance.status == "error",
                ProcessInstance.id.in_(
                    select(HumanTask.instance_id).where(HumanTask.completed_by == username)
                ),
            )
            .order_by(ProcessInstance.updated_at.desc())
            .limit(limit)
            .options(*_as_viewed())
        )
        return [InstanceView.of(row) for row in rows]

    def incident_view(self, incident_id: int) -> IncidentView | None:
        row = self.session.get(Incident, incident_id) if valid_id(incident_id) else None
        return IncidentView.of(row) if row is not None else None

    def deployed_sources_ending(self, suffix: str) -> list[str]:
        """sha256 of every distinct deployed file whose path ends with `suffix`, the one of the
        newest version last (e.g. the processes catalogues)."""
        newest = func.max(ProcessVersionFile.process_version_id)
        rows = self.session.execute(
            select(ProcessVersionFile.sha256, newest)
            .where(ProcessVersionFile.path.like(f"%{suffix}"))
            .group_by(ProcessVersionFile.sha256)
            .order_by(newest)
        ).all()
        return [sha256 for sha256, _ in rows]

    def source_content(self, sha256: str) -> bytes | None:
        """A stored source file by its content hash."""
        stored = self.session.get(SourceFile, sha256)
        return stored.content if stored is not None else None

    def version_file(self, version_id: int, path: str) -> bytes | None:
        """A stored source file (BPMN, DMN, form) of a deployed version."""
        stored = self.session.get(ProcessVersionFile, (version_id, path))
        return stored.source.content if stored is not None else None
