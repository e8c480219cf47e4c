"""Read-only queries for the web and the API: tasks (`query_tasks`), instances, events and
incidents (`query_instances`), the open incidents of all instances (`query_incidents`), and a
task's form, documentation and data."""

from collections.abc import Iterable
from typing import Any

from SpiffWorkflow.exceptions import TaskNotFoundException
from sqlalchemy import select
from sqlalchemy.orm.util import identity_key

from engine.core import task_uuid, valid_id
from engine.diagram_state import diagram_marks
from engine.errors import NotFoundError
from engine.finished_subprocesses import finished_record
from engine.forms import FieldError, field_errors
from engine.models import HumanTask, ProcessInstance, ProcessVersion
from engine.pruning import is_pruned, pruned_marks, pruned_task_data
from engine.query_incidents import IncidentQueries
from engine.query_instances import InstanceQueries
from engine.query_tasks import TaskQueries


class Queries(TaskQueries, InstanceQueries, IncidentQueries):
    """Instances and human tasks as the web and the API read them. The methods on one task take
    its row or its `TaskView` (id, instance_id, element_id, form_file)."""

    def get_instance(self, instance_id: int) -> ProcessInstance:
        return self._get_instance(instance_id)

    def get_task(self, task_id: str) -> HumanTask:
        row = self.session.get(HumanTask, task_id)
        if row is None:
            raise NotFoundError(f"task {task_id} not found")
        return row

    def task_form(self, row: Any) -> dict | None:
        if not row.form_file:
            return None
        instance = self._get_instance(row.instance_id)
        return self.form_schema(instance.process_version_id, row.form_file)

    def task_forms(self, rows: Iterable[Any]) -> dict[str, tuple[tuple[str, str], dict]]:
        """The forms of many tasks: {task id: ((version hash, form path), schema)}, with one
        query for their instances' versions (issue 16: a case lists tens of completed forms).
        The key names the form's content for good: the version hash covers its files. Tasks
        whose form is not part of their version are left out."""
        rows = [row for row in rows if row.form_file]
        instance_ids = sorted({row.instance_id for row in rows if valid_id(row.instance_id)})
        versions = self._loaded_versions(instance_ids)  # e.g. the task page's own instance
        missing = [i for i in instance_ids if i not in versions]
        if missing:
            versions.update(
                self.session.execute(
                    select(ProcessInstance.id, ProcessVersion)
                    .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
                    .where(ProcessInstance.id.in_(missing))
                ).all()
            )
        forms: dict[str, tuple[tuple[str, str], dict]] = {}
        for row in rows:
            version = versions.get(row.instance_id)
            if version is None:
                continue
            try:
                schema = self._version_form(version, row.form_file)
            except NotFoundError:
                continue
            forms[str(row.id)] = ((version.sha256, row.form_file), schema)
        return forms

    def _loaded_versions(self, instance_ids: list[int]) -> dict[int, ProcessVersion]:
        """The versions of the instances this session holds already (no query)."""
        found = {}
        for instance_id in instance_ids:
            instance = self.session.identity_map.get(identity_key(ProcessInstance, instance_id))
            version = instance.__dict__.get("process_version") if instance is not None else None
            if version is not None and "sha256" in version.__dict__:
                found[instance_id] = version
        return found

    def form_errors(self, row: Any, data: Any) -> dict[str, list[FieldError]]:
        """The task form's check of `data` (the one `complete_task` makes), without completing:
        for a page that could not parse some inputs and still shows every error at once."""
        schema = self.task_form(row)
        return field_errors(schema, data, self._format_checker()) if schema else {}

    def task_details(self, row: Any) -> dict[str, Any]:
        """Documentation and instructions of a task, read from its spec."""
        instance = self._get_instance(row.instance_id)
        spec, subprocess_specs = self._spec(instance.process_version)
        for process_spec in [spec, *subprocess_specs.values()]:
            task_spec = process_spec.task_specs.get(row.element_id)
            if task_spec is not None:
                return {
                    "documentation": task_spec.documentation or "",
                    "instructions": task_spec.extensions.get("instructionsForEndUser", ""),
                    "properties": task_spec.extensions.get("properties", {}),
                }
        return {"documentation": "", "instructions": "", "properties": {}}

    def task_data(self, row: Any) -> dict[str, Any]:
        instance = self._get_instance(row.instance_id)
        if is_pruned(instance):  # finished and compacted: the answers kept in the event log
            return pruned_task_data(self.session, instance.id, str(row.id))
        workflow = self._load(instance)
        try:
            task = workflow.get_task_from_id(task_uuid(row.id))
        except TaskNotFoundException:
            task = None
        if task is None:  # a task of a finished subprocess, removed (finished_subprocesses.py)
            kept = finished_record(workflow).task_data(workflow, str(row.id))
            if kept is not None:
                return dict(kept)
            return pruned_task_data(self.session, instance.id, str(row.id))
        return dict(task.data)

    def diagram_marks(
        self, instance_id: int, incident_task_ids: list[str]
    ) -> dict[str, dict[str, list]]:
        """Per process id of the instance: the elements reached, active and failing and the flows
        taken (engine/diagram_state.py), for the instance diagram."""
        instance = self._get_instance(instance_id)
        if is_pruned(instance):
            return pruned_marks(instance)
        return diagram_marks(self._load(instance), incident_task_ids)
