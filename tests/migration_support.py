"""Versions for the migration tests (issue 12): review_flow with one step removed."""

import re
import shutil
from pathlib import Path

from tests.helpers import REVIEW_FLOW

WAIT = "Event_WaitResubmission"


def without_resubmission(tmp_path: Path) -> Path:
    """review_flow where a non-accepted application ends instead of waiting for documents:
    the catch event `Event_WaitResubmission` is removed."""
    target = tmp_path / "v2"
    shutil.copytree(REVIEW_FLOW, target)
    bpmn = target / "review_flow.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    text = re.sub(
        r'<bpmn:intermediateCatchEvent id="Event_WaitResubmission".*?'
        r"</bpmn:intermediateCatchEvent>",
        '<bpmn:endEvent id="EndEvent_NotAccepted" name="不受理 Not accepted">'
        "<bpmn:incoming>Flow_NotAccepted</bpmn:incoming></bpmn:endEvent>",
        text,
        flags=re.S,
    )
    text = re.sub(r"\s*<bpmn:incoming>Flow_Resubmitted</bpmn:incoming>", "", text)
    text = re.sub(r'\s*<bpmn:sequenceFlow id="Flow_Resubmitted"[^>]*/>', "", text)
    text = re.sub(
        r'\s*<bpmndi:BPMNEdge id="Flow_Resubmitted_di".*?</bpmndi:BPMNEdge>', "", text, flags=re.S
    )
    text = text.replace('targetRef="Event_WaitResubmission"', 'targetRef="EndEvent_NotAccepted"')
    text = text.replace(
        "<bpmn:flowNodeRef>Event_WaitResubmission<", "<bpmn:flowNodeRef>EndEvent_NotAccepted<"
    )
    text = text.replace(
        'bpmnElement="Event_WaitResubmission"', 'bpmnElement="EndEvent_NotAccepted"'
    )
    text = text.replace('id="Event_WaitResubmission_di"', 'id="EndEvent_NotAccepted_di"')
    assert WAIT not in text
    bpmn.write_text(text, encoding="utf-8")
    return target
