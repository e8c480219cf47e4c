"""Incidents: a failing service task, script or gateway is recorded with the instance state
intact; retry runs the task again and continues the instance."""

import logging
import traceback
from typing import Any

from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from engine.actors import Actor
from engine.core import EngineCore, Run, task_uuid, valid_id
from engine.errors import ConflictError, NotFoundError, root_cause
from engine.models import Incident

log = logging.getLogger(__name__)


class Incidents(EngineCore):
    """Recording, listing and retrying incidents."""

    def _record_incidents(self, run: Run, err: SpiffWorkflowException) -> None:
        if isinstance(root_cause(err), SQLAlchemyError):
            raise err  # the database failed, not the model: abort the operation
        session = self.session
        failed = run.workflow.get_tasks(state=TaskState.ERROR)
        if not failed and getattr(err, "task", None) is not None:
            failed = [err.task]
        run.incident_raised = True
        for task in failed:
            task_id = str(task.id)
            incident = session.scalars(
                select(Incident).where(
                    Incident.instance_id == run.instance.id,
                    Incident.task_id == task_id,
                    Incident.status == "open",
                )
            ).first()
            message = str(err) if err.task is None or err.task is task else f"failed: {err}"
            details = "".join(traceback.format_exception(err))
            if incident is None:
                incident = Incident(
                    instance_id=run.instance.id,
                    task_id=task_id,
                    element_id=task.task_spec.name,
                    error_type=type(root_cause(err)).__name__,
                    message=message,
                    details=details,
                    status="open",
                    attempts=1,
                    created_at=run.now,
                )
                session.add(incident)
            else:
                incident.attempts += 1
                incident.message = message
                incident.details = details
            self._log(
                session,
                "incident_raised",
                run.actor,
                run.now,
                instance_id=run.instance.id,
                task_id=task_id,
                element_id=task.task_spec.name,
                data={"message": message},
            )
        log.warning("incident on instance %s: %s", run.instance.id, err)

    def retry_incident(
        self, incident_id: int, *, actor: Actor, data: dict[str, Any] | None = None
    ) -> Incident:
        with self._transaction() as session:
            now = self.clock.now()
            incident = session.get(Incident, incident_id) if valid_id(incident_id) else None
            if incident is None:
                raise NotFoundError(f"incident {incident_id} not found")
            if incident.status != "open":
                raise ConflictError(f"incident {incident_id} is already {incident.status}")
            instance = self._get_instance(incident.instance_id)
            workflow = self._load(instance)
            run = Run(instance, workflow, actor, now)
            with self._scope(run):
                self._run_again(run, incident, data)
                self._finish(run)
        return incident

    def _run_again(self, run: Run, incident: Incident, data: dict[str, Any] | None) -> None:
        """Run the failed task again (with `data` merged into its data) and, when it passes,
        resolve the incident and continue the instance; inside the caller's scope."""
        session, actor, now = self.session, run.actor, run.now
        task = run.workflow.get_task_from_id(task_uuid(incident.task_id))
        self._log(
            session,
            "incident_retried",
            actor,
            now,
            instance_id=run.instance.id,
            task_id=incident.task_id,
            element_id=incident.element_id,
            data={"incident_id": incident.id, "data": data},
        )
        if data:
            task.data.update(data)
        try:
            task.run()
        except SpiffWorkflowException as err:
            self._record_incidents(run, err)
        else:
            self._resolve(run, incident, "incident_resolved")
            self._advance(run)

    def _resolve(self, run: Run, incident: Incident, event_type: str, **data: Any) -> None:
        incident.status, incident.resolved_at = "resolved", run.now
        incident.resolved_by = run.actor.username
        self._log(
            self.session,
            event_type,
            run.actor,
            run.now,
            instance_id=run.instance.id,
            task_id=incident.task_id,
            element_id=incident.element_id,
            data={"incident_id": incident.id, **data},
        )

    def open_incidents(self, instance_id: int) -> list[Incident]:
        return list(
            self.session.scalars(
                select(Incident)
                .where(Incident.instance_id == instance_id, Incident.status == "open")
                .order_by(Incident.id)
            )
        )
