"""The script engine: restricted scripts and service calls into registered handlers."""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.registry import HandlerContext, HandlerRegistry
from engine.restricted import RestrictedEnvironment
from engine.script_limits import ScriptLimits


@dataclass(frozen=True)
class OperationScope:
    """What a handler may know about the engine operation that calls it."""

    session: Session
    now: datetime
    instance_id: int
    process_id: str
    actor: str
    business_key: Callable[[], str | None]
    set_business_key: Callable[[str], None]
    settings: Any = None


_scope: ContextVar[OperationScope | None] = ContextVar("certflow_operation_scope", default=None)


@contextmanager
def operation_scope(scope: OperationScope) -> Iterator[OperationScope]:
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"handler result of type {type(value).__name__} is not JSON-serializable")


class CertflowScriptEngine(PythonScriptEngine):
    def __init__(
        self, registry: HandlerRegistry | None = None, limits: ScriptLimits | None = None
    ) -> None:
        super().__init__(environment=RestrictedEnvironment(limits=limits))
        # Without a registry (a script-only check) every service task fails as unregistered.
        self.registry = registry if registry is not None else HandlerRegistry()

    def call_service(self, task, operation_name: str, operation_params: dict) -> str:
        # Replaces the 3.2.0 default, whose error path raises NameError('script').
        handler_fn = self.registry.handler(operation_name)
        if handler_fn is None:
            raise WorkflowTaskException(
                f"no handler registered for operator {operation_name!r}", task=task
            )
        scope = _scope.get()
        if scope is None:
            raise WorkflowTaskException("service task run outside an engine operation", task=task)
        params = {name: spec["value"] for name, spec in operation_params.items()}
        ctx = HandlerContext(
            session=scope.session,
            now=scope.now,
            instance_id=scope.instance_id,
            process_id=scope.process_id,
            business_key=scope.business_key(),
            actor=scope.actor,
            element_id=task.task_spec.name,
            set_business_key=scope.set_business_key,
            settings=scope.settings,
        )
        try:
            # A savepoint: whatever the handler wrote is undone if it raises.
            with scope.session.begin_nested():
                # The declared parameters are checked before the call; a mismatch (a
                # ValueError naming every offending parameter) is an incident like any failure.
                result = handler_fn(self.registry.parse_params(operation_name, params), ctx)
                encoded = json.dumps(result, default=_json_default)
        except SQLAlchemyError:
            raise  # a database failure aborts the whole operation; it is not an incident
        except Exception as err:
            raise WorkflowTaskException(
                f"{operation_name}: {type(err).__name__}: {err}", task=task, exception=err
            ) from err
        return encoded
