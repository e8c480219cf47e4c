"""A DMN decision table read for people (issue 12, the studio's view of star_level.dmn): its
inputs, outputs and rules in order, as the engine evaluates them (hit policy, first match
first for FIRST) — and what changed between two versions of the tables, rule by rule, for the
review of a draft and the comparison of two versions (R-5: the star level's thresholds are data
a process owner changes through a reviewed draft; the reviewer sees the change)."""

from dataclasses import dataclass
from io import BytesIO

from lxml import etree

from certflow.process_texts import safe_xml_parser

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
_NS = {"dmn": DMN_NS}


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    expression: str  # the variable an input reads / the name an output writes


@dataclass(frozen=True)
class Rule:
    id: str
    inputs: tuple[str, ...]  # "-" is "any value"
    outputs: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class DecisionTable:
    decision_id: str
    name: str
    hit_policy: str
    inputs: tuple[Column, ...]
    outputs: tuple[Column, ...]
    rules: tuple[Rule, ...]


def _text(node, path: str) -> str:
    found = node.find(path, _NS)
    return (found.text or "").strip() if found is not None else ""


def read_tables(content: str) -> list[DecisionTable]:
    """Every decision table of a DMN file. Raises ValueError for a file that is not DMN XML."""
    try:
        root = etree.parse(BytesIO(content.encode("utf-8")), safe_xml_parser()).getroot()
    except etree.XMLSyntaxError as err:
        raise ValueError(f"not a DMN file: {err}") from err
    tables = []
    for decision in root.iterfind("dmn:decision", _NS):
        table = decision.find("dmn:decisionTable", _NS)
        if table is None:
            continue
        inputs = tuple(
            Column(i.get("id", ""), i.get("label", ""), _text(i, "dmn:inputExpression/dmn:text"))
            for i in table.iterfind("dmn:input", _NS)
        )
        outputs = tuple(
            Column(o.get("id", ""), o.get("label", ""), o.get("name", ""))
            for o in table.iterfind("dmn:output", _NS)
        )
        rules = tuple(
            Rule(
                rule.get("id", ""),
                tuple(_text(e, "dmn:text") for e in rule.iterfind("dmn:inputEntry", _NS)),
                tuple(_text(e, "dmn:text") for e in rule.iterfind("dmn:outputEntry", _NS)),
                _text(rule, "dmn:description"),
            )
            for rule in table.iterfind("dmn:rule", _NS)
        )
        tables.append(
            DecisionTable(
                decision.get("id", ""),
                decision.get("name", ""),
                table.get("hitPolicy", "UNIQUE"),
                inputs,
                outputs,
                rules,
            )
        )
    return tables


@dataclass(frozen=True)
class RuleChange:
    kind: str  # "added", "removed" or "changed"
    before: Rule | None
    after: Rule | None
    position: int  # 1-based place in the table the rule is in (after, else before)


@dataclass(frozen=True)
class TableChanges:
    path: str
    decision_id: str
    name: str
    before: DecisionTable | None
    after: DecisionTable | None
    changes: tuple[RuleChange, ...]
    order_changed: bool  # same rules, another order (matters for the FIRST hit policy)


def _table_changes(path: str, old: DecisionTable | None, new: DecisionTable | None):
    """Rules matched by id: added, removed, changed (entries or note); None when equal."""
    old_rules = {r.id: (i, r) for i, r in enumerate(old.rules, 1)} if old else {}
    new_rules = {r.id: (i, r) for i, r in enumerate(new.rules, 1)} if new else {}
    changes = []
    for rule_id, (position, rule) in new_rules.items():
        if rule_id not in old_rules:
            changes.append(RuleChange("added", None, rule, position))
        elif old_rules[rule_id][1] != rule:
            changes.append(RuleChange("changed", old_rules[rule_id][1], rule, position))
    for rule_id, (position, rule) in old_rules.items():
        if rule_id not in new_rules:
            changes.append(RuleChange("removed", rule, None, position))
    kept_old = [r for r in old_rules if r in new_rules]
    kept_new = [r for r in new_rules if r in old_rules]
    columns_changed = bool(old and new) and (
        (old.inputs, old.outputs, old.hit_policy) != (new.inputs, new.outputs, new.hit_policy)
    )
    same_tables = (old is None) == (new is None)
    if not changes and kept_old == kept_new and not columns_changed and same_tables:
        return None
    either = new or old
    return TableChanges(
        path, either.decision_id, either.name, old, new, tuple(changes), kept_old != kept_new
    )


def decision_changes(old: dict[str, str], new: dict[str, str]) -> list[TableChanges]:
    """The decision tables that differ between two file sets (every *.dmn file of either), with
    their rule changes. A file that does not parse is left out: validation reports it."""
    found = []
    for path in sorted(p for p in set(old) | set(new) if p.endswith(".dmn")):
        if old.get(path) == new.get(path):
            continue
        try:
            before = {t.decision_id: t for t in read_tables(old[path])} if path in old else {}
            after = {t.decision_id: t for t in read_tables(new[path])} if path in new else {}
        except ValueError:
            continue
        for decision_id in sorted(set(before) | set(after)):
            changed = _table_changes(path, before.get(decision_id), after.get(decision_id))
            if changed:
                found.append(changed)
    return found
