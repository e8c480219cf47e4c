"""Interned task data in stored workflow states (issue 16).

SpiffWorkflow 3.2 stores each task's data as a delta to its parent's, but a running instance
still repeats the same values many times: every subprocess keeps its own `workflow.data`, every
subprocess root task its full data, and a value set again (the findings of an audit, the
appointment, the nonconformities) is written again in each delta that carries it. A surveillance
cycle's state reached 440 KB, of which about 340 KB were such values (30 KB distinct).

The compact state stores every distinct top-level value of workflow data, task data and delta
updates ONCE, in a table under `INTERNED_KEY`; the data mappings hold indexes into that table.
It is lossless: expanding the references gives exactly SpiffWorkflow's own dictionary (tested),
and loading gives every reference its own fresh object (parsed again from the value's JSON text),
so no two tasks share an object that they did not share with SpiffWorkflow's loader either.
Everything else (task tree, internal data, events) is SpiffWorkflow's format unchanged.
"""

import json
from contextvars import ContextVar
from copy import copy
from typing import Any

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnSubWorkflowConverter, TaskConverter

INTERNED_KEY = "interned_values"
# process_instance.serializer_version = SpiffWorkflow's VERSION + this; -i2: the finished
# subprocesses' record as a text of its own (-i1: a mapping, its task data in this table)
FORMAT_SUFFIX = "-i2"
_SEPARATORS = (",", ":")
# engine/finished_subprocesses.py (imports this module): its record as stored by -i1 and in the
# plain format
FINISHED_KEY = "finished_subprocesses"
RECORD_KEY = "finished_record"  # the record as -i2 stores it: {"callers": [...], "text": "…"}
_SCALARS = (str, int, bool, type(None))  # immutable, hashable: interned by (type, value)

# The values of the state being restored (None: a plain SpiffWorkflow state). The converters
# below are called by SpiffWorkflow's registry, which passes no context of its own.
_LOADING: ContextVar["InternedValues | None"] = ContextVar("interned_values", default=None)


class _Interner:
    """Assigns each distinct value (by its JSON text; scalars by type and value) one index."""

    def __init__(self, encoder_cls: type[json.JSONEncoder]) -> None:
        self._encode = encoder_cls(separators=_SEPARATORS).encode
        self._index: dict[Any, int] = {}
        self.texts: list[str] = []

    def ref(self, value: Any) -> int:
        kind = type(value)
        if kind not in _SCALARS:
            return self._text_ref(self._encode(value))
        key = (kind, value)
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self.texts)
            self.texts.append(self._encode(value))
        return index

    def _text_ref(self, text: str) -> int:
        """The index of a non-scalar value by its JSON text."""
        index = self._index.get(text)
        if index is None:
            index = self._index[text] = len(self.texts)
            self.texts.append(text)
        return index

    def refs(self, data: dict[str, Any]) -> dict[str, int]:
        return {key: self.ref(value) for key, value in data.items()}

    def encoded(self, value: Any) -> tuple[bool, Any]:
        """What `ref_of` takes again later: a scalar as it is, anything else as its text."""
        return (False, value) if type(value) in _SCALARS else (True, self._encode(value))

    def ref_of(self, encoded: tuple[bool, Any]) -> int:
        is_text, value = encoded
        return self._text_ref(value) if is_text else self.ref(value)


def _workflows(dct: dict[str, Any]) -> list[dict[str, Any]]:
    return [dct, *dct.get("subprocesses", {}).values()]


def _finished_processes(entries: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The per-process parts of a record of removed finished subprocesses (engine/
    finished_subprocesses.py) that carry task data."""
    return [
        kept for entry in (entries or {}).values() for kept in entry.values() if "task_data" in kept
    ]


def intern_state(dct: dict[str, Any], encoder_cls: type[json.JSONEncoder]) -> str:
    """The JSON text of `dct` — SpiffWorkflow's dictionary of a workflow (its values may still be
    live objects the encoder converts) — with workflow data, task data and delta updates
    interned. Replaces those mappings in `dct`; never changes a value."""
    interner = _Interner(encoder_cls)
    for workflow in _workflows(dct):
        workflow["data"] = interner.refs(workflow.get("data", {}))
        for task in workflow["tasks"].values():
            task["data"] = interner.refs(task["data"])
            delta = task.get("delta")
            if delta:
                task["delta"] = {**delta, "updates": interner.refs(delta.get("updates", {}))}
    return _with_values(json.dumps(dct, cls=encoder_cls, separators=_SEPARATORS), interner)


def _with_values(text: str, interner: _Interner) -> str:
    """The JSON text of an object with the interner's value table added as its last key."""
    return f'{text[:-1]},"{INTERNED_KEY}":[{",".join(interner.texts)}]}}'


def encode_record(entries: dict[str, Any], encoder_cls: type[json.JSONEncoder]) -> str:
    """The JSON text of a finished-subprocess record (engine/finished_subprocesses.py) with its
    task data interned into a value table of its own (`decode_record` reads it back). The task
    data may be live mappings or StoredRefs of a loaded record, whose values are written as they
    were stored (a value several mappings share is encoded once)."""
    interner = _Interner(encoder_cls)
    moved: dict[tuple[int, int], tuple[bool, Any]] = {}  # (table, its index): encoded once
    entries = {
        caller_id: {process_id: dict(kept) for process_id, kept in entry.items()}
        for caller_id, entry in entries.items()
    }
    for kept in _finished_processes(entries):
        kept["task_data"] = {
            tid: {key: interner.ref_of(item) for key, item in _encoded(data, interner, moved)}
            for tid, data in kept["task_data"].items()
        }
    return _with_values(json.dumps({"entries": entries}, separators=_SEPARATORS), interner)


def decode_record(text: str) -> tuple[dict[str, Any], list[Any]]:
    """(entries with task data as references, the value table) of `encode_record`' text."""
    dct = json.loads(text)
    return dct["entries"], dct[INTERNED_KEY]


def _encoded(
    data: Any, interner: _Interner, moved: dict[tuple[int, int], tuple[bool, Any]]
) -> list[tuple[str, tuple[bool, Any]]]:
    """The encoded values of one task-data mapping of the record (a dict, or StoredRefs into a
    loaded table)."""
    if isinstance(data, StoredRefs):
        return [(key, data.encoded(ref, interner, moved)) for key, ref in data.refs.items()]
    return [(key, interner.encoded(value)) for key, value in data.items()]


class InternedValues:
    """The value table of one stored state while it is restored: each reference gets its own
    object (the first use of a container takes the parsed one, later uses parse it again)."""

    def __init__(self, values: list[Any], restore) -> None:
        self._values = values
        self._restore = restore  # SpiffWorkflow's registry.restore (dates, Decimals, …)
        self._texts: dict[int, str] = {}

    def get(self, ref: int) -> Any:
        value = self._values[ref]
        if type(value) in _SCALARS or isinstance(value, float):
            return value
        text = self._texts.get(ref)
        if text is None:  # first use: the parsed object is nobody else's yet
            text = self._texts[ref] = json.dumps(value, separators=_SEPARATORS)
            fresh = value
        else:
            fresh = json.loads(text)
        return self._restore(fresh) if '"typename"' in text else fresh

    def raw(self, ref: int) -> Any:
        """The value as stored (JSON, nothing restored; not to be changed): parsed again when a
        task already holds the first parsed object (it may have changed it since)."""
        text = self._texts.get(ref)
        return self._values[ref] if text is None else json.loads(text)

    def mapping(self, refs: dict[str, int]) -> dict[str, Any]:
        return {key: self.get(ref) for key, ref in refs.items()}


class StoredRefs:
    """A task-data mapping of a loaded compact state left as references into its value table:
    restored only when asked for (`resolve`), written again by reference (`refs_into`)."""

    def __init__(self, refs: dict[str, int], values: "InternedValues") -> None:
        self.refs, self.values = refs, values

    def resolve(self) -> dict[str, Any]:
        return self.values.mapping(self.refs)

    def encoded(
        self, ref: int, interner: _Interner, moved: dict[tuple[int, int], tuple[bool, Any]]
    ) -> tuple[bool, Any]:
        """One value as stored (JSON, nothing restored), encoded: the text the encoder wrote."""
        key = (id(self.values), ref)
        found = moved.get(key)
        if found is None:
            found = moved[key] = interner.encoded(self.values.raw(ref))
        return found


def expand_state(dct: dict[str, Any]) -> dict[str, Any]:
    """Turn a compact state dictionary (as parsed) back into SpiffWorkflow's own dictionary, in
    place: every reference replaced by its value (JSON only, nothing restored)."""
    values = dct.pop(INTERNED_KEY)

    def plain(refs: dict[str, int], table: list[Any] = values) -> dict[str, Any]:
        return {key: json.loads(json.dumps(table[ref])) for key, ref in refs.items()}

    for workflow in _workflows(dct):
        workflow["data"] = plain(workflow["data"])
        for task in workflow["tasks"].values():
            task["data"] = plain(task["data"])
            if task.get("delta"):
                task["delta"]["updates"] = plain(task["delta"].get("updates", {}))
    for kept in _finished_processes(dct.get(FINISHED_KEY)):  # a record as stored before -i2
        kept["task_data"] = {tid: plain(refs) for tid, refs in kept["task_data"].items()}
    stored = dct.pop(RECORD_KEY, None)
    if stored is not None:  # the record's own text: as a mapping, its task data plain
        entries, table = decode_record(stored["text"])
        for kept in _finished_processes(entries):
            kept["task_data"] = {tid: plain(refs, table) for tid, refs in kept["task_data"].items()}
        dct[FINISHED_KEY] = entries
    return dct


class restoring:  # noqa: N801 (used as a function: `with restoring(values): ...`)
    """Context for restoring one state: `with restoring(values): registry.restore(dct)`. A class
    of its own: one built on every call cost ~0.1 ms a load (issue 16)."""

    def __init__(self, values: InternedValues | None) -> None:
        self._values = values

    def __enter__(self) -> None:
        self._token = _LOADING.set(self._values)

    def __exit__(self, *exc) -> None:
        _LOADING.reset(self._token)


_COPIED = (dict, list, set)


def inherited(parent_data: dict[str, Any]) -> dict[str, Any]:
    """What DeepMerge.merge({}, parent_data) returns — a copy with each dict, list and set value
    copied one level deep (copy.copy) — without its generic per-key work: a task's data before its
    own delta is applied (TaskConverter.from_dict)."""
    return {
        key: (
            (value.copy() if type(value) in _COPIED else copy(value))
            if isinstance(value, _COPIED)
            else value
        )
        for key, value in parent_data.items()
    }


class InternedTaskConverter(TaskConverter):
    """SpiffWorkflow's task converter; in a compact state the data come from the value table
    (same merge of the parent's data and the delta as TaskConverter.from_dict)."""

    def from_dict(self, dct, workflow):
        values = _LOADING.get()
        if values is None:
            return super().from_dict(dct, workflow)
        delta = dct.get("delta")
        task = super().from_dict({**dct, "delta": {}, "data": {}}, workflow)
        if delta and task.parent is not None:
            data = inherited(task.parent.data)
            data.update(values.mapping(delta.get("updates", {})))
            for key in delta.get("deletions", []):
                data.pop(key, None)
        else:
            data = values.mapping(dct["data"])
        task.data = data
        return task


class InternedWorkflowData:
    """Mixin for workflow converters: workflow.data from the value table in a compact state."""

    def set_default_attributes(self, workflow, dct):
        values = _LOADING.get()
        refs = dct.pop("data", {}) if values is not None else None
        super().set_default_attributes(workflow, dct)
        if values is not None:
            workflow.data = values.mapping(refs)


class InternedSubWorkflowConverter(InternedWorkflowData, BpmnSubWorkflowConverter):
    """BpmnSubWorkflowConverter reading workflow.data from the value table."""
