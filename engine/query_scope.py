"""What the engine's queries are asked: which tasks a viewer may see (`TaskScope`), which
instances belong to something outside the engine (`InstanceLink`), and a task filter.

The application decides who may see what (webapp/access.py, R-11) and describes it with these
objects; the engine turns them into SQL over its own tables, so no other layer names them.

An `InstanceLink` is a SQL condition the caller builds from its own tables over an instance's
id and business key, e.g. "a case of organisation 7"; the engine applies it to its columns. It
may be correlated with an outer query of the caller (the case list).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, null, or_, select

from engine.models import HumanTask, ProcessInstance

# (instance id column, business key column) → condition
InstanceLink = Callable[[Any, Any], ColumnElement[bool]]

SORTS = ("due", "-due", "created", "-created", "name", "-name")


@dataclass(frozen=True)
class TaskScope:
    """The tasks one user may see: those assigned to or completed by `username`, those whose
    candidate role is in `roles`, and those whose role is a key of `linked_roles` on an
    instance the link accepts (None: no instance). `all_tasks`: every task."""

    username: str
    roles: frozenset[str] = frozenset()
    linked_roles: tuple[tuple[str, InstanceLink | None], ...] = ()
    all_tasks: bool = False


@dataclass(frozen=True)
class TaskFilter:
    """Conditions on human tasks, all of which must hold (None / empty: no condition)."""

    state: str | None = "open"
    visible_to: TaskScope | None = None  # the tasks the scope may see
    by_role_of: TaskScope | None = None  # only those seen through a candidate role
    process_id: str | None = None
    name: str | None = None
    candidate_role: str | None = None
    business_key: str | None = None
    instance_ids: tuple[int, ...] | None = None
    assignee: str | None = None
    unassigned: bool = False
    due_before: datetime | None = None
    no_due_date: bool = False
    linked_to: InstanceLink | None = None  # on the task's own (id, business key) columns
    instance_linked_to: InstanceLink | None = None  # on its instance's columns
    text: str = ""  # in the name or business key, or …
    text_link: InstanceLink | None = None  # … an instance the link accepts
    # A caller's own follow-up dates, (task id, follow-up) rows, taking precedence over the
    # task's; `follow_up_due` then compares the effective date.
    follow_ups: Select | None = None
    follow_up_due: datetime | None = None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def task_by_role(scope: TaskScope) -> ColumnElement[bool]:
    """Tasks whose candidate role the scope holds (linked roles: only on linked instances)."""
    clauses: list[ColumnElement[bool]] = []
    if scope.roles:
        clauses.append(HumanTask.candidate_role.in_(sorted(scope.roles)))
    for role, link in scope.linked_roles:
        linked = link(HumanTask.instance_id, HumanTask.business_key) if link else false()
        clauses.append(and_(HumanTask.candidate_role == role, linked))
    return or_(*clauses) if clauses else false()


def task_visible(scope: TaskScope) -> ColumnElement[bool]:
    personal = or_(HumanTask.assignee == scope.username, HumanTask.completed_by == scope.username)
    if scope.all_tasks:
        return or_(personal, HumanTask.id.is_not(None))
    return or_(personal, task_by_role(scope))


def task_conditions(flt: TaskFilter, follow_up: Any = None) -> list[ColumnElement[bool]]:
    """The filter as SQL conditions on HumanTask (and ProcessInstance for instance_linked_to,
    the effective follow-up column for follow_up_due)."""
    found: list[ColumnElement[bool]] = []
    if flt.state is not None:
        found.append(HumanTask.state == flt.state)
    if flt.visible_to is not None:
        found.append(task_visible(flt.visible_to))
    if flt.by_role_of is not None:
        found.append(task_by_role(flt.by_role_of))
    for column, value in (
        (HumanTask.process_id, flt.process_id),
        (HumanTask.name, flt.name),
        (HumanTask.candidate_role, flt.candidate_role),
        (HumanTask.business_key, flt.business_key),
        (HumanTask.assignee, flt.assignee),
    ):
        if value is not None:
            found.append(column == value)
    if flt.instance_ids is not None:
        found.append(HumanTask.instance_id.in_(flt.instance_ids))
    if flt.unassigned:
        found.append(HumanTask.assignee.is_(None))
    if flt.due_before is not None:
        found.append(HumanTask.due_at < flt.due_before)
    if flt.no_due_date:
        found.append(HumanTask.due_at.is_(None))
    if flt.linked_to is not None:
        found.append(flt.linked_to(HumanTask.instance_id, HumanTask.business_key))
    if flt.instance_linked_to is not None:
        found.append(flt.instance_linked_to(ProcessInstance.id, ProcessInstance.business_key))
    if flt.text:
        pattern = _like(flt.text)
        matches = [
            HumanTask.name.ilike(pattern, escape="\\"),
            HumanTask.business_key.ilike(pattern, escape="\\"),
        ]
        if flt.text_link is not None:
            matches.append(flt.text_link(HumanTask.instance_id, HumanTask.business_key))
        found.append(or_(*matches))
    if flt.follow_up_due is not None and follow_up is not None:
        found.append(follow_up <= flt.follow_up_due)
    return found


def task_select(flt: TaskFilter, *columns: Any, personal: bool = False) -> Select:
    """SELECT columns FROM human_task with the filter's joins and conditions; `personal` adds
    the caller's own follow-up date (`follow_ups`) as the last column."""
    statement = select(*columns).select_from(HumanTask)
    follow_up: Any = HumanTask.follow_up_at
    if flt.follow_ups is not None:
        mine = flt.follow_ups.subquery()
        task_id, personal_at = mine.c[0], mine.c[1]
        statement = statement.outerjoin(mine, task_id == HumanTask.id)
        if personal:
            statement = statement.add_columns(personal_at)
        follow_up = func.coalesce(personal_at, HumanTask.follow_up_at)
    elif personal:
        statement = statement.add_columns(null())
    if flt.instance_linked_to is not None:
        statement = statement.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    return statement.where(*task_conditions(flt, follow_up))


def order_by(sort: str) -> list:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "due":
        column = HumanTask.due_at.desc() if descending else HumanTask.due_at.asc()
        # Tasks without a due date come last either way (portable: no NULLS LAST).
        return [HumanTask.due_at.is_(None), column, HumanTask.created_at, HumanTask.id]
    if key == "name":
        column = HumanTask.name.desc() if descending else HumanTask.name.asc()
        return [column, HumanTask.created_at, HumanTask.id]
    column = HumanTask.created_at.desc() if descending else HumanTask.created_at.asc()
    return [column, HumanTask.id]


def instance_involving(scope: TaskScope) -> ColumnElement[bool]:
    """On ProcessInstance: started by the scope's user or holding a task the scope may see."""
    return or_(
        ProcessInstance.started_by == scope.username,
        select(HumanTask.id)
        .where(HumanTask.instance_id == ProcessInstance.id, task_visible(scope))
        .correlate_except(HumanTask)
        .exists(),
    )


def running_instance_exists(
    linked_to: InstanceLink, except_instance: int | None = None
) -> ColumnElement[bool]:
    """EXISTS (a running instance the link accepts [other than `except_instance`]), for a
    caller's own query, with which the link may be correlated."""
    conditions = [
        ProcessInstance.status == "running",
        linked_to(ProcessInstance.id, ProcessInstance.business_key),
    ]
    if except_instance is not None:
        conditions.append(ProcessInstance.id != except_instance)
    return select(ProcessInstance.id).where(*conditions).correlate_except(ProcessInstance).exists()


@dataclass(frozen=True)
class InstanceFilter:
    """Conditions on process instances, all of which must hold (None: no condition). Visibility:
    every instance when `everything`; otherwise those `involving` accepts (started by its user or
    holding a task it may see) or one of the `through` links accepts."""

    everything: bool = False
    involving: TaskScope | None = None
    through: tuple[InstanceLink, ...] = ()
    process_id: str | None = None
    business_key: str | None = None
    status: str | None = None
    linked_to: InstanceLink | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    ended_from: datetime | None = None
    ended_to: datetime | None = None


def instance_conditions(flt: InstanceFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if not flt.everything:
        visible = [link(ProcessInstance.id, ProcessInstance.business_key) for link in flt.through]
        if flt.involving is not None:
            visible.append(instance_involving(flt.involving))
        conditions.append(or_(*visible) if visible else false())
    for column, value in (
        (ProcessInstance.process_id, flt.process_id),
        (ProcessInstance.business_key, flt.business_key),
        (ProcessInstance.status, flt.status),
    ):
        if value is not None:
            conditions.append(column == value)
    if flt.linked_to is not None:
        conditions.append(flt.linked_to(ProcessInstance.id, ProcessInstance.business_key))
    for column, low, high in (
        (ProcessInstance.started_at, flt.started_from, flt.started_to),
        (ProcessInstance.ended_at, flt.ended_from, flt.ended_to),
    ):
        if low is not None:
            conditions.append(column >= low)
        if high is not None:
            conditions.append(column <= high)
    return conditions
