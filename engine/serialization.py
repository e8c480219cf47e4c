"""Workflow state without the process definition.

SpiffWorkflow's default serialization embeds the whole spec in every instance (~16 KB of ~25 KB).
Here the spec is serialized once per deployed version (process_version.spec_json), restored once
per process and cached, and instance state only references it.
"""

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from threading import Lock
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task

from engine.errors import ConflictError
from engine.finished_subprocesses import (
    FINISHED_KEY,
    RECORD_KEY,
    FinishedRecord,
    StoredRecord,
    plain_state_with_record,
    restore_task_data,
    set_finished_record,
    state_with_record,
)
from engine.state_compaction import (
    FORMAT_SUFFIX,
    INTERNED_KEY,
    InternedSubWorkflowConverter,
    InternedTaskConverter,
    InternedValues,
    InternedWorkflowData,
    StoredRefs,
    expand_state,
    intern_state,
    restoring,
)


class SpecRefWorkflowConverter(InternedWorkflowData, BpmnWorkflowConverter):
    """Like BpmnWorkflowConverter, but the spec is not written; on restore the caller puts the
    already restored spec objects under 'spec' and 'subprocess_specs'."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict) -> BpmnWorkflow:
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_registry():
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpecRefWorkflowConverter
    config[BpmnSubWorkflow] = InternedSubWorkflowConverter
    config[Task] = InternedTaskConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"])
    )
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    return registry


class WorkflowSerializer:
    """Serializes specs (once per version) and instance state (without the spec, task data
    interned: engine/state_compaction.py)."""

    version = VERSION + FORMAT_SUFFIX  # process_instance.serializer_version of what it writes

    def __init__(self) -> None:
        self._serializer = BpmnWorkflowSerializer(_build_registry())
        self._registry = self._serializer.registry
        self._encoder_cls = create_encoder(self._registry)
        self._spec_cache: dict[str, tuple[Any, dict]] = {}
        self._cache_lock = Lock()

    @property
    def registry(self):
        """SpiffWorkflow's converter registry (the spec diff compares specs through it)."""
        return self._registry

    # -- specs ---------------------------------------------------------------------------------
    def dump_spec(self, spec, subprocess_specs: dict) -> str:
        return json.dumps(
            {
                "spec": self._registry.convert(spec),
                "subprocess_specs": {
                    k: self._registry.convert(v) for k, v in subprocess_specs.items()
                },
            }
        )

    def load_spec(self, cache_key: str, spec_json: str) -> tuple[Any, dict]:
        """Restore a spec once per content hash: deployed sources never change, so the restored
        spec can be shared by every instance of that version."""
        return self.load_spec_lazily(cache_key, lambda: spec_json)

    def load_spec_lazily(self, cache_key: str, spec_json: Callable[[], str]) -> tuple[Any, dict]:
        """load_spec, asking for the JSON only when the cache misses."""
        cached = self._spec_cache.get(cache_key)
        if cached is not None:
            return cached
        dct = json.loads(spec_json())
        spec = self._registry.restore(dct["spec"])
        subprocess_specs = {
            k: self._registry.restore(v) for k, v in dct["subprocess_specs"].items()
        }
        with self._cache_lock:
            self._spec_cache.setdefault(cache_key, (spec, subprocess_specs))
        return self._spec_cache[cache_key]

    # -- instances -----------------------------------------------------------------------------
    def dump_workflow(self, workflow: BpmnWorkflow) -> str:
        # As BpmnWorkflowSerializer.serialize_json: in encoder mode to_dict leaves data values
        # as they are and the JSON encoder converts them; intern_state then writes each distinct
        # value once.
        self._registry._encoder_mode = True
        try:
            dct = self._serializer.to_dict(workflow)
            dct[self._serializer.VERSION_KEY] = self._serializer.VERSION
            return intern_state(
                state_with_record(dct, workflow, self._encoder_cls), self._encoder_cls
            )
        finally:
            self._registry._encoder_mode = False

    def dump_plain(self, workflow: BpmnWorkflow) -> str:
        """The state in SpiffWorkflow's own format, as stored before the compaction (serializer
        version "1.5"), with the record of its removed finished subprocesses
        (engine/finished_subprocesses.py): for comparisons (tests, benchmarks); load_workflow
        reads both."""
        self._registry._encoder_mode = True
        try:
            dct = self._serializer.to_dict(workflow)
            dct[self._serializer.VERSION_KEY] = self._serializer.VERSION
            return json.dumps(plain_state_with_record(dct, workflow), cls=self._encoder_cls)
        finally:
            self._registry._encoder_mode = False

    def load_workflow(self, state_json: str, spec, subprocess_specs: dict) -> BpmnWorkflow:
        """Restore an instance state: the compact format or SpiffWorkflow's plain one (states
        stored before the compaction, serializer_version "1.5")."""
        dct = json.loads(state_json)
        if "pruned" in dct:  # engine/pruning.py: a finished instance keeps no workflow state
            raise ConflictError("the instance is finished and its workflow state was pruned")
        values = None
        if INTERNED_KEY in dct:
            if dct.get(self._serializer.VERSION_KEY) == self._serializer.VERSION:
                values = InternedValues(dct.pop(INTERNED_KEY), self._registry.restore)
            else:  # written by an older SpiffWorkflow: its migrations expect plain data
                expand_state(dct)
        # engine/finished_subprocesses.py: the record's text (left undecoded), or the mapping
        # of a state written before (-i1, plain)
        stored = dct.pop(RECORD_KEY, None)
        finished = dct.pop(FINISHED_KEY, None)
        self._serializer.migrate(dct)
        dct["spec"] = spec
        dct["subprocess_specs"] = subprocess_specs
        with restoring(values):
            workflow = self._serializer.from_dict(dct)
        if stored is not None:
            record = StoredRecord(stored["callers"], stored["text"], self._registry.restore)
            set_finished_record(workflow, FinishedRecord(stored=record))
        elif finished:
            # Task data of removed tasks: by reference into the value table, restored when read.
            restore = (
                (lambda refs: StoredRefs(refs, values))
                if values is not None
                else self._registry.restore
            )
            set_finished_record(workflow, FinishedRecord(restore_task_data(finished, restore)))
        return workflow
