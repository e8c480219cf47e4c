"""A small valid diagram around one script and one gateway condition, for the sandbox tests."""

from pathlib import Path
from xml.sax.saxutils import escape

PROCESS_ID = "sandbox_probe"
SCRIPT_TASK = "Task_Script"
CONDITION_FLOW = "Flow_Condition"

_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" \
xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="Definitions_Probe" \
targetNamespace="http://certflow.example/test">
  <bpmn:process id="sandbox_probe" name="Sandbox probe" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" name="Started">
      <bpmn:outgoing>Flow_ToScript</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:scriptTask id="Task_Script" name="Script">
      <bpmn:incoming>Flow_ToScript</bpmn:incoming>
      <bpmn:outgoing>Flow_ToGateway</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="Gateway_1" name="Which way?" default="Flow_Default">
      <bpmn:incoming>Flow_ToGateway</bpmn:incoming>
      <bpmn:outgoing>Flow_Condition</bpmn:outgoing>
      <bpmn:outgoing>Flow_Default</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="EndEvent_1" name="Done">
      <bpmn:incoming>Flow_Condition</bpmn:incoming>
      <bpmn:incoming>Flow_Default</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_ToScript" sourceRef="StartEvent_1" targetRef="Task_Script" />
    <bpmn:sequenceFlow id="Flow_ToGateway" sourceRef="Task_Script" targetRef="Gateway_1" />
    <bpmn:sequenceFlow id="Flow_Condition" name="condition" sourceRef="Gateway_1" \
targetRef="EndEvent_1">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_Default" sourceRef="Gateway_1" targetRef="EndEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="sandbox_probe">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">\
<dc:Bounds x="100" y="100" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_Script_di" bpmnElement="Task_Script">\
<dc:Bounds x="180" y="78" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Gateway_1_di" bpmnElement="Gateway_1" isMarkerVisible="true">\
<dc:Bounds x="330" y="93" width="50" height="50" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="EndEvent_1_di" bpmnElement="EndEvent_1">\
<dc:Bounds x="480" y="100" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_ToScript_di" bpmnElement="Flow_ToScript">\
<di:waypoint x="136" y="118" /><di:waypoint x="180" y="118" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_ToGateway_di" bpmnElement="Flow_ToGateway">\
<di:waypoint x="280" y="118" /><di:waypoint x="330" y="118" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_Condition_di" bpmnElement="Flow_Condition">\
<di:waypoint x="355" y="93" /><di:waypoint x="498" y="100" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_Default_di" bpmnElement="Flow_Default">\
<di:waypoint x="380" y="118" /><di:waypoint x="480" y="118" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def probe_bpmn(script: str = "done = True", condition: str = "False") -> str:
    return _TEMPLATE.format(script=escape(script), condition=escape(condition))


def write_probe(directory: Path, script: str = "done = True", condition: str = "False") -> Path:
    """`directory/sandbox_probe.bpmn`; the script starts on the line of `<bpmn:script>`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "sandbox_probe.bpmn"
    path.write_text(probe_bpmn(script, condition), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")
