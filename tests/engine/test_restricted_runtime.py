"""Scripts and expressions are restricted at run time too, not only by `certflow validate`."""

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.errors import root_cause
from engine.parsing import make_parser
from engine.restricted import RestrictedEnvironment, ScriptRestrictionError, check_source
from engine.scripting import CertflowScriptEngine

ESCAPES = [
    "import os",
    "from os import system",
    "open('/etc/passwd').read()",
    "__import__('os').system('true')",
    "().__class__.__base__.__subclasses__()",
    "(x for x in []).gi_frame.f_globals",
    "getattr(1, 'real')",
    "'{0.__class__}'.format(1)",
]

SCRIPT_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="D" targetNamespace="t">
  <bpmn:process id="script_run" name="Script run" isExecutable="true">
    <bpmn:startEvent id="StartEvent_Go" name="Go">
      <bpmn:outgoing>F1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:scriptTask id="Task_Script" name="Script">
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="EndEvent_Done" name="Done"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_Go" targetRef="Task_Script" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_Script" targetRef="EndEvent_Done" />
  </bpmn:process>
</bpmn:definitions>"""


def run_script(script: str) -> BpmnWorkflow:
    """Parse without our validator (as if a definition slipped through) and run it."""
    from xml.sax.saxutils import escape

    parser = make_parser()
    parser.add_bpmn_str(SCRIPT_PROCESS.format(script=escape(script)).encode())
    workflow = BpmnWorkflow(parser.get_spec("script_run"), script_engine=CertflowScriptEngine())
    workflow.do_engine_steps()
    return workflow


@pytest.mark.parametrize("source", ESCAPES)
def test_escapes_are_refused_by_the_check(source):
    with pytest.raises(ScriptRestrictionError):
        check_source(source)


@pytest.mark.parametrize("source", ESCAPES)
def test_escapes_are_refused_when_a_script_task_runs(source):
    with pytest.raises(SpiffWorkflowException) as err:
        run_script(source)
    assert isinstance(root_cause(err.value), ScriptRestrictionError)


@pytest.mark.parametrize(
    "expression",
    ["__import__('os')", "open('x')", "().__class__", "[].__class__.__mro__"],
)
def test_escapes_are_refused_in_conditions_and_expressions(expression):
    with pytest.raises(ScriptRestrictionError):
        RestrictedEnvironment().evaluate(expression, {})


def test_builtins_outside_the_whitelist_do_not_exist():
    env = RestrictedEnvironment()
    with pytest.raises(NameError):
        env.evaluate("print", {})
    with pytest.raises(NameError):
        env.evaluate("copyright", {})


def test_ordinary_scripts_still_work():
    workflow = run_script(
        "scores = [70, 85, 92]\n"
        "best = max(scores)\n"
        "passed = [s for s in scores if s >= 80]\n"
        "due = add_months(parse_date('2026-01-31'), 1).isoformat()"
    )
    [end] = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.name == "End"]
    assert workflow.is_completed()
    assert end.data["best"] == 92
    assert end.data["passed"] == [85, 92]
    assert end.data["due"] == "2026-02-28"
