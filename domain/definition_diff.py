"""What changed between two versions of a BPMN definition, element by element (issue 12: the
quality manager reviews the changes, ISO/IEC 17065 §8.3 "changes identified").

Each element with an id in the processes and collaborations (tasks, events, gateways, flows,
lanes …) is compared by its own XML — attributes, documentation, extension elements (operator,
parameters, due time, form) — without its child flow elements, so a change inside a task marks
that task and not its process. Diagram interchange (positions) is reported apart as "moved"."""

from dataclasses import dataclass, field
from io import BytesIO

from lxml import etree

from certflow.process_texts import safe_xml_parser

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
# Children that are elements of their own (compared on their own), not properties of the parent.
_OWN = {"process", "subProcess", "laneSet", "lane", "participant", "collaboration"}


@dataclass(frozen=True)
class ElementChange:
    element_id: str
    kind: str  # the BPMN element type, e.g. "userTask"
    name: str
    details: tuple[str, ...] = ()  # changed attributes / extension values, "name: old → new"


@dataclass
class DefinitionDiff:
    added: list[ElementChange] = field(default_factory=list)
    removed: list[ElementChange] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # same semantics, other position

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.moved)

    def as_json(self) -> dict:
        def rows(changes: list[ElementChange]) -> list[dict]:
            return [
                {"id": c.element_id, "type": c.kind, "name": c.name, "details": list(c.details)}
                for c in changes
            ]

        return {
            "added": rows(self.added),
            "removed": rows(self.removed),
            "changed": rows(self.changed),
            "moved": list(self.moved),
        }


def _parse(xml: str | bytes):
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    return etree.parse(BytesIO(data), safe_xml_parser()).getroot()


def _semantic_elements(root) -> dict[str, object]:
    found = {}
    for element in root.iter(f"{{{BPMN}}}*"):
        ident = element.get("id")
        if ident and etree.QName(element).localname != "definitions":
            found[ident] = element
    return found


def _own_content(element) -> tuple:
    """The element's attributes and the values inside it that are not elements of their own."""
    items: list[tuple[str, str]] = sorted(element.attrib.items())
    for child in element.iterdescendants():
        if not isinstance(child.tag, str):
            continue
        if _nested_in_other(child, element):
            continue
        local = etree.QName(child).localname
        text = (child.text or "").strip()
        attrs = ",".join(f"{k}={v}" for k, v in sorted(child.attrib.items()))
        items.append((local, f"{attrs} {text}".strip()))
    return tuple(items)


def _nested_in_other(child, owner) -> bool:
    """True when `child` lies inside another BPMN element with an id (or a lane set) of `owner`;
    spiffworkflow extensions carry `id`s of their own (operator, parameter) and belong to it."""
    node = child
    while node is not None and node is not owner:
        name = etree.QName(node)
        if (name.namespace == BPMN and node.get("id")) or name.localname in _OWN:
            return True
        node = node.getparent()
    return False


def _details(old, new) -> tuple[str, ...]:
    details = []
    for key in sorted(set(old.attrib) | set(new.attrib)):
        if old.get(key) != new.get(key):
            details.append(f"{key}: {old.get(key) or '—'} → {new.get(key) or '—'}")
    old_values, new_values = _extension_values(old), _extension_values(new)
    for key in sorted(set(old_values) | set(new_values)):
        if old_values.get(key) != new_values.get(key):
            details.append(f"{key}: {old_values.get(key) or '—'} → {new_values.get(key) or '—'}")
    if not details:
        details.append("content")
    return tuple(details)


def _extension_values(element) -> dict[str, str]:
    """Readable values of the spiffworkflow extensions: operator, parameters, properties."""
    values: dict[str, str] = {}
    for child in element.iterdescendants():
        if not isinstance(child.tag, str) or _nested_in_other(child, element):
            continue
        local = etree.QName(child).localname
        if local == "serviceTaskOperator":
            values["operator"] = child.get("id") or ""
        elif local == "parameter":
            values[f"parameter {child.get('id')}"] = child.get("value") or ""
        elif local == "property":
            values[child.get("name") or "property"] = child.get("value") or ""
        elif local in ("documentation", "instructionsForEndUser", "script", "conditionExpression"):
            values[local] = (child.text or "").strip()[:200]
    return values


def _bounds(root) -> dict[str, tuple]:
    shapes = {}
    for shape in root.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge"):
        target = shape.get("bpmnElement")
        points = [
            tuple(sorted(node.attrib.items()))
            for node in shape.iter(f"{{{DC}}}Bounds", f"{{{DI}}}waypoint")
        ]
        shapes[target] = tuple(points)
    return shapes


def _change(element, details: tuple[str, ...] = ()) -> ElementChange:
    return ElementChange(
        element.get("id"), etree.QName(element).localname, element.get("name") or "", details
    )


def diff_definitions(old_xml: str | bytes, new_xml: str | bytes) -> DefinitionDiff:
    old_root, new_root = _parse(old_xml), _parse(new_xml)
    old, new = _semantic_elements(old_root), _semantic_elements(new_root)
    result = DefinitionDiff()
    for ident in sorted(set(new) - set(old)):
        result.added.append(_change(new[ident]))
    for ident in sorted(set(old) - set(new)):
        result.removed.append(_change(old[ident]))
    for ident in sorted(set(old) & set(new)):
        if _own_content(old[ident]) != _own_content(new[ident]):
            result.changed.append(_change(new[ident], _details(old[ident], new[ident])))
    old_bounds, new_bounds = _bounds(old_root), _bounds(new_root)
    changed_ids = {c.element_id for c in result.changed}
    result.moved = sorted(
        ident
        for ident in set(old_bounds) & set(new_bounds)
        if old_bounds[ident] != new_bounds[ident] and ident not in changed_ids
    )
    return result
