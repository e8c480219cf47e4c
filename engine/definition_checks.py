"""Checks on a definition file that guard the validator itself (issue 9 item 11).

* Size: a file above MAX_DEFINITION_BYTES, or with more than MAX_DEFINITION_ELEMENTS elements
  (counted on the bytes, before any parsing), is refused. The largest process certflow ships
  (processes/certification.bpmn) is about 90 KB with under 900 elements, so the limits leave
  more than 40 times that room while bounding what a validate or deploy run may cost.
* No DOCTYPE: a DTD (internal or external) or an entity declaration is refused; BPMN and DMN
  need none, and entities would otherwise reach the XSD validator unexpanded.
* spiffworkflow extensions are an allowlist: the elements and task properties certflow reads
  (see /work/shared/notes/spiffworkflow-3.2.md and engine/service.py). Anything else in that
  namespace is a mistake or something the engine would silently ignore.
* A form reference is a relative path to a file inside the folder of the BPMN file that names
  it; deploy stores the form with the process, so it must be part of the deployed folder.
"""

from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"

MAX_DEFINITION_BYTES = 4 * 1024 * 1024
MAX_DEFINITION_ELEMENTS = 40_000

ALLOWED_SPIFF_ELEMENTS = frozenset(
    {
        "serviceTaskOperator",  # service task handler (handlers/), with its parameters
        "parameters",
        "parameter",
        "properties",  # task properties, see ALLOWED_TASK_PROPERTIES
        "property",
        "instructionsForEndUser",  # the task page's instructions
        "messagePayload",  # thrown message content
        "messageVariable",  # caught message content
        "calledDecisionId",  # business rule task → DMN decision
        "preScript",  # restricted scripts around a task
        "postScript",
    }
)
ALLOWED_TASK_PROPERTIES = frozenset(
    {
        "formJsonSchemaFilename",  # the task's form (JSON Schema)
        "formUiSchemaFilename",
        "dueIn",  # ISO duration → the task's due date
        "dueAt",  # a task-data path (`complaint.overdue_at`) holding the due instant (ISO)
        "followUpIn",  # ISO duration → the task's follow-up date
        "guard",  # registered task guard
        "validate",  # registered form validator
    }
)


def size_problem(size: int) -> str | None:
    if size > MAX_DEFINITION_BYTES:
        return (
            f"the file has {size} bytes; definition files are limited to "
            f"{MAX_DEFINITION_BYTES} bytes"
        )
    return None


def element_count_problem(data: bytes) -> str | None:
    """An upper bound of the element count from the bytes alone (every start tag opens with
    '<' followed by a name), so that an oversized file is refused without being parsed."""
    tags = data.count(b"<") - data.count(b"</") - data.count(b"<?") - data.count(b"<!")
    if tags > MAX_DEFINITION_ELEMENTS:
        return (
            f"the file has about {tags} elements; definition files are limited to "
            f"{MAX_DEFINITION_ELEMENTS} elements"
        )
    return None


def doctype_problem(root: Any, data: bytes) -> tuple[int, str] | None:
    """(line, message) when the parsed document has a DOCTYPE (a DTD or entity declarations)."""
    docinfo = root.getroottree().docinfo
    if not (docinfo.doctype or docinfo.internalDTD is not None or docinfo.system_url):
        return None
    line = next(
        (n for n, text in enumerate(data.splitlines(), 1) if b"<!DOCTYPE" in text.upper()), 1
    )
    return line, "a DOCTYPE (DTD or entity declarations) is not allowed in a definition file"


def extension_problems(root: Any) -> Iterator[tuple[Any, str]]:
    """(element, message) for every spiffworkflow element or task property not allowlisted."""
    for elem in root.iter(f"{{{SPIFF_NS}}}*"):
        name = elem.tag.split("}", 1)[1]
        if name not in ALLOWED_SPIFF_ELEMENTS:
            yield elem, f"unknown extension element spiffworkflow:{name}"
        elif name == "property" and elem.get("name") not in ALLOWED_TASK_PROPERTIES:
            yield elem, f"unknown task property '{elem.get('name')}'"
    for elem in root.iter():
        if not isinstance(elem.tag, str):
            continue
        for attribute in elem.attrib:
            if attribute.startswith(f"{{{SPIFF_NS}}}"):
                yield elem, f"unknown extension attribute spiffworkflow:{attribute.split('}')[1]}"


def form_reference_problem(base: Path, property_name: str, value: str) -> str | None:
    """A form must be a relative path to a file inside `base` (the BPMN file's folder)."""
    reference = PurePosixPath(value.replace("\\", "/"))
    outside = (
        f"{property_name} '{value}' must be a relative path inside the folder of the BPMN file"
    )
    if reference.is_absolute() or Path(value).is_absolute() or ".." in reference.parts:
        return outside
    folder = base.resolve()
    if not (folder / reference).resolve().is_relative_to(folder):  # e.g. through a symlink
        return outside
    return None
