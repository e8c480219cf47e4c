"""What a changed definition does to the rules (issue 12, "the validation result and the
traceability effect"): the traceability view (domain/traceability_view.py) of the diagrams in
force against the same with the draft's files in their place.

* rules that gain or lose elements (a step added or removed, a citation added to or removed
  from an element's documentation);
* rules left with no element on any diagram (they had one before);
* elements of the draft citing an R-id the catalogue does not have (new ones marked).

No Flask, no engine: the callers hand in both sets of diagrams."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from domain.rule_catalogue import Rule
from domain.traceability_view import (
    UNKNOWN_RULE,
    Diagram,
    ElementLink,
    TraceabilityView,
    build_view,
)


@dataclass(frozen=True)
class ElementRef:
    file: str
    element_id: str
    name: str
    # traceability.yaml names it: a lost element still named there must be remapped too.
    mapped: bool = False


@dataclass(frozen=True)
class RuleChange:
    rule: Rule
    gained: tuple[ElementRef, ...]
    lost: tuple[ElementRef, ...]
    left_without_elements: bool  # had an element before the change, has none after it


@dataclass(frozen=True)
class UnknownCitation:
    rule_id: str  # as the element's documentation writes it
    file: str
    element_id: str
    name: str
    new: bool  # the change introduced it


@dataclass
class TraceabilityEffect:
    changes: list[RuleChange] = field(default_factory=list)
    unknown: list[UnknownCitation] = field(default_factory=list)

    @property
    def left_without_elements(self) -> list[Rule]:
        return [change.rule for change in self.changes if change.left_without_elements]

    @property
    def empty(self) -> bool:
        return not self.changes and not any(citation.new for citation in self.unknown)


def _present(view: TraceabilityView, rule_id: str) -> dict[tuple[str, str], ElementLink]:
    row = view.row(rule_id)
    links = row.present_elements if row is not None else []
    return {(link.file, link.element_id): link for link in links}


def _ref(link: ElementLink) -> ElementRef:
    return ElementRef(link.file, link.element_id, link.name, link.mapped)


def _unknown(view: TraceabilityView, files: set[str]) -> set[tuple[str, str, str]]:
    return {
        (flag.rule_id, flag.file or "", flag.element_id or "")
        for flag in view.flags
        if flag.kind == UNKNOWN_RULE and flag.file in files and flag.element_id
    }


def traceability_effect(
    rules: list[Rule],
    traceability: dict,
    before: Iterable[Diagram],
    after: Iterable[Diagram],
) -> TraceabilityEffect:
    """`before`: the diagrams in force; `after`: the same with the changed files in their place
    (every diagram, so that a rule keeping an element on another diagram is not 'left')."""
    before, after = list(before), list(after)
    base = build_view(rules, traceability, before)
    draft = build_view(rules, traceability, after)
    changes = []
    for rule in rules:
        old, new = _present(base, rule.id), _present(draft, rule.id)
        gained = tuple(_ref(new[key]) for key in new if key not in old)
        lost = tuple(_ref(old[key]) for key in old if key not in new)
        if gained or lost:
            changes.append(RuleChange(rule, gained, lost, bool(old) and not new))
    changed_files = {d.file for d in after} - {d.file for d in before}
    changed_files |= {
        d.file for d in after if d.file in base.diagrams and base.diagrams[d.file] != d
    }
    known_before = _unknown(base, changed_files)
    unknown = [
        UnknownCitation(
            rule_id,
            file,
            element_id,
            draft.diagrams[file].elements[element_id].name,
            (rule_id, file, element_id) not in known_before,
        )
        for rule_id, file, element_id in sorted(_unknown(draft, changed_files))
    ]
    return TraceabilityEffect(changes, unknown)
