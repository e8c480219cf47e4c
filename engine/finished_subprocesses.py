"""Finished subprocesses leave the running state (issue 16).

SpiffWorkflow 3.2 keeps every subprocess a call activity started in `workflow.subprocesses`,
finished or not: a surveillance cycle carried about 72 tasks per surveillance it had done, and
loading and saving cost per task. Once a subprocess has completed and its calling task is
completed too, nothing runs it again (a call activity reached again is a new task with a new
subprocess; a reset of the calling task starts a new one), so before each save it is deleted
(with the subprocesses it called) and what the product still reads of it is kept with the state:

- per removed subprocess (keyed by its calling task) and per process id in it: the diagram
  marks of its tasks (elements completed, flows taken), merged by engine/diagram_state.py as if
  the tasks were still there, and the task spec names it reached (the states instance migration
  counts as reached) with the calling task (process id, spec name), so that a migration's dry
  run (engine/migration.py) lists and refuses what it did before.

An entry counts only while its calling task is still in the workflow and completed: a reset
(send back, engine/repair.py) that removes or reopens the calling task drops the entry, as
SpiffWorkflow's reset deleted the subprocess with its tasks.

The data of the removed user and manual tasks, as they completed, are kept in the record too
(engine/queries.py reads them for the task page).

The record is stored as one JSON text of its own (with its own value table for the task data)
under `RECORD_KEY` in the state, beside the caller ids it names (engine/serialization.py). It
is half the bytes of a long-running state and changes only when another subprocess finishes:
a load leaves the text undecoded until something reads the record (a diagram, a task page, a
migration dry run), and a save while the record is unchanged writes the text back as it was
(issue 16: decoding and encoding it was about 30 % of loading and saving such a state).
States written before (the record as a mapping under `FINISHED_KEY`, its task data in the
state's value table) still load.
"""

import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from engine.diagram_state import ACTIVE, FINISHED_ATTR, REACHED, reached_from
from engine.state_compaction import (
    FINISHED_KEY,
    RECORD_KEY,
    InternedValues,
    StoredRefs,
    decode_record,
    encode_record,
)

# The states instance migration counts as reached (engine/migration.py REACHED).
MIGRATION_REACHED = (
    TaskState.FINISHED_MASK | TaskState.STARTED | TaskState.READY | TaskState.WAITING
)
KEYS = ("completed", "flows", "reached")


def _task(workflow: BpmnWorkflow, task_id: str):
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except TaskNotFoundException:
        return None


def _current(workflow: BpmnWorkflow, caller_id: str) -> bool:
    caller = _task(workflow, caller_id)
    return caller is not None and caller.state == TaskState.COMPLETED


class StoredRecord:
    """A record as stored: the caller ids it names and its JSON text, decoded when asked."""

    def __init__(
        self, callers: list[str], text: str, restore: Callable[[Any], Any] | None = None
    ) -> None:
        self.callers, self.text = callers, text
        # SpiffWorkflow's registry.restore (dates, Decimals, …); None: never decoded (written)
        self._restore = restore

    def decode(self) -> dict[str, dict[str, dict[str, Any]]]:
        entries, values = decode_record(self.text)
        table = InternedValues(values, self._restore)
        return restore_task_data(entries, lambda refs: StoredRefs(refs, table))


class FinishedRecord:
    """{calling task id: {process id: {"completed": [...], "flows": [[source, target]],
    "reached": [...], "caller": [calling process id, calling spec name],
    "task_data": {user/manual task id: its data when it completed}}}}: `entries`, decoded from
    the stored text on first use."""

    def __init__(
        self,
        entries: dict[str, dict[str, dict[str, list]]] | None = None,
        stored: StoredRecord | None = None,
    ) -> None:
        if entries is None and stored is None:
            entries = {}
        self._entries = entries  # None: decoded from `stored` on first use
        # as loaded or as last written: written again verbatim while the entries are these
        self.stored = stored

    @property
    def entries(self) -> dict[str, dict[str, dict[str, Any]]]:
        if self._entries is None:
            self._entries = self.stored.decode()
        return self._entries

    @property
    def callers(self) -> list[str]:
        return list(self._entries) if self._entries is not None else self.stored.callers

    def text(self, encoder_cls: type[json.JSONEncoder]) -> str:
        """The record's JSON text: the stored one, else the entries encoded (and kept as the
        stored text, for the next save of a workflow kept in memory)."""
        if self.stored is None:
            entries = self.entries
            self.stored = StoredRecord(list(entries), encode_record(entries, encoder_cls))
        return self.stored.text

    def current(self, workflow: BpmnWorkflow) -> dict[str, dict[str, dict[str, list]]]:
        """The entries whose calling task is still in the workflow and completed."""
        return {
            caller_id: entry
            for caller_id, entry in self.entries.items()
            if _current(workflow, caller_id)
        }

    def processes(self, workflow: BpmnWorkflow) -> dict[str, dict[str, set]]:
        """Per process id: the union of the current entries' completed, flows, reached and
        callers (sets; flows and callers as tuples)."""
        merged: dict[str, dict[str, set]] = {}
        for entry in self.current(workflow).values():
            for process_id, kept in entry.items():
                into = merged.setdefault(process_id, {k: set() for k in (*KEYS, "callers")})
                into["completed"].update(kept["completed"])
                into["flows"].update(tuple(flow) for flow in kept["flows"])
                into["reached"].update(kept["reached"])
                into["callers"].add(tuple(kept["caller"]))
        return merged

    def task_data(self, workflow: BpmnWorkflow, task_id: str) -> dict[str, Any] | None:
        """The data of a completed user or manual task of a removed subprocess, as it was when
        the task completed (None: not one of them)."""
        for entry in self.current(workflow).values():
            for kept in entry.values():
                data = kept.get("task_data", {}).get(task_id)
                if data is not None:
                    return data.resolve() if isinstance(data, StoredRefs) else data
        return None


def finished_record(workflow: BpmnWorkflow) -> FinishedRecord:
    return getattr(workflow, FINISHED_ATTR, None) or FinishedRecord()


def set_finished_record(workflow: BpmnWorkflow, record: FinishedRecord) -> None:
    setattr(workflow, FINISHED_ATTR, record)


def _removable(workflow: BpmnWorkflow, caller_id) -> bool:
    subprocess = workflow.subprocesses.get(caller_id)
    if subprocess is None or not subprocess.completed:
        return False
    caller = _task(workflow, str(caller_id))
    if caller is None or caller.state != TaskState.COMPLETED:
        return False
    # A completed subprocess has no active task; checked anyway: an active or failing task
    # (an open incident) must never disappear with its subprocess.
    return not any(task.state & ACTIVE for task in subprocess.get_tasks())


def _entry(caller, tasks) -> dict[str, dict[str, list]]:
    callers = {caller.task_spec.spec: (caller.workflow.spec.name, caller.task_spec.name)}
    sets: dict[str, dict[str, set]] = {}
    data: dict[str, dict[str, dict]] = {}  # process id → human task id → its data
    for task in tasks:
        if isinstance(task.task_spec, SubWorkflowTask):  # a nested call: its process's caller
            callers.setdefault(task.task_spec.spec, (task.workflow.spec.name, task.task_spec.name))
        kept = sets.setdefault(task.workflow.spec.name, {k: set() for k in KEYS})
        if task.state == TaskState.COMPLETED and isinstance(task.task_spec, UserTask | ManualTask):
            data.setdefault(task.workflow.spec.name, {})[str(task.id)] = dict(task.data)
        if task.state & MIGRATION_REACHED:
            kept["reached"].add(task.task_spec.name)
        element = getattr(task.task_spec, "bpmn_id", None)
        if element is None or not task.state & REACHED:
            continue
        kept["completed"].add(element)
        source = reached_from(task)
        if source is not None:
            kept["flows"].add((source, element))
    return {
        process_id: {
            "completed": sorted(kept["completed"]),
            "flows": sorted(list(flow) for flow in kept["flows"]),
            "reached": sorted(kept["reached"]),
            "caller": list(callers.get(process_id, ("", ""))),
            "task_data": data.get(process_id, {}),
        }
        for process_id, kept in sets.items()
    }


def _merge(entry: dict[str, dict[str, list]], nested: dict[str, dict[str, list]]) -> None:
    for process_id, kept in nested.items():
        into = entry.get(process_id)
        if into is None:
            entry[process_id] = kept
            continue
        into["completed"] = sorted(set(into["completed"]) | set(kept["completed"]))
        into["flows"] = sorted(map(list, {*map(tuple, into["flows"]), *map(tuple, kept["flows"])}))
        into["reached"] = sorted(set(into["reached"]) | set(kept["reached"]))
        into["task_data"] = {**into.get("task_data", {}), **kept.get("task_data", {})}


def remove_finished_subprocesses(workflow: BpmnWorkflow) -> int:
    """Delete the finished subprocesses of completed calling tasks, keeping their marks in the
    workflow's record (and dropping entries whose calling task is gone); returns the number of
    tasks removed."""
    record = finished_record(workflow)
    if not any(_removable(workflow, caller_id) for caller_id in workflow.subprocesses) and all(
        _current(workflow, caller_id) for caller_id in record.callers
    ):
        return 0  # the record stays as it is (its text undecoded)
    entries = record.current(workflow)
    removed = 0
    for caller_id in list(workflow.subprocesses):
        if caller_id not in workflow.subprocesses or not _removable(workflow, caller_id):
            continue  # already removed with the subprocess that called it
        caller = workflow.get_task_from_id(caller_id)
        tasks = workflow.delete_subprocess(caller)
        entry = _entry(caller, tasks)
        for task in tasks:  # a subprocess it called, removed earlier: its entry goes with it
            _merge(entry, entries.pop(str(task.id), {}))
        entries[str(caller_id)] = entry
        for task in tasks:
            workflow.event_manager.remove_task(task)
        removed += len({task.id for task in tasks})  # nested ones are listed twice
    if removed or entries != record.entries:
        set_finished_record(workflow, FinishedRecord(entries))
    return removed


def state_with_record(
    dct: dict[str, Any], workflow: BpmnWorkflow, encoder_cls: type[json.JSONEncoder]
) -> dict[str, Any]:
    """The serializer's dictionary of the workflow with its record's text (when it has one)."""
    record = finished_record(workflow)
    if record.callers:
        dct[RECORD_KEY] = {"callers": record.callers, "text": record.text(encoder_cls)}
    return dct


def plain_state_with_record(dct: dict[str, Any], workflow: BpmnWorkflow) -> dict[str, Any]:
    """The serializer's dictionary of the workflow with its record as a mapping, every task's
    data restored (SpiffWorkflow's plain format, which has no value table)."""
    record = finished_record(workflow)
    if record.entries:
        dct[FINISHED_KEY] = {
            caller_id: {
                process_id: {
                    **kept,
                    "task_data": {
                        t: v.resolve() if isinstance(v, StoredRefs) else v
                        for t, v in kept.get("task_data", {}).items()
                    },
                }
                for process_id, kept in entry.items()
            }
            for caller_id, entry in record.entries.items()
        }
    return dct


def stored_entries(state: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The record's entries of a stored state (as parsed), either form, task data as stored."""
    stored = state.get(RECORD_KEY)
    if stored is not None:
        return decode_record(stored["text"])[0]
    return state.get(FINISHED_KEY) or {}


def restore_task_data(entries: dict, restore: Callable[[dict], Any]) -> dict:
    """The stored record with each task's data restored (`restore`: SpiffWorkflow's registry
    for a plain state, `StoredRefs` bound to the value table of a compact one), in place."""
    for entry in entries.values():
        for kept in entry.values():
            kept["task_data"] = {
                task_id: restore(data) for task_id, data in kept.get("task_data", {}).items()
            }
    return entries
