"""What an instance diagram marks (issue 10): per process of the instance (the instance's own
and every called one), the elements reached — every kind: tasks, service and script tasks,
gateways, events, call activities — the sequence flows taken, the active elements, and the
elements with an open incident, with a failing element inside a called process also marked on
the call activity that called it (up to the top process).

Read from the workflow's task tree: a task with a BPMN element whose parent task (skipping the
engine's internal tasks) is another BPMN element means the flow between the two was taken.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

REACHED = TaskState.COMPLETED
# The record of the finished subprocesses removed from a running workflow, kept on the loaded
# workflow (engine/finished_subprocesses.py): their marks count as if their tasks were there.
FINISHED_ATTR = "certflow_finished"
ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


@dataclass
class ProcessMarks:
    completed: set[str] = field(default_factory=set)
    active: set[str] = field(default_factory=set)
    incidents: set[str] = field(default_factory=set)
    flows: set[tuple[str, str]] = field(default_factory=set)  # (source element, target element)

    def as_dict(self) -> dict[str, list]:
        return {
            "completed": sorted(self.completed - self.active),
            "active": sorted(self.active),
            "incidents": sorted(self.incidents),
            "flows": sorted([list(pair) for pair in self.flows]),
        }


def _element(task: Task) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None)


def _process_id(task: Task) -> str:
    return task.workflow.spec.name


def _calling_task(workflow: BpmnWorkflow, task: Task) -> Task | None:
    """The call activity (or subprocess) task whose subprocess holds `task`, if any."""
    parent_id = getattr(task.workflow, "parent_task_id", None)
    return workflow.get_task_from_id(parent_id) if parent_id is not None else None


def _with_callers(workflow: BpmnWorkflow, task: Task) -> Iterable[Task]:
    current: Task | None = task
    seen = 0
    while current is not None and seen < 50:  # nesting depth is tiny; the bound is a guard
        yield current
        current = _calling_task(workflow, current)
        seen += 1


def reached_from(task: Task) -> str | None:
    """The BPMN element the flow into `task` came from, skipping internal tasks."""
    parent = task.parent
    while parent is not None and parent.workflow is task.workflow:
        element = _element(parent)
        if element is not None and element != _element(task):
            return element
        if element == _element(task):
            return None  # the same element (e.g. a boundary-event wrapper): not a flow
        parent = parent.parent
    return None


def diagram_marks(
    workflow: BpmnWorkflow, incident_task_ids: Iterable[str]
) -> dict[str, dict[str, list]]:
    marks: dict[str, ProcessMarks] = {}

    def of(process_id: str) -> ProcessMarks:
        return marks.setdefault(process_id, ProcessMarks())

    for task in workflow.get_tasks():
        element = _element(task)
        if element is None:
            continue
        process = of(_process_id(task))
        if task.state & REACHED:
            process.completed.add(element)
        elif task.state & ACTIVE:
            for current in _with_callers(workflow, task):
                if _element(current) is not None:
                    of(_process_id(current)).active.add(_element(current))
        else:
            continue  # FUTURE / LIKELY / MAYBE / CANCELLED: not reached
        source = reached_from(task)
        if source is not None:
            process.flows.add((source, element))
    # The finished subprocesses removed from the state (a FinishedRecord, when there is one),
    # after the tasks: the processes keep the order in which the instance reached them.
    finished = getattr(workflow, FINISHED_ATTR, None)
    for process_id, kept in (finished.processes(workflow) if finished else {}).items():
        of(process_id).completed.update(kept["completed"])
        of(process_id).flows.update(kept["flows"])
    for raw in incident_task_ids:
        try:
            task = workflow.get_task_from_id(UUID(str(raw)))
        except (ValueError, KeyError, TaskNotFoundException):
            continue
        if task is None:
            continue
        for current in _with_callers(workflow, task):
            if _element(current) is not None:
                of(_process_id(current)).incidents.add(_element(current))
    return {process_id: m.as_dict() for process_id, m in marks.items()}
