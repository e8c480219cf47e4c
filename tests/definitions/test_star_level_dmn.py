"""`processes/star_level.dmn` (R-5): star level from score and special deductions, run by engine.

The decision is called from a business rule task and evaluated by SpiffWorkflow 3.2 with the
project's restricted script engine, exactly as a deployed process would: input entries such as
`>= 95` are fragments the DMNEngine appends to the input expression (`score>= 95`).
"""

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine.parsing import make_parser
from engine.scripting import CertflowScriptEngine
from engine.validation import validate_paths
from tests.paths import ROOT

STAR_LEVEL_DMN = ROOT / "processes" / "star_level.dmn"
DMN_NS = {
    "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "dmndi": "https://www.omg.org/spec/DMN/20191111/DMNDI/",
}

CALLER_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Definitions_StarLevelCaller" targetNamespace="http://certflow.example/test">
  <bpmn:process id="star_level_caller" name="Star level caller" isExecutable="true">
    <bpmn:startEvent id="StartEvent_Caller" name="Started">
      <bpmn:outgoing>Flow_ToDecision</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:businessRuleTask id="Task_StarLevel" name="Decide star level">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>Decision_StarLevel</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_ToDecision</bpmn:incoming>
      <bpmn:outgoing>Flow_ToEnd</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="EndEvent_Caller" name="Done">
      <bpmn:incoming>Flow_ToEnd</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_ToDecision" sourceRef="StartEvent_Caller"
        targetRef="Task_StarLevel" />
    <bpmn:sequenceFlow id="Flow_ToEnd" sourceRef="Task_StarLevel" targetRef="EndEvent_Caller" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture(scope="module")
def caller_specs():
    parser = make_parser()
    parser.add_dmn_files([str(STAR_LEVEL_DMN)])
    parser.add_bpmn_str(CALLER_BPMN, filename="star_level_caller.bpmn")
    return parser.get_spec("star_level_caller"), parser.get_subprocess_specs("star_level_caller")


def star_level(caller_specs, score: float, special_deductions: int) -> int:
    spec, subprocess_specs = caller_specs
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=CertflowScriptEngine())
    workflow.get_next_task().data.update(score=score, special_deductions=special_deductions)
    workflow.do_engine_steps()
    assert workflow.is_completed()
    return workflow.data["star_level"]


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0, 0),
        (69.99, 0),
        (70, 1),
        (74.99, 1),
        (75, 2),
        (79.99, 2),
        (80, 3),
        (89.99, 3),
        (90, 4),
        (94.99, 4),
        (95, 5),
        (100, 5),
    ],
)
def test_star_level_at_every_threshold(caller_specs, score: float, expected: int) -> None:
    assert star_level(caller_specs, score, 0) == expected


@pytest.mark.parametrize(
    ("score", "special_deductions", "expected"),
    [
        (98, 5, 0),
        (98, 6, 0),
        (98, 4, 5),
        (85, 4, 3),
        (70, 5, 0),
        (60, 0, 0),
    ],
)
def test_five_special_deductions_mean_no_level(
    caller_specs, score: float, special_deductions: int, expected: int
) -> None:
    assert star_level(caller_specs, score, special_deductions) == expected


def test_result_is_an_integer(caller_specs) -> None:
    level = star_level(caller_specs, 91.5, 1)
    assert level == 4 and type(level) is int


def test_decision_table_through_the_dmn_parser() -> None:
    parser = make_parser()
    parser.add_dmn_files([str(STAR_LEVEL_DMN)])
    dmn_parser = parser.dmn_parsers["Decision_StarLevel"]
    dmn_parser.parse()
    decision = dmn_parser.decision
    assert decision.name == "星级判定 Star level"
    table = decision.decisionTables[0]
    assert table.hit_policy == "FIRST"
    assert [i.expression for i in table.inputs] == ["score", "special_deductions"]
    assert [o.name for o in table.outputs] == ["star_level"]
    outputs = [rule.outputEntries[0].text for rule in table.rules]
    assert outputs == ["0", "5", "4", "3", "2", "1", "0"]
    for rule in table.rules:
        assert rule.description and "R-5" in rule.description, rule.id


def test_every_rule_cites_its_threshold_and_diagram_exists() -> None:
    root = etree.parse(str(STAR_LEVEL_DMN)).getroot()
    rules = root.findall(".//dmn:rule", DMN_NS)
    thresholds = ["≥ 5", "≥ 95", "≥ 90", "≥ 80", "≥ 75", "≥ 70", "below 70"]
    for rule, threshold in zip(rules, thresholds, strict=True):
        description = rule.findtext("dmn:description", namespaces=DMN_NS)
        assert "R-5" in description and threshold in description, rule.get("id")
    shapes = root.findall(".//dmndi:DMNDiagram/dmndi:DMNShape", DMN_NS)
    assert [shape.get("dmnElementRef") for shape in shapes] == ["Decision_StarLevel"]


def test_dmn_passes_certflow_validate() -> None:
    assert validate_paths([STAR_LEVEL_DMN], handler_names=()) == []
