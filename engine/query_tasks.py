"""Read queries on human tasks for the web and the API: one task, pages of tasks with filters,
sort and paging, counts, option lists, and which tasks a viewer may see (engine.query_scope).
Rows come back as `TaskView` snapshots."""

from collections.abc import Iterable
from functools import cache
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import joinedload

from engine.core import EngineCore, valid_id
from engine.models import EventLog, HumanTask, ProcessInstance, ProcessVersion
from engine.query_scope import TaskFilter, TaskScope, order_by, task_by_role, task_select
from engine.read_models import TaskView

_VALUE_COLUMNS = {
    "process_id": HumanTask.process_id,
    "name": HumanTask.name,
    "assignee": HumanTask.assignee,
}


@cache
def _task_with_instance_query() -> Select:
    """One task with its instance and version. Built once, on first use (issue 16: building the
    select with its loader option cost more than running it; not at import, as a loader option
    configures every mapper)."""
    return (
        select(HumanTask, ProcessInstance)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.id == bindparam("task_id"))
        .options(joinedload(ProcessInstance.process_version))
    )


class TaskQueries(EngineCore):
    """Human tasks as the web and the API read them."""

    def _task_views(self, rows: list[HumanTask]) -> list[TaskView]:
        versions = self._version_ids({row.instance_id for row in rows})
        return [TaskView.of(row, versions[row.instance_id]) for row in rows]

    def _version_ids(self, instance_ids: set[int]) -> dict[int, tuple[int, str]]:
        """{instance id: (its version's id, the process name)}."""
        if not instance_ids:
            return {}
        rows = self.session.execute(
            select(ProcessInstance.id, ProcessVersion.id, ProcessVersion.name)
            .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
            .where(ProcessInstance.id.in_(sorted(instance_ids)))
        ).all()
        return {instance_id: (version_id, name) for instance_id, version_id, name in rows}

    def find_task(self, task_id: str) -> TaskView | None:
        if not isinstance(task_id, str):
            return None
        # The task, its instance and version in one query; an operation on the task that
        # follows in the same session (complete, claim) finds them in the session (issue 16).
        found = self.session.execute(_task_with_instance_query(), {"task_id": task_id}).first()
        if found is None:
            return None
        row, instance = found
        # The session's identity map holds objects weakly: keep the last found task and instance
        # alive for the rest of the session (one pair, replaced on the next find).
        self.session.info["engine.last_found_task"] = found
        version = instance.process_version
        return TaskView.of(row, (version.id, version.name))

    def task_in_scope(self, task_id: str, scope: TaskScope, *, through_role: bool = False) -> bool:
        """May the scope see the task (through_role: through its candidate role only)?"""
        flt = TaskFilter(
            state=None,
            visible_to=None if through_role else scope,
            by_role_of=scope if through_role else None,
        )
        found = self.session.scalars(
            task_select(flt, HumanTask.id).where(HumanTask.id == task_id).limit(1)
        ).first()
        return found is not None

    def tasks_in_scope(self, task_ids: list[str], scope: TaskScope) -> set[str]:
        """The ones of `task_ids` (ids of existing tasks) the scope may see."""
        if not task_ids:
            return set()
        if scope.all_tasks:  # task_visible accepts every task: no query (issue 16)
            return set(task_ids)
        flt = TaskFilter(state=None, visible_to=scope)
        return set(
            self.session.scalars(task_select(flt, HumanTask.id).where(HumanTask.id.in_(task_ids)))
        )

    def count_tasks(self, flt: TaskFilter) -> int:
        return self.session.scalar(task_select(flt, func.count(HumanTask.id))) or 0

    def list_tasks(
        self, flt: TaskFilter, *, sort: str = "created", limit: int | None = None, offset: int = 0
    ) -> list[TaskView]:
        statement = task_select(flt, HumanTask).order_by(*order_by(sort)).offset(offset)
        if limit is not None:
            statement = statement.limit(limit)
        return self._task_views(list(self.session.scalars(statement)))

    def list_tasks_with_follow_up(
        self, flt: TaskFilter, *, sort: str, limit: int, offset: int = 0
    ) -> list[tuple[TaskView, Any]]:
        """Like list_tasks, each with the caller's own follow-up date (`flt.follow_ups`)."""
        statement = task_select(flt, HumanTask, personal=True)
        rows = self.session.execute(
            statement.order_by(*order_by(sort)).limit(limit).offset(offset)
        ).all()
        views = self._task_views([row for row, _ in rows])
        return [(view, personal) for view, (_, personal) in zip(views, rows, strict=True)]

    def task_values(
        self, flt: TaskFilter, field: Literal["process_id", "name", "assignee"], limit: int = 200
    ) -> list[str]:
        """The distinct values of one field over the filtered tasks (filter option lists)."""
        column = _VALUE_COLUMNS[field]
        return list(
            self.session.scalars(
                task_select(flt, column)
                .where(column.is_not(None))
                .distinct()
                .order_by(column)
                .limit(limit)
            )
        )

    def task_exists(self, flt: TaskFilter) -> ColumnElement[bool]:
        """EXISTS (a task of the filter) for a caller's own query; the filter's links may be
        correlated with that query's tables."""
        return task_select(flt, HumanTask.id).correlate_except(HumanTask).exists()

    def task_by_role_exists(self, scope: TaskScope, task_id: str) -> ColumnElement[bool]:
        return select(HumanTask.id).where(HumanTask.id == task_id, task_by_role(scope)).exists()

    def task_names(
        self, instance_ids: list[int], only: Iterable[str] | None = None
    ) -> dict[str, str]:
        """{task id: name} of every human task of the instances (`only`: of these tasks, e.g.
        those a page of events names — not every task of a long case; issue 16)."""
        wanted = None if only is None else sorted(set(only))
        if not instance_ids or wanted == []:
            return {}
        statement = select(HumanTask.id, HumanTask.name).where(
            HumanTask.instance_id.in_(instance_ids)
        )
        if wanted is not None:
            statement = statement.where(HumanTask.id.in_(wanted))
        return dict(self.session.execute(statement).all())

    def task_elements(self, instance_id: int, scope: TaskScope) -> list[tuple[str, str]]:
        """(element id, state) of the instance's tasks the scope may see."""
        flt = TaskFilter(state=None, visible_to=scope, instance_ids=(instance_id,))
        return [
            (element, state)
            for element, state in self.session.execute(
                task_select(flt, HumanTask.element_id, HumanTask.state)
            ).all()
        ]

    def submitted_forms(self, instance_ids: list[int]) -> list[tuple[TaskView, dict]]:
        """The completed form tasks of the instances with the data submitted in each, in the
        order they were completed (the event log's order: completion times may be equal, e.g.
        two rounds of answers on one day of the simulated clock)."""
        return [(task, data) for task, _, data in self._submitted_with_versions(instance_ids)]

    def _submitted_with_versions(
        self, instance_ids: list[int]
    ) -> list[tuple[TaskView, ProcessVersion, dict]]:
        """submitted_forms with each task's process version, in two queries whatever the number
        of forms and instances: the tasks with their versions, the submitted data (issue 16)."""
        if not instance_ids or not all(valid_id(i) for i in instance_ids):
            return []
        completed = self.session.execute(
            select(HumanTask, ProcessVersion)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
            .where(
                HumanTask.instance_id.in_(sorted(set(instance_ids))),
                HumanTask.state == "completed",
                HumanTask.form_file.is_not(None),
            )
        ).all()
        by_id = {
            row.id: (TaskView.of(row, (version.id, version.name)), version)
            for row, version in completed
        }
        submitted: dict[str, dict] = {}
        if by_id:
            for task_id, data in self.session.execute(
                select(EventLog.task_id, EventLog.data)
                .where(
                    EventLog.task_id.in_(list(by_id)),
                    EventLog.event_type == "task_completed",
                )
                .order_by(EventLog.id)
            ).all():
                submitted.setdefault(task_id, (data or {}).get("data") or {})
        return [(*by_id[task_id], data) for task_id, data in submitted.items()]
