"""Service-task handlers and task guards: one module per domain area, registered by name."""

from handlers import (  # noqa: F401  (importing a module registers its handlers)
    application,
    audit,
    certificate,
    contract,
    decision,
    guards,
    nonconformity,
    programme,
    team,
)
from handlers.registry import (
    GuardContext,
    HandlerContext,
    get_guard,
    get_handler,
    guard,
    handler,
    registered_guards,
    registered_operators,
    registered_validators,
    unregister,
    unregister_guard,
    unregister_validator,
    validator,
)

__all__ = [
    "GuardContext",
    "HandlerContext",
    "get_guard",
    "get_handler",
    "guard",
    "handler",
    "registered_guards",
    "registered_operators",
    "registered_validators",
    "unregister",
    "unregister_guard",
    "unregister_validator",
    "validator",
]
