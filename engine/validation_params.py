"""Check 12 of `certflow validate`: a service task passes exactly the parameters its operator
declares — every required one, no unknown one. Without this a missing parameter is found only
when a case reaches the task (an incident); the studio marks it on the element while editing."""

from collections.abc import Iterator

from engine.registry import HandlerRegistry
from engine.validation_document import NS, Document, Problem


def check_parameters(doc: Document, registry: HandlerRegistry) -> Iterator[Problem]:
    for operator in doc.xpath(".//spiffworkflow:serviceTaskOperator"):
        rows = registry.param_rows(operator.get("id") or "")
        if rows is None:
            continue  # unregistered (check 4) or declares nothing
        passed = {
            param.get("id")
            for param in operator.xpath(
                "spiffworkflow:parameters/spiffworkflow:parameter", namespaces=NS
            )
        }
        declared = {row["name"] for row in rows}
        name = operator.get("id")
        for row in rows:
            if row["required"] and row["name"] not in passed:
                yield doc.problem(
                    operator, f"operator '{name}' needs the parameter '{row['name']}'"
                )
        for unknown in sorted(p for p in passed - declared if p):
            yield doc.problem(operator, f"operator '{name}' takes no parameter '{unknown}'")
