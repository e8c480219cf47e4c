"""Evaluate a deployed business rule task's DMN decision for a preview, outside any run.

A page may want to show what a decision *would* give (e.g. the star level of an audit's running
score, R-5) before the process reaches the business rule task. The decision evaluated is the one
deployed with the instance's process version (the same parsed spec and the same restricted script
engine a run uses), so the preview and the run cannot disagree. Nothing is written.
"""

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin

from engine.errors import NotFoundError


class Decisions:
    """Mixed into `WorkflowEngine` (uses `EngineCore`'s spec cache and script engine)."""

    def evaluate_business_rule(
        self, instance_id: int, element_id: str, inputs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The outputs of the DMN decision called by business rule task `element_id` (in the
        instance's process or any process it calls) for `inputs`; NotFoundError when the
        instance's version has no such task."""
        instance = self._get_instance(instance_id)
        spec, subprocess_specs = self._spec(instance.process_version)
        for process_spec in (spec, *subprocess_specs.values()):
            task_spec = process_spec.task_specs.get(element_id)
            if isinstance(task_spec, BusinessRuleTaskMixin):
                # The DMN engine reads only the task's data and its workflow's script engine.
                task = SimpleNamespace(
                    data=dict(inputs), workflow=SimpleNamespace(script_engine=self.script_engine)
                )
                return dict(task_spec.dmnEngine.result(task))
        raise NotFoundError(f"no business rule task {element_id!r} in instance {instance_id}")
