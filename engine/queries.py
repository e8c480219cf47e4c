"""Read-only queries for the web and the API: tasks (`query_tasks`), instances, events and
incidents (`query_instances`), the open incidents of all instances (`query_incidents`), and a
task's form, documentation and data."""

from typing import Any

from SpiffWorkflow.exceptions import TaskNotFoundException

from engine.core import task_uuid
from engine.diagram_state import diagram_marks
from engine.errors import NotFoundError
from engine.finished_subprocesses import finished_record
from engine.forms import FieldError, field_errors
from engine.models import HumanTask, ProcessInstance
from engine.pruning import is_pruned, pruned_marks, pruned_task_data
from engine.query_incidents import IncidentQueries
from engine.query_instances import InstanceQueries
from engine.query_tasks import TaskQueries
from engine.read_models import TaskView


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

    def submitted_form_schemas(
        self, instance_ids: list[int]
    ) -> list[tuple[TaskView, dict, tuple[str, str], dict]]:
        """The completed forms of the instances (see submitted_forms) with each form's key and
        schema: (task, data submitted, (version hash, form path), schema), in two queries for
        any number of forms (issue 16: a case lists tens of completed forms). The key names the
        form's content for good: the version hash covers its files. Tasks whose form is not
        part of their version are left out."""
        found = []
        for task, version, data in self._submitted_with_versions(instance_ids):
            try:
                schema = self._version_form(version, task.form_file)
            except NotFoundError:
                continue
            found.append((task, data, (version.sha256, task.form_file), schema))
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
