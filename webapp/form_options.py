"""A task form with its choices from data (issue 10): every field declaring ``x-options`` gets the
options its source resolves for the task (domain.choices — the one resolver path, also behind
the engine's submit check) as ``oneOf`` of ``const`` + ``title`` with human labels, so the task
page renders a select (a checkbox list for arrays) and the API's task schema shows an
integrator the valid choices. Options the rules refuse are listed apart under ``x-unavailable``
(value, label, reason): the page shows them disabled with the reason; they are not valid.
"""

import copy
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext as _

from certflow.db import db
from domain import choices
from domain.said import in_language
from webapp.people_labels import languages_text
from webapp.process_texts import request_language
from webapp.runtime import get_clock

UNAVAILABLE = "x-unavailable"


def _fact_texts() -> dict[str, Any]:
    return {
        "registration": lambda v: _(
            "registration %(number)s valid until %(until)s", number=v["number"], until=v["until"]
        ),
        "technical_expert": lambda v: _("technical expert"),
        "field_competent": lambda v: _("competent for after-sales service"),
        "leader_qualified": lambda v: _("qualified as team leader"),
        "not_alone": lambda v: _("may not audit alone"),
        "audited_before": lambda v: _("audited this organisation before"),
        "conflict_of_interest": lambda v: _("conflict of interest"),
        "languages": lambda v: _("speaks %(languages)s", languages=languages_text(v["codes"])),
        "team_role": lambda v: _role(v.get("role")),
        "new_site": lambda v: _("new site"),
    }


def _role(role: Any) -> str:
    names = {
        "leader": _("team leader"),
        "auditor": _("auditor"),
        "tech_expert": _("technical expert"),
    }
    return names.get(role, str(role))


def choice_title(choice: choices.Choice) -> str:
    """The label with its facts, in the visitor's language."""
    texts = _fact_texts()
    facts = [texts[code](values) for code, values in choice.facts if code in texts]
    english = choice.label_en is not None and request_language() == "en"
    label = choice.label_en if english else choice.label
    return f"{label} — {'；'.join(facts)}" if facts else str(label)


def with_options(
    schema: Mapping[str, Any] | None,
    data: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    *,
    include_refused: bool = False,
) -> dict[str, Any] | None:
    """A copy of `schema` with the options of every ``x-options`` field, resolved for a task
    whose data (with the form's values over it) is `data`. With `include_refused` the refused
    options are in ``oneOf`` too (for reading a submitted form: the engine then refuses them
    naming the rule, rather than the parser with a bare "choose one of the options").

    `data` may be a function returning it: it is then called only when the form declares
    options (issue 16: a submit reads the workflow once, in the engine's step)."""
    if schema is None:
        return None
    expanded = copy.deepcopy(dict(schema))
    now = get_clock().now()
    cache: dict[str, list[choices.Choice]] = {}
    _expand(expanded, _Lazy(data), now, include_refused, cache)
    return expanded


class _Lazy:
    """The task data, read on first use."""

    def __init__(self, source: Mapping[str, Any] | Callable[[], Mapping[str, Any]]) -> None:
        self._source = source
        self._data: Mapping[str, Any] | None = None

    def get(self) -> Mapping[str, Any]:
        if self._data is None:
            source = self._source
            self._data = source() if callable(source) else source
        return self._data


def _expand(schema: Any, data: _Lazy, now, include_refused: bool, cache: dict) -> None:
    if not isinstance(schema, dict):
        return
    declaration = schema.get("x-options")
    if isinstance(declaration, Mapping):
        key = repr(sorted(declaration.items()))
        if key not in cache:
            cache[key] = choices.resolve(db.session, now, declaration, data.get())
        _apply(schema, cache[key], include_refused)
    for sub in (schema.get("properties") or {}).values():
        _expand(sub, data, now, include_refused, cache)
    _expand(schema.get("items"), data, now, include_refused, cache)


def _apply(schema: dict, found: list[choices.Choice], include_refused: bool) -> None:
    offered = [c for c in found if c.enabled or include_refused]
    refused = [c for c in found if not c.enabled and not include_refused]
    schema.pop("enum", None)
    declared = schema.get("type")
    if declared == "null" or (isinstance(declared, list) and "null" in declared):
        offered_null = [{"const": None, "title": _("Not applicable")}]  # a nullable field
    else:
        offered_null = []
    if offered or offered_null:
        schema["oneOf"] = [
            {"const": c.value, "title": choice_title(c)} for c in offered
        ] + offered_null
    else:
        schema.pop("oneOf", None)
        schema["enum"] = []  # nothing may be chosen now
    if refused:
        schema[UNAVAILABLE] = [
            {
                "const": c.value,
                "title": choice_title(c),
                "reason": in_language(c.refusal, request_language()),
            }
            for c in refused
        ]
