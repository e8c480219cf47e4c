"""Read-only queries on instances and human tasks for the web and the API."""

from typing import Any

from engine.core import EngineCore, task_uuid
from engine.diagram_state import diagram_marks
from engine.errors import NotFoundError
from engine.models import HumanTask, ProcessInstance


class Queries(EngineCore):
    """Instances and human tasks as the web and the API read them."""

    def get_instance(self, instance_id: int) -> ProcessInstance:
        return self._get_instance(instance_id)

    def get_task(self, task_id: str) -> HumanTask:
        row = self.session.get(HumanTask, task_id)
        if row is None:
            raise NotFoundError(f"task {task_id} not found")
        return row

    def task_form(self, row: HumanTask) -> dict | None:
        if not row.form_file:
            return None
        return self.form_schema(row.instance.process_version_id, row.form_file)

    def task_details(self, row: HumanTask) -> dict[str, Any]:
        """Documentation and instructions of a task, read from its spec."""
        instance = row.instance
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

    def task_data(self, row: HumanTask) -> dict[str, Any]:
        instance = row.instance
        workflow = self._load(instance)
        task = workflow.get_task_from_id(task_uuid(row.id))
        return dict(task.data) if task is not None else {}

    def diagram_marks(
        self, instance: ProcessInstance, incident_task_ids: list[str]
    ) -> dict[str, dict[str, list]]:
        """Per process id of the instance: the elements reached, active and failing and the flows
        taken (engine/diagram_state.py), for the instance diagram."""
        return diagram_marks(self._load(instance), incident_task_ids)
