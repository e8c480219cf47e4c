"""The workflow engine: the only place that runs SpiffWorkflow for the application.

`WorkflowEngine` is the facade over the engine's parts, one module each: instance run and save
(`instance_run`), the human-task index (`task_index`) and the operations on tasks
(`task_operations`), messages, timers (`timer_sweep`), incidents and their repair (`repair`),
definitions (`versions`) and read queries (`queries`: `query_tasks`, `query_instances`, scoped
by `query_scope`, answering with the snapshots of `read_models`); what they share is in
`core`. It is given its handler registry and hooks (`engine.registry`, `engine.hooks`) and
imports no application code.

    WorkflowEngine(session_factory, clock, registry, hooks=hooks, format_checker=...)

Every public operation is one database transaction (see `engine.core`).
"""

from SpiffWorkflow.exceptions import WorkflowException

from engine.actors import SUPERVISOR_ROLES, SYSTEM, Actor
from engine.bulk_history import BulkHistory, FinishedHistory
from engine.decisions import Decisions
from engine.errors import (
    ConflictError,
    EngineError,
    ForbiddenError,
    FormValidationError,
    NotFoundError,
)
from engine.incidents import Incidents
from engine.instance_run import InstanceRun
from engine.messages import MessageResult, Messages
from engine.migration import Migration
from engine.pruning import Pruning
from engine.queries import Queries
from engine.query_figures import FigureQueries
from engine.query_incidents import IncidentFilter, OpenIncident
from engine.query_scope import SORTS as TASK_SORTS
from engine.query_scope import InstanceFilter, InstanceLink, TaskFilter, TaskScope
from engine.query_task_times import TaskTimeQueries
from engine.query_timers import TimerQueries
from engine.read_models import (
    EventView,
    IncidentView,
    InstanceView,
    ProcessView,
    TaskView,
    VersionView,
)
from engine.repair import Repair
from engine.task_index import TaskIndex
from engine.task_operations import TaskOperations
from engine.timer_sweep import TimerSweep
from engine.versions import Versions


class WorkflowEngine(
    Migration,
    Versions,
    Queries,
    TaskOperations,
    Messages,
    TimerSweep,
    TimerQueries,
    FigureQueries,
    TaskTimeQueries,
    Repair,
    Incidents,
    TaskIndex,
    InstanceRun,
    Decisions,
    Pruning,
    BulkHistory,
):
    """Deploy, start, complete/claim/unclaim/reassign, messages, timers, incident retry and
    repair (correct and retry, send back), the queries on instances and tasks, decision previews
    (the constructor is `EngineCore.__init__`)."""


__all__ = [
    "Actor",
    "ConflictError",
    "EngineError",
    "EventView",
    "FinishedHistory",
    "ForbiddenError",
    "FormValidationError",
    "IncidentFilter",
    "IncidentView",
    "InstanceLink",
    "InstanceView",
    "MessageResult",
    "NotFoundError",
    "OpenIncident",
    "ProcessView",
    "SUPERVISOR_ROLES",
    "SYSTEM",
    "TASK_SORTS",
    "InstanceFilter",
    "TaskFilter",
    "TaskScope",
    "TaskView",
    "VersionView",
    "WorkflowEngine",
    "WorkflowException",
]
