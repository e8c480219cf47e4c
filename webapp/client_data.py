"""What a client may see of the process data (R-11; issue 9, item 2): an allowlist.

A client gets, for a task, the fields of the task's own form (its own input, read from the task
data of the same name; the page's form itself starts from the form's declared defaults only,
webapp.forms_render.initial_values) plus the variables declared for that task in
`processes/client_data.yaml`; nothing else. Staff get the task data as it is. The rule is
applied to every client-facing answer: the API's task answer (`data`) and instance answers
(only the elements of the client's own tasks, no incidents), and the web task page (its
instructions and form are filled from the filtered data only).

Why one reviewed YAML file, keyed by process and user task element id, and not a property on
each BPMN user task:

* everything a client can see is in one short file: a reviewer reads it in one sitting, and its
  diff shows every change of what clients see — in the BPMN it would be spread over ten
  diagrams and hidden in XML;
* changing it does not change the deployed process sources, so it creates no new process
  versions and needs no BPMN tooling (and applies at once to running instances);
* tests/access/test_client_data.py ties it to the diagrams: every user task of a `client` lane must
  have an entry (an empty list means "its own form only") and every entry must name one, so a
  new client task without a declaration fails the suite — the default is nothing.

Element ids are looked up across processes (a task of a called process, such as the
nonconformity handling, is indexed under the calling instance's process id); the loader refuses
an element id declared twice.
"""

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from webapp.access import Viewer, task_scope
from webapp.runtime import get_engine

DECLARATIONS = Path(__file__).resolve().parent.parent / "processes" / "client_data.yaml"


def load_declarations(path: Path = DECLARATIONS) -> dict[str, dict[str, tuple[str, ...]]]:
    """process id → element id → declared variable paths, as written in the file."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    result: dict[str, dict[str, tuple[str, ...]]] = {}
    for process_id, tasks in raw.items():
        result[str(process_id)] = {}
        for element_id, paths in (tasks or {}).items():
            if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
                raise ValueError(f"{path}: {process_id}.{element_id}: a list of variable names")
            result[str(process_id)][str(element_id)] = tuple(paths)
    return result


@functools.cache
def declared_by_element(path: Path = DECLARATIONS) -> dict[str, tuple[str, ...]]:
    """element id → declared variable paths (element ids are unique across the file)."""
    flat: dict[str, tuple[str, ...]] = {}
    for process_id, tasks in load_declarations(path).items():
        for element_id, paths in tasks.items():
            if element_id in flat:
                raise ValueError(f"{path}: {element_id} is declared twice ({process_id})")
            flat[element_id] = paths
    return flat


def project(data: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """Only the given dotted paths of `data` (nested dicts are copied down to the path)."""
    result: dict[str, Any] = {}
    for path in paths:
        keys = path.split(".")
        value: Any = data
        for key in keys:
            if not isinstance(value, Mapping) or key not in value:
                break
            value = value[key]
        else:
            target = result
            for key in keys[:-1]:
                existing = target.get(key)
                target[key] = existing if isinstance(existing, dict) else {}
                target = target[key]
            target[keys[-1]] = value
    return result


def form_fields(schema: Mapping[str, Any] | None) -> list[str]:
    return list((schema or {}).get("properties") or {})


def client_view(
    element_id: str, data: Mapping[str, Any], schema: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The task data a client may see: its form's fields and the declared variables."""
    own_form = {name: data[name] for name in form_fields(schema) if name in data}
    return {**project(data, declared_by_element().get(element_id, ())), **own_form}


def task_data_for(
    viewer: Viewer, row: Any, data: Mapping[str, Any], schema: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The task data as this viewer may see it (staff: all of it)."""
    if viewer.is_staff:
        return dict(data)
    return client_view(row.element_id, data, schema)


def own_task_elements(instance: Any, viewer: Viewer) -> dict[str, set[str]]:
    """Element ids of the instance's tasks the viewer may see, by state (open, completed)."""
    rows = get_engine().task_elements(instance.id, task_scope(viewer))
    result: dict[str, set[str]] = {"open": set(), "completed": set()}
    for element, state in rows:
        if state in result:
            result[state].add(element)
    return result


def visible_active_elements(instance: Any, viewer: Viewer) -> list[str]:
    """The instance's active elements; a client sees only where its own tasks are open, not the
    certification body's internal steps (e.g. an unannounced mystery shopping visit, R-8.2)."""
    active = list(instance.active_elements or [])
    if viewer.is_staff:
        return active
    own = own_task_elements(instance, viewer)["open"]
    return [element for element in active if element in own]
