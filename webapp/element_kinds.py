"""BPMN element types as people name them (a diff lists "User task", never `userTask`)."""

from flask_babel import lazy_gettext

ELEMENT_KINDS = {
    "userTask": lazy_gettext("User task"),
    "manualTask": lazy_gettext("Manual task"),
    "serviceTask": lazy_gettext("Service task"),
    "scriptTask": lazy_gettext("Script task"),
    "businessRuleTask": lazy_gettext("Decision task"),
    "receiveTask": lazy_gettext("Receive task"),
    "sendTask": lazy_gettext("Send task"),
    "task": lazy_gettext("Task"),
    "callActivity": lazy_gettext("Call activity"),
    "subProcess": lazy_gettext("Sub-process"),
    "startEvent": lazy_gettext("Start event"),
    "endEvent": lazy_gettext("End event"),
    "boundaryEvent": lazy_gettext("Boundary event"),
    "intermediateCatchEvent": lazy_gettext("Intermediate catch event"),
    "intermediateThrowEvent": lazy_gettext("Intermediate throw event"),
    "exclusiveGateway": lazy_gettext("Exclusive gateway"),
    "parallelGateway": lazy_gettext("Parallel gateway"),
    "inclusiveGateway": lazy_gettext("Inclusive gateway"),
    "eventBasedGateway": lazy_gettext("Event-based gateway"),
    "sequenceFlow": lazy_gettext("Sequence flow"),
    "messageFlow": lazy_gettext("Message flow"),
    "lane": lazy_gettext("Lane"),
    "participant": lazy_gettext("Participant"),
    "process": lazy_gettext("Process"),
    "message": lazy_gettext("Message"),
    "signal": lazy_gettext("Signal"),
    "textAnnotation": lazy_gettext("Text annotation"),
    "dataObjectReference": lazy_gettext("Data object"),
    "dataStoreReference": lazy_gettext("Data store"),
}


def element_kind(kind: str) -> str:
    """The element type in the page's language; an unknown type as "Element"."""
    return str(ELEMENT_KINDS.get(kind, lazy_gettext("Element")))
