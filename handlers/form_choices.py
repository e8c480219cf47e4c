"""The engine's form check (issue 10, "choices from data"): a submitted value of a field that
declares ``x-options`` must be one of the options its source offers for the task, and not one
the rules refuse (domain.choices — the same resolvers the page and the API's schema show)."""

from collections.abc import Mapping
from typing import Any

from domain import choices
from handlers.registry import REGISTRY, GuardContext


def check_choices(
    schema: Mapping[str, Any], submitted: Mapping[str, Any], ctx: GuardContext
) -> dict[str, list[str]]:
    return choices.problems(ctx.session, ctx.now, schema, submitted, ctx.data)


REGISTRY.option_check = check_choices
