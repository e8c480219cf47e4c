"""Service-task handlers, guards, validators and engine hooks, registered by name.

A handler is a plain function `(params, ctx: HandlerContext) -> JSON-able result`. BPMN service
tasks name it with `spiffworkflow:serviceTaskOperator id="<operator>"`; the result lands in the
task's resultVariable. Handlers write domain rows through `ctx.session`; the engine runs each
call in a savepoint, so a handler that raises leaves nothing half-written.

The one registry (`REGISTRY`, the engine's `HandlerRegistry` type) and the one set of hooks
(`HOOKS`) live here; the composition root passes both to `WorkflowEngine(...)`. The decorators
below fill them; the engine checks declared parameters (handlers/params.py) before each call.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from domain.letter_templates import document_locale
from engine.hooks import EngineEvent, Hooks, InstanceStarted, MessageDelivered, TaskCompleted
from engine.registry import (
    Guard,
    GuardContext,
    Handler,
    HandlerContext,
    HandlerRegistry,
    Validator,
)
from handlers.params import Params, describe, parse_params

REGISTRY = HandlerRegistry(parse_params=parse_params, describe_params=describe)
HOOKS = Hooks()


def handler(operator: str, params: type[Params] | None = None) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of `operator`; with `params`, the raw
    parameters are checked against that declaration and the handler receives the model."""

    def register(fn: Handler) -> Handler:
        REGISTRY.add_handler(operator, _in_document_locale(fn), params)
        return fn

    return register


def _in_document_locale(fn: Handler) -> Handler:
    """The handler writing its letters in the language of its context's settings
    (`CERTFLOW_DOCUMENT_LOCALE`, domain/letter_templates.py)."""

    @wraps(fn)
    def call(params: Any, ctx: HandlerContext) -> Any:
        settings = getattr(ctx, "settings", None)
        with document_locale(getattr(settings, "document_locale", None)):
            return fn(params, ctx)

    return call


def unregister(operator: str) -> None:
    REGISTRY.remove_handler(operator)


def declared_params(operator: str) -> type[Params] | None:
    return REGISTRY.declared_params(operator)


def get_handler(operator: str) -> Handler | None:
    """The handler behind its parameter check, for calling it directly with raw parameters
    (tests, scripts); the engine runs the same check through the registry."""
    return REGISTRY.checked_handler(operator)


def registered_operators() -> frozenset[str]:
    return REGISTRY.operators()


def guard(name: str) -> Callable[[Guard], Guard]:
    """Register a task guard, named by a user task's `guard` property, e.g. R-8.8's rule that
    decision makers must not have audited the case."""

    def register(fn: Guard) -> Guard:
        REGISTRY.add_guard(name, fn)
        return fn

    return register


def unregister_guard(name: str) -> None:
    REGISTRY.remove_guard(name)


def get_guard(name: str) -> Guard | None:
    return REGISTRY.guard(name)


def registered_guards() -> frozenset[str]:
    return REGISTRY.guards()


def validator(name: str) -> Callable[[Validator], Validator]:
    """Register a submission validator, named by a user task's `validate` property."""

    def register(fn: Validator) -> Validator:
        REGISTRY.add_validator(name, fn)
        return fn

    return register


def unregister_validator(name: str) -> None:
    REGISTRY.remove_validator(name)


def get_validator(name: str) -> Validator | None:
    return REGISTRY.validator(name)


def registered_validators() -> frozenset[str]:
    return REGISTRY.validators()


def on_event(kind: type[EngineEvent]) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """Register an engine hook, called inside the operation's transaction (engine/hooks.py)."""
    return HOOKS.on(kind)


__all__ = [
    "HOOKS",
    "REGISTRY",
    "EngineEvent",
    "Guard",
    "GuardContext",
    "Handler",
    "HandlerContext",
    "InstanceStarted",
    "MessageDelivered",
    "TaskCompleted",
    "Validator",
    "declared_params",
    "get_guard",
    "get_handler",
    "get_validator",
    "guard",
    "handler",
    "on_event",
    "registered_guards",
    "registered_operators",
    "registered_validators",
    "unregister",
    "unregister_guard",
    "unregister_validator",
    "validator",
]
