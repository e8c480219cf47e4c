"""The texts of the studio's modeler and properties panel (bpmn-js speaks English): handed to
its `translate` service in the page's language (issue 12: nothing a person sees is developer
text). Keys are bpmn-js's own English templates."""

from flask_babel import lazy_gettext, lazy_pgettext

MODELER_TEXTS = {
    "Activate hand tool": lazy_gettext("Activate hand tool"),
    "Activate lasso tool": lazy_gettext("Activate lasso tool"),
    "Activate create/remove space tool": lazy_gettext("Activate create/remove space tool"),
    "Activate global connect tool": lazy_gettext("Activate global connect tool"),
    "Create start event": lazy_gettext("Create start event"),
    "Create intermediate/boundary event": lazy_gettext("Create intermediate/boundary event"),
    "Create end event": lazy_gettext("Create end event"),
    "Create gateway": lazy_gettext("Create gateway"),
    "Create task": lazy_gettext("Create task"),
    "Create expanded sub-process": lazy_gettext("Create expanded sub-process"),
    "Create data object reference": lazy_gettext("Create data object reference"),
    "Create data store reference": lazy_gettext("Create data store reference"),
    "Create pool/participant": lazy_gettext("Create pool/participant"),
    "Create group": lazy_gettext("Create group"),
    "Append end event": lazy_gettext("Append end event"),
    "Append gateway": lazy_gettext("Append gateway"),
    "Append task": lazy_gettext("Append task"),
    "Append intermediate/boundary event": lazy_gettext("Append intermediate/boundary event"),
    "Append receive task": lazy_gettext("Append receive task"),
    "Append message intermediate catch event": lazy_gettext(
        "Append message intermediate catch event"
    ),
    "Append timer intermediate catch event": lazy_gettext("Append timer intermediate catch event"),
    "Append conditional intermediate catch event": lazy_gettext(
        "Append conditional intermediate catch event"
    ),
    "Append signal intermediate catch event": lazy_gettext(
        "Append signal intermediate catch event"
    ),
    "Append compensation activity": lazy_gettext("Append compensation activity"),
    "Add text annotation": lazy_gettext("Add text annotation"),
    "Add lane above": lazy_gettext("Add lane above"),
    "Add lane below": lazy_gettext("Add lane below"),
    "Divide into two lanes": lazy_gettext("Divide into two lanes"),
    "Divide into three lanes": lazy_gettext("Divide into three lanes"),
    "Change element": lazy_gettext("Change element"),
    "Delete": lazy_gettext("Delete"),
    "Connect to other element": lazy_gettext("Connect to other element"),
    "Connect using association": lazy_gettext("Connect using association"),
    "Connect using data input association": lazy_gettext("Connect using data input association"),
    "General": lazy_gettext("General"),
    "Name": lazy_gettext("Name"),
    "ID": lazy_gettext("ID"),
    "Documentation": lazy_gettext("Documentation"),
    "Element documentation": lazy_gettext("Element documentation"),
    "Process documentation": lazy_gettext("Process documentation"),
    "Executable": lazy_gettext("Executable"),
    "Version tag": lazy_gettext("Version tag"),
    "Process ID": lazy_gettext("Process ID"),
    "Process name": lazy_gettext("Process name"),
    "Condition": lazy_gettext("Condition"),
    "Extension properties": lazy_gettext("Extension properties"),
}

# The stock panel's timer and message groups (bpmn-js-properties-panel): certflow's timers are
# expressions on the case data (processes/*.bpmn: recertification["expiry_at"]), so the help says
# so; a fixed value is a quoted literal, checked by `certflow validate` (engine/event_checks.py).
EVENT_PANEL_TEXTS = {
    "Timer": lazy_pgettext("modeler", "Timer"),
    "Type": lazy_pgettext("modeler", "Type"),
    "Value": lazy_pgettext("modeler", "Value"),
    "Date": lazy_pgettext("modeler", "Date"),
    "Duration": lazy_pgettext("modeler", "Duration"),
    "Cycle": lazy_pgettext("modeler", "Cycle"),
    "<none>": lazy_pgettext("modeler", "<none>"),
    "A specific point in time defined as ISO 8601 combined date and time representation.": (
        lazy_gettext(
            "An expression on the case data giving an ISO 8601 date and time, e.g. "
            'schedule["due_at"]; a fixed date is written in quotes, like the examples below.'
        )
    ),
    "A time duration defined as ISO 8601 durations format.": lazy_gettext(
        "An expression giving an ISO 8601 duration; a fixed duration is written in quotes, "
        'e.g. "P14D".'
    ),
    "A cycle defined as ISO 8601 repeating intervals format.": lazy_gettext(
        "An expression giving an ISO 8601 repeating interval; a fixed one is written in "
        'quotes, e.g. "R/P1D".'
    ),
    "UTC time": lazy_gettext("UTC time"),
    "UTC plus 2 hours zone offset": lazy_gettext("UTC plus 2 hours zone offset"),
    "every 10 seconds, up to 5 times": lazy_gettext("every 10 seconds, up to 5 times"),
    "every day, infinitely": lazy_gettext("every day, infinitely"),
    "15 seconds": lazy_gettext("15 seconds"),
    "1 hour and 30 minutes": lazy_gettext("1 hour and 30 minutes"),
    "14 days": lazy_gettext("14 days"),
    "Documentation: Timer events": lazy_gettext("Documentation: Timer events"),
    "Message": lazy_pgettext("modeler", "Message"),
    "Global message reference": lazy_gettext("Message (from the diagram's messages)"),
    "Create new ...": lazy_gettext("Create new ..."),
}

# bpmn-js-token-simulation's texts: it writes them without `translate`; the bundle relabels its
# DOM through `translate` (tools/vendor-bpmn-js/src/certflow-simulation-texts.js, same keys).
SIMULATION_TEXTS = {
    "Token Simulation": lazy_gettext("Token Simulation"),
    "Simulation Log": lazy_gettext("Simulation Log"),
    "No Entries": lazy_gettext("No Entries"),
    "Toggle Simulation Log": lazy_gettext("Show or hide the simulation log"),
    "Close": lazy_pgettext("modeler", "Close"),
    "Reset Simulation": lazy_gettext("Reset Simulation"),
    "Play/Pause Simulation": lazy_gettext("Play or pause the simulation"),
    "Pause Simulation": lazy_gettext("Pause Simulation"),
    "Play Simulation": lazy_gettext("Play Simulation"),
    "Set animation speed = Slow": lazy_gettext("Animation speed: slow"),
    "Set animation speed = Normal": lazy_gettext("Animation speed: normal"),
    "Set animation speed = Fast": lazy_gettext("Animation speed: fast"),
    "Set Sequence Flow": lazy_gettext("Choose the outgoing sequence flow"),
    "Add pause point": lazy_gettext("Add pause point"),
    "Remove pause point": lazy_gettext("Remove pause point"),
    "Trigger Event": lazy_gettext("Trigger Event"),
    "Finished": lazy_pgettext("modeler", "Finished"),
    "Found unsupported elements": lazy_gettext("Found unsupported elements"),
    "Not supported": lazy_gettext("Not supported"),
    "{scope} started": lazy_gettext("{scope} started"),
    "{scope} finished": lazy_gettext("{scope} finished"),
    "{scope} canceled": lazy_gettext("{scope} canceled"),
    "Process": lazy_pgettext("modeler", "Process"),
    "SubProcess": lazy_gettext("Sub-process"),
    "Service Task": lazy_gettext("Service Task"),
    "User Task": lazy_gettext("User Task"),
    "Call Activity": lazy_gettext("Call Activity"),
    "Script Task": lazy_gettext("Script Task"),
    "Business Rule Task": lazy_gettext("Business Rule Task"),
    "Manual Task": lazy_gettext("Manual Task"),
    "Receive Task": lazy_gettext("Receive Task"),
    "Send Task": lazy_gettext("Send Task"),
    "Task": lazy_pgettext("modeler", "Task"),
    "Exclusive Gateway": lazy_gettext("Exclusive Gateway"),
    "Parallel Gateway": lazy_gettext("Parallel Gateway"),
    "Inclusive Gateway": lazy_gettext("Inclusive Gateway"),
    "Start Event": lazy_gettext("Start Event"),
    "Intermediate Event": lazy_gettext("Intermediate Event"),
    "Boundary Event": lazy_gettext("Boundary Event"),
    "End Event": lazy_gettext("End Event"),
}

# bpmnlint's findings (rules of tools/vendor-bpmn-js/.bpmnlintrc) and bpmn-js-bpmnlint's button;
# bpmn-js-bpmnlint passes them through the same `translate` service.
LINT_TEXTS = {
    "{errors} Errors, {warnings} Warnings": lazy_gettext("{errors} errors, {warnings} warnings"),
    "No Issues": lazy_gettext("No modelling problems"),
    "Toggle linting overlays": lazy_gettext("Show or hide the modelling check's marks"),
    "Issues for child elements": lazy_gettext("Problems of elements inside"),
    "Sequence flow is missing condition": lazy_gettext("The sequence flow has no condition"),
    " is missing end event": lazy_gettext(" has no end event"),
    " is missing start event": lazy_gettext(" has no start event"),
    " has multiple blank start events": lazy_gettext(" has several blank start events"),
    "Start event is missing event definition": lazy_gettext("The start event has no trigger"),
    "Start event must be blank": lazy_gettext("The start event must have no trigger"),
    "Element is missing name": lazy_gettext("The element has no name"),
    "Element is unused": lazy_gettext("The element is not used"),
    "Element name is not unique": lazy_gettext("The element's name is used twice"),
    "Element is missing label/name": lazy_gettext("The element has no name"),
    "Link event is missing link name": lazy_gettext("The link event has no link name"),
    "Element is missing bpmndi": lazy_gettext("The element is not drawn in the diagram"),
    "Element is not connected": lazy_gettext("The element is not connected"),
    "SequenceFlow is a duplicate": lazy_gettext("The sequence flow is a duplicate"),
    "Duplicate outgoing sequence flows": lazy_gettext("Duplicate outgoing sequence flows"),
    "Duplicate incoming sequence flows": lazy_gettext("Duplicate incoming sequence flows"),
    "Flow splits implicitly": lazy_gettext(
        "The flow splits without a gateway (use a gateway to split it)"
    ),
    "Element is an implicit end": lazy_gettext(
        "The element has no outgoing flow (end the path with an end event)"
    ),
    "Element is an implicit start": lazy_gettext(
        "The element has no incoming flow (start the path with a start event)"
    ),
    "Element overlaps with other element": lazy_gettext("The element overlaps another element"),
    "Element is outside of parent boundary": lazy_gettext(
        "The element lies outside its sub-process or pool"
    ),
    "Event has multiple event definitions": lazy_gettext("The event has several triggers"),
    "Gateway is superfluous. It only has one source and target.": lazy_gettext(
        "The gateway is superfluous: it has only one incoming and one outgoing flow"
    ),
    "Termination is superfluous.": lazy_gettext("The terminate end event is superfluous"),
}

# dmn-js's decision table editor: the texts a process owner sees while editing the rules (the
# table's head, the hit policy, the cells' context menu and editors); the rest stay English.
DMN_TEXTS = {
    "When": lazy_pgettext("decision table", "When"),
    "And": lazy_gettext("And"),
    "Then": lazy_gettext("Then"),
    "Annotations": lazy_gettext("Annotations"),
    "Hit policy:": lazy_gettext("Hit policy:"),
    "View DRD": lazy_gettext("View the decision diagram"),
    "Add rule": lazy_gettext("Add rule"),
    "Add rule above": lazy_gettext("Add rule above"),
    "Add rule below": lazy_gettext("Add rule below"),
    "Remove rule": lazy_gettext("Remove rule"),
    "Copy rule": lazy_gettext("Copy rule"),
    "Cut rule": lazy_gettext("Cut rule"),
    "Paste rule above": lazy_gettext("Paste rule above"),
    "Paste rule below": lazy_gettext("Paste rule below"),
    "Add cell description": lazy_gettext("Add cell description"),
    "Remove cell description": lazy_gettext("Remove cell description"),
    "Edit number": lazy_gettext("Edit number"),
    "Edit string": lazy_gettext("Edit string"),
    "Enter expression": lazy_gettext("Enter expression"),
    "Comparison": lazy_gettext("Comparison"),
    "Range": lazy_gettext("Range"),
    "Value": lazy_gettext("Value"),
    "Expression": lazy_gettext("Expression"),
    "Unique": lazy_pgettext("decision table", "Unique"),
    "First": lazy_pgettext("decision table", "First"),
    "Priority": lazy_pgettext("decision table", "Priority"),
    "Any": lazy_pgettext("decision table", "Any"),
    "Collect": lazy_pgettext("decision table", "Collect"),
    "Rule order": lazy_pgettext("decision table", "Rule order"),
    "Output order": lazy_pgettext("decision table", "Output order"),
    "number": lazy_pgettext("decision table", "number"),
    "integer": lazy_pgettext("decision table", "integer"),
    "string": lazy_pgettext("decision table", "string"),
    "boolean": lazy_pgettext("decision table", "boolean"),
}


def decision_texts() -> dict[str, str]:
    """{dmn-js template: its text in the current language}."""
    return {key: str(text) for key, text in DMN_TEXTS.items()}


def modeler_texts() -> dict[str, str]:
    """{bpmn-js template: its text in the current language}."""
    texts = {**MODELER_TEXTS, **EVENT_PANEL_TEXTS, **SIMULATION_TEXTS, **LINT_TEXTS}
    return {key: str(text) for key, text in texts.items()}
