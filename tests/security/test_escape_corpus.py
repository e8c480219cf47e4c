"""The escape corpus against `certflow validate` and against the run time (issue 9, item 3).

Validation must refuse every static escape with file:line:element; a definition that slipped past
validation (as `match` did) must still be refused when the script or condition runs.
"""

from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from RestrictedPython.compile import _compile_restricted_mode
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.errors import root_cause
from engine.parsing import make_parser
from engine.restricted import SAFE_BUILTINS, SCRIPT_HELPERS, ScriptRestrictionError
from engine.script_limits import ScriptLimitExceeded
from engine.script_policy import _CertflowPolicy
from engine.scripting import CertflowScriptEngine
from engine.validation import validate_paths
from tests.security.bpmn_builder import (
    CONDITION_FLOW,
    PROCESS_ID,
    SCRIPT_TASK,
    line_of,
    probe_bpmn,
    write_probe,
)
from tests.security.escape_corpus import (
    CONDITION_ESCAPES,
    RUNTIME_ESCAPES,
    SECRET_PATH_PLACEHOLDER,
    STATIC_ESCAPES,
)

SECRET = "s3cr3t-0123456789abcdef"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "instance" / "secret_key"
    path.parent.mkdir()
    path.write_text(SECRET)
    return path


def _with_secret(source: str, secret_file: Path) -> str:
    return source.replace(SECRET_PATH_PLACEHOLDER, str(secret_file))


def _ids(escapes):
    return [e.id for e in escapes]


# --- certflow validate ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", STATIC_ESCAPES, ids=_ids(STATIC_ESCAPES))
def test_validate_refuses_script_escape_with_file_line_element(case, tmp_path, secret_file):
    path = write_probe(tmp_path / "defs", script=_with_secret(case.source, secret_file))
    problems = validate_paths([str(path)], set())
    assert [(p.file, p.line, p.element_id) for p in problems] == [
        (str(path), line_of(path, "<bpmn:script>") + case.line - 1, SCRIPT_TASK)
    ], [str(p) for p in problems]
    assert problems[0].message.startswith("script: ")


@pytest.mark.parametrize("case", CONDITION_ESCAPES, ids=_ids(CONDITION_ESCAPES))
def test_validate_refuses_condition_escape_with_file_line_element(case, tmp_path, secret_file):
    path = write_probe(tmp_path / "defs", condition=_with_secret(case.source, secret_file))
    problems = validate_paths([str(path)], set())
    assert [(p.line, p.element_id) for p in problems] == [
        (line_of(path, "<bpmn:conditionExpression>"), CONDITION_FLOW)
    ], [str(p) for p in problems]


def test_cli_validate_prints_file_line_element_for_a_match_escape(tmp_path):
    from click.testing import CliRunner

    from cli import main

    [case] = [e for e in STATIC_ESCAPES if e.id == "match-class-format"]
    path = write_probe(tmp_path / "defs", script=case.source)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{line_of(path, '<bpmn:script>')}: {SCRIPT_TASK}: script: match" in result.output


# --- run time: a definition that slipped past validation ------------------------------------------


def _run(script: str = "done = True", condition: str = "False") -> BpmnWorkflow:
    parser = make_parser()
    parser.add_bpmn_str(probe_bpmn(script, condition).encode())
    workflow = BpmnWorkflow(parser.get_spec(PROCESS_ID), script_engine=CertflowScriptEngine())
    workflow.do_engine_steps()
    return workflow


def chain(err: BaseException) -> list[BaseException]:
    """The error and everything it was raised from or during."""
    seen: list[BaseException] = []
    while err is not None and err not in seen:
        seen.append(err)
        err = err.__cause__ or err.__context__
    return seen


def _all_data(workflow: BpmnWorkflow) -> list[dict]:
    return [task.data for task in workflow.get_tasks()] + [workflow.data]


@pytest.mark.parametrize("case", STATIC_ESCAPES, ids=_ids(STATIC_ESCAPES))
def test_script_escape_is_refused_at_run_time(case, secret_file):
    with pytest.raises(SpiffWorkflowException) as err:
        _run(script=_with_secret(case.source, secret_file))
    assert isinstance(root_cause(err.value), ScriptRestrictionError)
    assert SECRET not in str(err.value)


@pytest.mark.parametrize("case", CONDITION_ESCAPES, ids=_ids(CONDITION_ESCAPES))
def test_condition_escape_is_refused_at_run_time(case, secret_file):
    with pytest.raises(SpiffWorkflowException) as err:
        _run(condition=_with_secret(case.source, secret_file))
    assert isinstance(root_cause(err.value), ScriptRestrictionError)


@pytest.mark.parametrize("case", RUNTIME_ESCAPES, ids=_ids(RUNTIME_ESCAPES))
def test_escape_on_untyped_data_passes_validation_but_not_the_run_time_guards(case, tmp_path):
    # Validation cannot know the type of `e` or `template`; the run-time attribute allowlist does.
    path = write_probe(tmp_path / "defs", script=case.source)
    assert validate_paths([str(path)], set()) == []
    parser = make_parser()
    parser.add_bpmn_str(probe_bpmn(case.source).encode())
    workflow = BpmnWorkflow(parser.get_spec(PROCESS_ID), script_engine=CertflowScriptEngine())
    with pytest.raises(SpiffWorkflowException) as err:
        workflow.do_engine_steps()
    refusals = (ScriptRestrictionError, ScriptLimitExceeded)
    assert any(isinstance(e, refusals) for e in chain(err.value))
    assert all("x" not in data for data in _all_data(workflow))


# --- defence in depth: RestrictedPython and the guards without the syntax allowlist ---------------

GUARDED = [e for e in STATIC_ESCAPES if e.guards_alone]


@pytest.mark.parametrize("case", GUARDED, ids=_ids(GUARDED))
def test_restrictedpython_and_guards_alone_still_refuse(case, secret_file):
    result = _compile_restricted_mode(
        _with_secret(case.source, secret_file), "<string>", "exec", policy=_CertflowPolicy
    )
    if result.errors:
        return  # RestrictedPython refused it at compile time
    scope = {"__builtins__": SAFE_BUILTINS, **SCRIPT_HELPERS}
    # ImportError: RestrictedPython compiles `import` to a call of `__import__`, which is absent.
    with pytest.raises((ScriptRestrictionError, NameError, ImportError)):
        exec(result.code, scope)  # noqa: S102 (the code under test is the restricted one)
    assert "x" not in scope


def test_the_corpus_is_the_size_the_review_asked_for():
    # ~24 classic escapes were asked for; keep the corpus from silently shrinking.
    assert len(STATIC_ESCAPES) + len(RUNTIME_ESCAPES) + len(CONDITION_ESCAPES) >= 50
    assert len({e.id for e in STATIC_ESCAPES + RUNTIME_ESCAPES + CONDITION_ESCAPES}) == 58


def test_xml_escaping_keeps_the_script_as_written():
    assert escape("a < b") in probe_bpmn("x = a < b")
