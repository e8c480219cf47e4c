"""Service-task handlers, registered by operator name.

A handler is a plain function `(params: dict, ctx: HandlerContext) -> JSON-able result`. BPMN
service tasks name it with `spiffworkflow:serviceTaskOperator id="<operator>"`; the result lands
in the task's resultVariable. Handlers write domain rows through `ctx.session`; the engine runs
each call in a savepoint, so a handler that raises leaves nothing half-written.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from handlers.params import Params, parse_params


@dataclass(frozen=True)
class HandlerContext:
    session: Session
    now: datetime
    instance_id: int
    process_id: str
    business_key: str | None
    actor: str
    element_id: str
    # Name the instance after the case it created (e.g. the application number); an instance
    # that already has a business key keeps it.
    set_business_key: Callable[[str], None]


Handler = Callable[[dict[str, Any], HandlerContext], Any]

_HANDLERS: dict[str, Handler] = {}
# operator → its declared parameters (handlers/params.py); operators not yet converted have none
_PARAMS: dict[str, type[Params]] = {}


def handler(operator: str, params: type[Params] | None = None) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of `operator`; with `params`, the raw
    parameters are checked against that declaration and the handler receives the model."""

    def register(fn: Handler) -> Handler:
        if operator in _HANDLERS and _HANDLERS[operator] is not fn:
            raise ValueError(f"operator {operator!r} is already registered")
        _HANDLERS[operator] = fn
        if params is not None:
            _PARAMS[operator] = params
        return fn

    return register


def unregister(operator: str) -> None:
    _HANDLERS.pop(operator, None)
    _PARAMS.pop(operator, None)


def declared_params(operator: str) -> type[Params] | None:
    return _PARAMS.get(operator)


def get_handler(operator: str) -> Handler | None:
    """The callable the engine runs: the handler, behind its parameter check when declared."""
    fn = _HANDLERS.get(operator)
    model = _PARAMS.get(operator)
    if fn is None or model is None:
        return fn

    def checked(raw: dict[str, Any], ctx: "HandlerContext") -> Any:
        return fn(parse_params(operator, model, raw), ctx)  # type: ignore[arg-type]

    return checked


def registered_operators() -> frozenset[str]:
    return frozenset(_HANDLERS)


@dataclass(frozen=True)
class GuardContext:
    """What a task guard sees when someone claims or completes a task."""

    session: Session
    now: datetime
    instance_id: int
    business_key: str | None
    element_id: str
    actor: str
    actor_roles: frozenset[str]
    data: dict[str, Any]


# A guard returns None to allow, or the reason for refusing (shown to the user, logged).
Guard = Callable[[GuardContext], str | None]

_GUARDS: dict[str, Guard] = {}


def guard(name: str) -> Callable[[Guard], Guard]:
    """Register a task guard, named by a user task's `guard` property, e.g. R-8.8's rule that
    decision makers must not have audited the case."""

    def register(fn: Guard) -> Guard:
        if name in _GUARDS and _GUARDS[name] is not fn:
            raise ValueError(f"guard {name!r} is already registered")
        _GUARDS[name] = fn
        return fn

    return register


def unregister_guard(name: str) -> None:
    _GUARDS.pop(name, None)


def get_guard(name: str) -> Guard | None:
    return _GUARDS.get(name)


def registered_guards() -> frozenset[str]:
    return frozenset(_GUARDS)


# A validator checks submitted task data against the domain rules before the task completes;
# it returns field errors ({field: [messages]}), which the user sees like form errors (422).
Validator = Callable[[GuardContext], dict[str, list[str]]]

_VALIDATORS: dict[str, Validator] = {}


def validator(name: str) -> Callable[[Validator], Validator]:
    """Register a submission validator, named by a user task's `validate` property."""

    def register(fn: Validator) -> Validator:
        if name in _VALIDATORS and _VALIDATORS[name] is not fn:
            raise ValueError(f"validator {name!r} is already registered")
        _VALIDATORS[name] = fn
        return fn

    return register


def unregister_validator(name: str) -> None:
    _VALIDATORS.pop(name, None)


def get_validator(name: str) -> Validator | None:
    return _VALIDATORS.get(name)


def registered_validators() -> frozenset[str]:
    return frozenset(_VALIDATORS)
