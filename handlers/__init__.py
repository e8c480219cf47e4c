"""Service-task handlers: one module per domain area, registered by operator name."""

from handlers.registry import (
    HandlerContext,
    get_handler,
    handler,
    registered_operators,
    unregister,
)

__all__ = ["HandlerContext", "get_handler", "handler", "registered_operators", "unregister"]
