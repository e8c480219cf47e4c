"""A DMN decision table read for people (issue 12, the studio's view of star_level.dmn): its
inputs, outputs and rules in order, as the engine evaluates them (hit policy, first match
first for FIRST). Read only: editing the table is not built yet (R-5: the star level's
thresholds are data a process owner may change through a reviewed draft)."""

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
