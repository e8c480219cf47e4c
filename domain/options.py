"""Choices from data (issue 10): a form field declares where its options come from instead of
asking for a typed id — ``"x-options": {"source": "auditors"}`` on the field's schema (for an
array, on its ``items``). A *source* is a resolver registered here by name; it reads the options
for the task's case from the database (the task's data says which case: ``audit_id``,
``complaint_id`` …) and marks those the rules refuse with the rule's own reason.

This module is the registry and the walk over a form; the resolvers live with their area
(`domain.options_audit`, `domain.options_people`) and `domain.choices` is what callers use, so
the page, the API's schema and the submit check all go through the same resolvers.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

ITEM = object()  # a path step meaning "every item of the array"


@dataclass(frozen=True)
class Choice:
    """One option: the stored value (what the handlers expect, usually an id), the label a
    person recognises (a name), facts shown with it, and — when the rules refuse it — the
    reason, naming the rule (the option is then shown disabled and refused at submit)."""

    value: int | str
    label: str  # a name, or a text in Chinese (the source language)
    facts: tuple[tuple[str, dict[str, Any]], ...] = ()  # (fact code, its values)
    refusal: Any = None  # a text, or one in both languages (domain.said)
    label_en: str | None = None  # the label in English, when it is a text rather than a name

    @property
    def enabled(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True)
class OptionContext:
    session: Session
    now: datetime
    data: Mapping[str, Any]  # the task's data with the form's values over it
    params: Mapping[str, Any] = field(default_factory=dict)  # the field's x-options declaration


Resolver = Callable[[OptionContext], list[Choice]]
# Why a value that is not among the options is refused, in the rule's own words (or None).
Explainer = Callable[[OptionContext, Any], str | None]


@dataclass(frozen=True)
class Source:
    name: str
    rule: str  # the requirement a value outside the options breaks
    resolve: Resolver
    explain: Explainer | None = None


_SOURCES: dict[str, Source] = {}


def option_source(
    name: str, rule: str, explain: Explainer | None = None
) -> Callable[[Resolver], Resolver]:
    """Register the decorated resolver as the option source `name`; `explain` words the refusal
    of a value that is not among the options (else a message naming `rule`)."""

    def register(fn: Resolver) -> Resolver:
        known = _SOURCES.get(name)
        if known is not None and known.resolve is not fn:
            raise ValueError(f"option source {name!r} is already registered")
        _SOURCES[name] = Source(name, rule, fn, explain)
        return fn

    return register


def source(name: str) -> Source | None:
    return _SOURCES.get(name)


def source_names() -> frozenset[str]:
    return frozenset(_SOURCES)


# -- the form ---------------------------------------------------------------------------------
def declared_fields(schema: Any, path: tuple = ()) -> Iterator[tuple[tuple, Mapping[str, Any]]]:
    """(path pattern, declaration) of every field of `schema` with ``x-options``; array items
    are the step `ITEM`."""
    if not isinstance(schema, Mapping):
        return
    declaration = schema.get("x-options")
    if isinstance(declaration, Mapping):
        yield path, declaration
    for name, sub in (schema.get("properties") or {}).items():
        yield from declared_fields(sub, (*path, name))
    yield from declared_fields(schema.get("items"), (*path, ITEM))


def values_at(data: Any, pattern: tuple, done: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """(concrete path, value) of every value of `data` the pattern reaches."""
    if not pattern:
        yield done, data
        return
    head, rest = pattern[0], pattern[1:]
    if head is ITEM:
        if isinstance(data, list):
            for index, item in enumerate(data):
                yield from values_at(item, rest, (*done, index))
    elif isinstance(data, Mapping) and head in data:
        yield from values_at(data[head], rest, (*done, head))


def same_value(a: Any, b: Any) -> bool:
    """Equal and of the same JSON type (``1`` is not ``True``, not ``"1"``)."""
    return type(a) is type(b) and a == b
