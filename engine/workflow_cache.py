"""Workflows this process saved, kept for the next change of the same instance (issue 16).

Restoring a workflow from its state costs more than any other part of a change (a surveillance
cycle of ~100 tasks: 5–7 ms), and the instance changed next is often the one just saved: the
next task of a case, a timer set by the last completion, the certificate's first completion
after its start. So after a commit the engine keeps each workflow it saved with the exact state
text it wrote, and a later change of that instance uses the kept object when the row's state is
still that text (compared in full: a change by another process, a migration, a restore, a
pruning all write other text). A kept workflow is taken out while a change uses it and comes
back only with the change's commit, so no two operations share one; a rollback drops it.
Reads (pages, diagrams) restore their own copy and never touch the kept ones.

`verify=True` (the tests) restores the state anyway and compares it with the kept workflow, so
a value that would come back different from the JSON (a tuple, an integer key) fails there."""

from collections import OrderedDict
from collections.abc import Callable, Mapping
from threading import Lock
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow

from engine.diagram_state import FINISHED_ATTR
from engine.state_compaction import StoredRefs


class WorkflowCacheMismatch(AssertionError):
    """A kept workflow differs from its restored state (verify mode only)."""


class WorkflowCache:
    """At most `size` kept workflows, the least recently kept dropped first; 0 keeps none."""

    def __init__(
        self,
        size: int,
        *,
        verify: bool = False,
        counted: Callable[[bool], None] = lambda kept: None,
    ) -> None:
        self.size = size
        self.verify = verify
        self._counted = counted  # told of every take: True when the kept workflow was used
        self._kept: OrderedDict[int, tuple[str, BpmnWorkflow]] = OrderedDict()
        self._lock = Lock()
        self.hits = 0
        self.misses = 0

    def take(
        self, instance_id: int, state_json: str, restore: Callable[[], BpmnWorkflow]
    ) -> BpmnWorkflow:
        """The workflow of the instance whose stored state is `state_json`: the kept one when it
        was saved as exactly that text (taken out), else `restore()`."""
        with self._lock:
            kept = self._kept.pop(instance_id, None)
        if kept is None or kept[0] != state_json:
            self.misses += 1
            self._counted(False)
            return restore()
        self.hits += 1
        self._counted(True)
        if self.verify:
            assert_same_workflow(kept[1], restore())
        return kept[1]

    def keep(self, saved: Mapping[int, tuple[str, BpmnWorkflow]]) -> None:
        """After a commit: the workflows saved by it, each with the state text written."""
        if not self.size:
            return
        with self._lock:
            for instance_id, entry in saved.items():
                self._kept.pop(instance_id, None)
                self._kept[instance_id] = entry
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


def assert_same_workflow(kept: BpmnWorkflow, restored: BpmnWorkflow) -> None:
    """Raise WorkflowCacheMismatch when the kept workflow is not what restoring gives."""
    kept_view, restored_view = _view(kept), _view(restored)
    if kept_view != restored_view:
        differing = sorted(
            key
            for key in kept_view.keys() | restored_view.keys()
            if kept_view.get(key) != restored_view.get(key)
        )
        raise WorkflowCacheMismatch(f"kept workflow differs from its state at {differing[:5]}")


def _view(workflow: BpmnWorkflow) -> dict[str, Any]:
    """What the engine and the handlers read of a workflow, by part."""
    view: dict[str, Any] = {}
    for key, part in [("top", workflow), *workflow.subprocesses.items()]:
        view[f"{key}:data"] = _plain(part.data)
        for task_id, task in part.tasks.items():
            view[f"{key}:{task_id}"] = (
                task.task_spec.name,
                task.state,
                str(task.parent.id) if task.parent else None,
                [str(child.id) for child in task.children],
                _plain(task.data),
                _plain(task.internal_data),
            )
    record = getattr(workflow, FINISHED_ATTR, None)
    view["finished"] = _plain(record.entries) if record is not None else {}
    return view


def _plain(value: Any) -> Any:
    """Mappings as dicts, all the way down, and the task data a restored finished record reads
    lazily (StoredRefs) resolved; everything else as it is, so a tuple is not a list."""
    if isinstance(value, StoredRefs):
        value = value.resolve()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
