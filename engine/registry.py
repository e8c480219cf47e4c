"""What the engine is given to run service tasks and check user tasks: a registry of handlers
(with their declared parameters), task guards and submission validators.

The engine owns the types and the calling convention; the application fills one registry
(`handlers/registry.py`) and passes it to `WorkflowEngine(...)`, so the engine never imports
the handlers.

A handler is `(params, ctx: HandlerContext) -> JSON-able result`. When its operator declares
parameters, the registry parses the raw parameters with the parser it was built with (pydantic
models, `handlers/params.py`) before the call; a mismatch raises that parser's error (a
ValueError), which the engine turns into an incident.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


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
    # The application's typed settings (certflow.settings.Settings): rule parameters such as
    # the NC response days come from here, never from module constants.
    settings: Any = None


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
    settings: Any = None


Handler = Callable[[Any, HandlerContext], Any]
# A guard returns None to allow, or the reason for refusing (shown to the user, logged).
Guard = Callable[[GuardContext], str | None]
# A validator checks submitted task data against the domain rules before the task completes;
# it returns field errors ({field: [messages]}), which the user sees like form errors (422).
Validator = Callable[[GuardContext], dict[str, list[str]]]
# The option check: (form schema, submitted data, context) -> field errors (422), run on
# every completed task with a form: whether a value is one of the options the form's data
# sources offer (issue 10).
OptionCheck = Callable[[Mapping[str, Any], Mapping[str, Any], GuardContext], dict[str, list[str]]]
# A form check: a rule a later service task enforces on a form's answers, declared by the form
# (`"x-checks": [names]`) and run when it is submitted; it returns field errors like a validator.
FormCheck = Callable[[GuardContext], dict[str, list[str]]]
# (operator, declared model, raw parameters) -> the parsed parameters, or raises ValueError.
ParamsParser = Callable[[str, Any, Mapping[str, Any]], Any]


class HandlerRegistry:
    """Operators, guards, validators and form checks by name; registering a second function
    under a taken name is an error (re-registering the same function is not)."""

    def __init__(
        self,
        parse_params: ParamsParser | None = None,
        describe_params: Callable[[Any], list[dict[str, Any]]] | None = None,
    ) -> None:
        self._parse_params = parse_params
        # (declared model) -> rows {name, required, schema, description}: for `certflow
        # validate` (required and unknown parameters) and the studio's properties panel.
        self._describe_params = describe_params
        self._handlers: dict[str, Handler] = {}
        self._params: dict[str, Any] = {}  # operator → its declared parameters model
        self._guards: dict[str, Guard] = {}
        self._validators: dict[str, Validator] = {}
        self.option_check: OptionCheck | None = None
        self._form_checks: dict[str, FormCheck] = {}

    # -- handlers ----------------------------------------------------------------------------
    def add_handler(self, operator: str, fn: Handler, params: Any = None) -> None:
        if params is not None and self._parse_params is None:
            raise ValueError(f"operator {operator!r} declares parameters but nothing parses them")
        _add(self._handlers, operator, fn, "operator")
        if params is not None:
            self._params[operator] = params

    def remove_handler(self, operator: str) -> None:
        self._handlers.pop(operator, None)
        self._params.pop(operator, None)

    def handler(self, operator: str) -> Handler | None:
        return self._handlers.get(operator)

    def declared_params(self, operator: str) -> Any:
        return self._params.get(operator)

    def param_rows(self, operator: str) -> list[dict[str, Any]] | None:
        """The operator's declared parameters as rows; None when it declares none."""
        model = self._params.get(operator)
        if model is None or self._describe_params is None:
            return None
        return self._describe_params(model)

    def parse_params(self, operator: str, raw: Mapping[str, Any]) -> Any:
        """The parameters the handler receives: the declared model, or the raw dict for an
        operator without a declaration."""
        model = self._params.get(operator)
        if model is None or self._parse_params is None:
            return dict(raw)
        return self._parse_params(operator, model, raw)

    def checked_handler(self, operator: str) -> Handler | None:
        """The handler behind its parameter check, for a direct call with raw parameters."""
        fn = self._handlers.get(operator)
        if fn is None or operator not in self._params:
            return fn

        def checked(raw: Mapping[str, Any], ctx: HandlerContext) -> Any:
            return fn(self.parse_params(operator, raw), ctx)

        return checked

    def operators(self) -> frozenset[str]:
        return frozenset(self._handlers)

    # -- guards and validators ---------------------------------------------------------------
    def add_guard(self, name: str, fn: Guard) -> None:
        _add(self._guards, name, fn, "guard")

    def remove_guard(self, name: str) -> None:
        self._guards.pop(name, None)

    def guard(self, name: str) -> Guard | None:
        return self._guards.get(name)

    def guards(self) -> frozenset[str]:
        return frozenset(self._guards)

    def add_validator(self, name: str, fn: Validator) -> None:
        _add(self._validators, name, fn, "validator")

    def remove_validator(self, name: str) -> None:
        self._validators.pop(name, None)

    def validator(self, name: str) -> Validator | None:
        return self._validators.get(name)

    def validators(self) -> frozenset[str]:
        return frozenset(self._validators)

    def add_form_check(self, name: str, fn: FormCheck) -> None:
        _add(self._form_checks, name, fn, "form check")

    def form_check(self, name: str) -> FormCheck | None:
        return self._form_checks.get(name)

    def form_checks(self) -> frozenset[str]:
        return frozenset(self._form_checks)


def _add(table: dict[str, Any], name: str, fn: Any, kind: str) -> None:
    if name in table and table[name] is not fn:
        raise ValueError(f"{kind} {name!r} is already registered")
    table[name] = fn
