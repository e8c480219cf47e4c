"""The event log in the formats process-mining tools read (issue 13): XES (IEEE 1849-2016) and
CSV, one trace per case (= process instance), one event per step of a human task's life
(engine.query_quality.LIFECYCLE). Activity names are the elements' names in the requested
language; times are UTC with their offset."""

import csv
import io
from collections.abc import Callable, Iterable
from itertools import groupby

from lxml import etree

from engine.query_quality import ActivityEvent

CSV_COLUMNS = ("case", "activity", "time", "resource", "lifecycle", "role", "process", "element")
_EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
)


def case_name(event: ActivityEvent) -> str:
    """The trace's name: the instance id, with its business key when it has one."""
    key = f" {event.business_key}" if event.business_key else ""
    return f"{event.instance_id}{key}"


def _attribute(parent, kind: str, key: str, value: str) -> None:
    etree.SubElement(parent, kind, key=key, value=value)


def to_xes(events: Iterable[ActivityEvent], name: Callable[[str], str]) -> bytes:
    """`events` ordered by instance then time; `name` translates an activity name."""
    log = etree.Element("log", {"xes.version": "1.0", "xes.features": "nested-attributes"})
    for ext_name, prefix, uri in _EXTENSIONS:
        etree.SubElement(log, "extension", name=ext_name, prefix=prefix, uri=uri)
    trace_global = etree.SubElement(log, "global", scope="trace")
    _attribute(trace_global, "string", "concept:name", "")
    event_global = etree.SubElement(log, "global", scope="event")
    _attribute(event_global, "string", "concept:name", "")
    _attribute(event_global, "date", "time:timestamp", "1970-01-01T00:00:00.000+00:00")
    _attribute(event_global, "string", "lifecycle:transition", "complete")
    etree.SubElement(log, "classifier", name="Activity", keys="concept:name")
    etree.SubElement(
        log, "classifier", name="Activity and transition", keys="concept:name lifecycle:transition"
    )
    for _, trace_events in groupby(events, key=lambda e: e.instance_id):
        trace_events = list(trace_events)
        first = trace_events[0]
        trace = etree.SubElement(log, "trace")
        _attribute(trace, "string", "concept:name", case_name(first))
        _attribute(trace, "string", "process", f"{first.process_id} v{first.version}")
        for event in trace_events:
            node = etree.SubElement(trace, "event")
            _attribute(node, "string", "concept:name", name(event.activity))
            _attribute(node, "date", "time:timestamp", event.at.isoformat(timespec="milliseconds"))
            _attribute(node, "string", "lifecycle:transition", event.lifecycle)
            if event.resource:
                _attribute(node, "string", "org:resource", event.resource)
            if event.role:
                _attribute(node, "string", "org:role", event.role)
            _attribute(node, "string", "element", event.element_id)
    return etree.tostring(log, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def to_csv(events: Iterable[ActivityEvent], name: Callable[[str], str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        writer.writerow(
            [
                case_name(event),
                name(event.activity),
                event.at.isoformat(timespec="milliseconds"),
                event.resource or "",
                event.lifecycle,
                event.role or "",
                f"{event.process_id} v{event.version}",
                event.element_id,
            ]
        )
    return out.getvalue()
