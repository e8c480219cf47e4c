"""`engine.validation`: static checks of BPMN/DMN definitions and forms, no database."""

from pathlib import Path

import pytest

from engine.event_checks import message_variable_problem, timer_value_problem
from engine.validation import Problem, discover_files, validate_paths
from tests.paths import ROOT

INVALID = "tests/fixtures/invalid"
HANDLERS = {"test_record_acceptance"}


@pytest.fixture(autouse=True)
def _in_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # fixture paths below are relative, as a user would type them


def line_of(path: str, needle: str) -> int:
    """1-based line of the first line of `path` containing `needle`."""
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def located(problems: list[Problem]) -> list[tuple[str, int, str]]:
    return [(p.file, p.line, p.element_id) for p in problems]


def assert_messages(problems: list[Problem], *fragments: str) -> None:
    assert len(problems) == len(fragments)
    for problem, fragment in zip(problems, fragments, strict=True):
        assert fragment in problem.message, (fragment, str(problem))


# --- API -------------------------------------------------------------------------------------


def test_baseline_is_valid() -> None:
    assert validate_paths(["tests/fixtures/processes"], handler_names=HANDLERS) == []


def test_problem_prints_as_file_line_element_message() -> None:
    problem = Problem("processes/x.bpmn", 12, "Task_A", "lane name 'x' is not a known role")
    assert str(problem) == "processes/x.bpmn:12: Task_A: lane name 'x' is not a known role"


def test_discover_files_expands_directories_sorted_and_keeps_files_as_given() -> None:
    files = discover_files(
        ["tests/fixtures/cross_file", "tests/fixtures/processes/forms/review.json", "nope.bpmn"]
    )
    assert files == [
        Path("tests/fixtures/cross_file/grade.dmn"),
        Path("tests/fixtures/cross_file/main.bpmn"),
        Path("tests/fixtures/cross_file/sub.bpmn"),
        Path("tests/fixtures/processes/forms/review.json"),
        Path("nope.bpmn"),
    ]


def test_discover_files_recurses_and_returns_each_file_once() -> None:
    files = discover_files([f"{INVALID}/parse", f"{INVALID}/parse/duplicate/a.bpmn"])
    assert files == [
        Path(f"{INVALID}/parse/duplicate/a.bpmn"),
        Path(f"{INVALID}/parse/duplicate/b.bpmn"),
        Path(f"{INVALID}/parse/missing_references.bpmn"),
        Path(f"{INVALID}/parse/no_start_event.bpmn"),
        Path(f"{INVALID}/parse/service_task_without_operator.bpmn"),
    ]


def test_missing_path_is_a_problem_not_an_exception() -> None:
    problems = validate_paths(["tests/fixtures/no_such_dir", "tests/fixtures/processes"], HANDLERS)
    assert located(problems) == [("tests/fixtures/no_such_dir", 0, "-")]
    assert_messages(problems, "no such file")


def test_problems_are_sorted_by_file_then_line_and_deduplicated() -> None:
    lanes = f"{INVALID}/lanes/unknown_role.bpmn"
    problems = validate_paths([f"{INVALID}/names", INVALID + "/lanes", lanes, lanes], HANDLERS)
    assert problems == sorted(problems, key=lambda p: (p.file, p.line))
    assert len(problems) == len(set(problems))
    assert [p.file for p in problems][0] == lanes  # ".../lanes/..." sorts before ".../names/..."


# --- 1. well-formed XML ----------------------------------------------------------------------


def test_not_well_formed_xml_is_reported_and_other_files_are_still_checked() -> None:
    broken = f"{INVALID}/xml/not_well_formed.bpmn"
    lanes = f"{INVALID}/lanes/unknown_role.bpmn"
    problems = validate_paths([broken, lanes], HANDLERS)
    assert located(problems) == [
        (lanes, line_of(lanes, 'name="Sales"'), "Lane_Sales"),
        (broken, line_of(broken, "</bpmn:process>"), "-"),
    ]
    assert_messages(problems, "not a known role", "not well-formed")


# --- 2. XSD ----------------------------------------------------------------------------------


def test_xsd_violation_in_bpmn() -> None:
    path = f"{INVALID}/xsd/parameter_outside_parameters.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [(path, line_of(path, "<spiffworkflow:parameter "), "-")]
    assert_messages(problems, "XSD: Element '{http://spiffworkflow.org/bpmn/schema/1.0/core}param")


def test_xsd_violation_in_dmn() -> None:
    path = f"{INVALID}/xsd/bad_hit_policy.dmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [(path, line_of(path, "hitPolicy="), "-")]
    assert_messages(problems, "'SOMETIMES' is not an element of the set")


def test_xsd_failure_gets_only_that_problem_and_other_files_are_still_checked() -> None:
    # The service task of the XSD fixture would also fail the handler check with no handlers.
    path = f"{INVALID}/xsd/parameter_outside_parameters.bpmn"
    reserved = f"{INVALID}/reserved/reserved_id.bpmn"
    problems = validate_paths([path, reserved], handler_names=set())
    assert located(problems) == [
        (reserved, line_of(reserved, 'id="End"'), "End"),
        (path, line_of(path, "<spiffworkflow:parameter "), "-"),
    ]


# --- 3. SpiffWorkflow parser -----------------------------------------------------------------


def test_process_without_start_event() -> None:
    path = f"{INVALID}/parse/no_start_event.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [(path, line_of(path, "<bpmn:process "), "no_start_flow")]
    assert_messages(problems, "No start event found")


def test_service_task_without_operator() -> None:
    path = f"{INVALID}/parse/service_task_without_operator.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [(path, line_of(path, "<bpmn:serviceTask "), "Task_NoOperator")]
    assert_messages(problems, "A Service Task must have an operator")


def test_missing_called_process_and_missing_decision() -> None:
    path = f"{INVALID}/parse/missing_references.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [
        (path, line_of(path, "<bpmn:callActivity "), "Call_Sub"),
        (path, line_of(path, "<bpmn:businessRuleTask "), "Task_Grade"),
    ]
    assert_messages(
        problems,
        "called process 'no_such_process' is not defined",
        'No DMN Diagram available with id "no_such_decision"',
    )


def test_duplicate_process_id_across_files() -> None:
    second = f"{INVALID}/parse/duplicate/b.bpmn"
    problems = validate_paths([f"{INVALID}/parse/duplicate"], HANDLERS)
    assert located(problems) == [(second, line_of(second, "<bpmn:process "), "duplicate_flow")]
    assert_messages(problems, "Duplicate process ID: duplicate_flow")


def test_call_activity_and_decision_resolve_across_files() -> None:
    assert validate_paths(["tests/fixtures/cross_file"], HANDLERS) == []


def test_call_activity_does_not_resolve_without_the_other_file() -> None:
    main = "tests/fixtures/cross_file/main.bpmn"
    problems = validate_paths([main, "tests/fixtures/cross_file/grade.dmn"], HANDLERS)
    assert located(problems) == [(main, line_of(main, "<bpmn:callActivity "), "Call_Sub")]
    assert_messages(problems, "called process 'sub_flow' is not defined in any validated file")


# --- 4. handlers -----------------------------------------------------------------------------


def test_service_task_operator_must_be_a_registered_handler() -> None:
    path = f"{INVALID}/handlers/unknown_handler.bpmn"
    problems = validate_paths([path], HANDLERS)
    operator_line = line_of(path, "<spiffworkflow:serviceTaskOperator ")
    assert located(problems) == [(path, operator_line, "Task_Record")]
    assert_messages(problems, "service task operator 'no_such_handler' is not a registered handler")
    assert validate_paths([path], {"no_such_handler"}) == []


# --- 5. forms --------------------------------------------------------------------------------


def test_form_references_must_be_existing_json_schemas() -> None:
    path = f"{INVALID}/forms/broken_forms.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [
        (path, line_of(path, 'value="forms/missing.json"'), "Task_MissingForm"),
        (path, line_of(path, 'value="forms/not_json.json"'), "Task_NotJson"),
        (path, line_of(path, 'value="forms/bad_schema.json"'), "Task_BadSchema"),
        (path, line_of(path, 'value="forms/missing_ui.json"'), "Task_MissingUi"),
    ]
    assert_messages(
        problems,
        "formJsonSchemaFilename 'forms/missing.json' not found",
        "formJsonSchemaFilename 'forms/not_json.json' is not valid JSON",
        "formJsonSchemaFilename 'forms/bad_schema.json' is not a valid JSON Schema",
        "formUiSchemaFilename 'forms/missing_ui.json' not found",
    )


# --- 6. lanes --------------------------------------------------------------------------------


def test_lane_names_must_be_known_roles() -> None:
    path = f"{INVALID}/lanes/unknown_role.bpmn"
    problems = validate_paths([path], HANDLERS)
    # "市场部" (Chinese name) passes, "Sales" does not.
    assert located(problems) == [(path, line_of(path, 'name="Sales"'), "Lane_Sales")]
    assert_messages(problems, "lane name 'Sales' is not a known role")


def _lanes_task_with_properties(tmp_path: Path, properties: dict[str, str]) -> Path:
    """The lanes fixture with known roles only and `properties` on its user task."""
    source = Path(f"{INVALID}/lanes/unknown_role.bpmn").read_text(encoding="utf-8")
    extension = "".join(
        f'<spiffworkflow:property name="{name}" value="{value}" />'
        for name, value in properties.items()
    )
    text = source.replace('name="Sales"', 'name="market"').replace(
        'xmlns:bpmn="',
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" xmlns:bpmn="',
    )
    text = text.replace(
        '<bpmn:userTask id="Task_Sell" name="Sell">',
        '<bpmn:userTask id="Task_Sell" name="Sell"><bpmn:extensionElements>'
        f"<spiffworkflow:properties>{extension}</spiffworkflow:properties>"
        "</bpmn:extensionElements>",
    )
    path = tmp_path / "durations.bpmn"
    path.write_text(text, encoding="utf-8")
    return path


def test_due_and_follow_up_durations_must_be_iso_8601(tmp_path) -> None:
    """dueIn / followUpIn are parsed by the task index when the task opens (engine/task_index):
    an unreadable one is refused by `certflow validate`, not left to fail a running case."""
    good = _lanes_task_with_properties(tmp_path, {"dueIn": "P5D", "followUpIn": "PT4H"})
    assert validate_paths([good], HANDLERS) == []
    bad = _lanes_task_with_properties(tmp_path, {"dueIn": "5 days", "followUpIn": "P"})
    problems = validate_paths([bad], HANDLERS)
    assert [(p.element_id, p.message) for p in problems] == [
        ("Task_Sell", "dueIn '5 days' is not an ISO 8601 duration (e.g. P5D, PT4H)"),
        ("Task_Sell", "followUpIn 'P' is not an ISO 8601 duration (e.g. P5D, PT4H)"),
    ]


# --- 7. reserved ids -------------------------------------------------------------------------


def test_reserved_ids_are_refused() -> None:
    path = f"{INVALID}/reserved/reserved_id.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [(path, line_of(path, '<bpmn:endEvent id="End"'), "End")]
    assert_messages(problems, "id 'End' is reserved")


# --- 8. names --------------------------------------------------------------------------------


def test_process_lanes_participants_and_flow_nodes_need_names() -> None:
    path = f"{INVALID}/names/missing_names.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [
        (path, line_of(path, "<bpmn:participant "), "Participant_Names"),
        (path, line_of(path, "<bpmn:process "), "names_flow"),
        (path, line_of(path, "<bpmn:lane "), "Lane_Nameless"),
        (path, line_of(path, "<bpmn:userTask "), "Task_Nameless"),
        (path, line_of(path, "<bpmn:boundaryEvent "), "Timer_Nameless"),
    ]
    assert_messages(
        problems,
        "participant has no name",
        "process has no name",
        "lane has no name",
        "userTask has no name",
        "boundaryEvent has no name",
    )


# --- 9. diagram interchange ------------------------------------------------------------------


def test_every_flow_node_needs_a_shape_and_every_flow_an_edge() -> None:
    path = f"{INVALID}/diagram/missing_shapes.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [
        (path, line_of(path, "<bpmn:endEvent "), "EndEvent_Sub"),
        (path, line_of(path, "<bpmn:sequenceFlow "), "Flow_Sub"),
    ]
    assert_messages(problems, "no diagram shape", "no diagram edge")


def test_file_without_diagram() -> None:
    path = f"{INVALID}/diagram/no_diagram.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [(path, line_of(path, "<bpmn:definitions "), "-")]
    assert_messages(problems, "no diagram (bpmndi:BPMNDiagram with a BPMNPlane)")


def test_process_not_shown_by_any_plane() -> None:
    path = f"{INVALID}/diagram/wrong_plane.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [(path, line_of(path, "<bpmn:process "), "wrong_plane_flow")]
    assert_messages(problems, "no diagram plane shows this process")


# --- 10. restricted scripts and expressions --------------------------------------------------

ESCAPES = f"{INVALID}/scripts/escapes.bpmn"


def test_escape_fixture_has_exactly_the_four_refused_sources() -> None:
    problems = validate_paths([ESCAPES], HANDLERS)
    assert [p.element_id for p in problems] == [
        "Task_ImportOs",
        "Task_Import",
        "Task_Subclasses",
        "Flow_Open",
    ]


@pytest.mark.parametrize(
    ("needle", "element_id", "message"),
    [
        ("import os", "Task_ImportOs", "script: import is not allowed"),
        ('open("/etc/passwd")', "Flow_Open", "condition: 'open' is not allowed"),
        ("__import__(", "Task_Import", "service parameter 'command': name '__import__'"),
        ("__subclasses__()", "Task_Subclasses", "script: attribute '__subclasses__'"),
    ],
    ids=["import-os-in-script", "open-in-condition", "dunder-import-in-parameter", "subclasses"],
)
def test_sandbox_escapes_are_refused_with_line_and_element(
    needle: str, element_id: str, message: str
) -> None:
    problems = [p for p in validate_paths([ESCAPES], HANDLERS) if p.element_id == element_id]
    assert located(problems) == [(ESCAPES, line_of(ESCAPES, needle), element_id)]
    assert_messages(problems, message)


def test_import_on_second_script_line_is_reported_on_that_line() -> None:
    script_start = line_of(ESCAPES, "<bpmn:script>total = 1")
    problem = next(
        p for p in validate_paths([ESCAPES], HANDLERS) if p.element_id == "Task_ImportOs"
    )
    assert problem.line == script_start + 1


def test_other_scripts_and_expressions_are_checked() -> None:
    path = f"{INVALID}/scripts/expressions.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [
        (path, line_of(path, "secret = _hidden"), "Task_Scripts"),
        (path, line_of(path, "<spiffworkflow:postScript>"), "Task_Scripts"),
        (path, line_of(path, "<bpmn:timeDuration>"), "Timer_Due"),
        (path, line_of(path, "<spiffworkflow:messagePayload>"), "Event_Notify"),
        (path, line_of(path, "<bpmn:loopCardinality>"), "Task_Each"),
        (path, line_of(path, "<bpmn:completionCondition>"), "Task_Each"),
    ]
    assert_messages(
        problems,
        "preScript: name '_hidden'",
        "postScript: 'eval' is not allowed",
        "timer timeDuration: 'globals' is not allowed",
        "message payload: attribute 'gi_frame' is not allowed",
        "loopCardinality: 'vars' is not allowed",
        "completionCondition: syntax error",
    )


def test_message_variables_and_literal_timer_values_are_checked_as_the_engine_reads_them() -> None:
    """Issue 12 (studio, live validation): a caught message's variable must be a name the
    restricted engine can read; a timer's literal ISO value is parsed as SpiffWorkflow parses it
    when the timer is reached; timer expressions (schedule["due_at"]) are left to run time."""
    path = f"{INVALID}/events/messages_timers.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [
        (path, line_of(path, ">plaque due<"), "Event_SpacedVariable"),
        (path, line_of(path, ">P5D<"), "Timer_Unquoted"),
        (path, line_of(path, '"P5X"'), "Timer_BadDuration"),
        (path, line_of(path, '"2026-13-01'), "Timer_BadDate"),
        (path, line_of(path, '"R3/P5X"'), "Timer_BadCycle"),
    ]
    assert_messages(
        problems,
        "message variable 'plaque due' is not a variable name",
        "timer timeDuration: 'P5D' is read as a variable name; write an ISO 8601 value in quotes",
        "timer timeDuration: 'P5X' is not an ISO 8601 duration",
        "timer timeDate: '2026-13-01T09:00:00+08:00' is not an ISO 8601 date and time",
        "timer timeCycle: 'R3/P5X' is not an ISO 8601 repeating interval",
    )


@pytest.mark.parametrize("name", ["_secret", "1st", "class", ""])
def test_message_variable_must_be_a_readable_name(name: str) -> None:
    assert message_variable_problem(name) is not None
    assert message_variable_problem("plaque_due") is None


@pytest.mark.parametrize(
    ("kind", "expression"),
    [
        ("timeDuration", '"PT4H"'),
        ("timeDuration", "'P1Y2M'"),
        ("timeDate", '"2026-03-01T09:00:00+08:00"'),
        ("timeCycle", '"R/P1D"'),
        ("timeDate", 'recertification["expiry_at"]'),
        ("timeDuration", "reminder_period"),
    ],
)
def test_valid_timer_values_and_expressions_pass(kind: str, expression: str) -> None:
    assert timer_value_problem(kind, expression) is None


def test_dmn_expressions_and_entries_are_checked_as_evaluated() -> None:
    path = f"{INVALID}/dmn/refused_entries.dmn"
    problems = validate_paths([path], HANDLERS)
    # '"/srv"' on the refused column, "-" and empty entries are not reported.
    assert located(problems) == [
        (path, line_of(path, "__import__"), "InputExpression_Cwd"),
        (path, line_of(path, 'id="InputEntry_Open"'), "InputEntry_Open"),
        (path, line_of(path, 'id="OutputEntry_Exec"'), "OutputEntry_Exec"),
        (path, line_of(path, 'id="InputEntry_Question"'), "InputEntry_Question"),
        (path, line_of(path, 'id="InputEntry_Syntax"'), "InputEntry_Syntax"),
    ]
    assert_messages(
        problems,
        "input expression: name '__import__'",
        "input entry (evaluated as 'score>= len(open(\"/etc/passwd\").read())'): 'open'",
        "output entry: 'exec' is not allowed",
        "input entry (evaluated as 'dmninputexpr > ().__class__'): attribute '__class__'",
        "input entry (evaluated as 'score>= >= 3'): syntax error",
    )


# --- 0. the validator's own guards (issue 9 item 11) -----------------------------------------


def fan_out_bpmn(tasks: int) -> str:
    """A valid process: start → parallel split → `tasks` manual tasks → join → end, drawn."""
    ids = ["StartEvent_1", "Split_1", *(f"Task_{i}" for i in range(tasks)), "Join_1", "End_1"]
    flows = [("F_s", "StartEvent_1", "Split_1"), ("F_e", "Join_1", "End_1")]
    nodes = [
        '<bpmn:startEvent id="StartEvent_1" name="S"><bpmn:outgoing>F_s</bpmn:outgoing>'
        "</bpmn:startEvent>",
        '<bpmn:endEvent id="End_1" name="E"><bpmn:incoming>F_e</bpmn:incoming></bpmn:endEvent>',
    ]
    split_out, join_in = [], []
    for i in range(tasks):
        nodes.append(
            f'<bpmn:manualTask id="Task_{i}" name="T{i}"><bpmn:incoming>A{i}</bpmn:incoming>'
            f"<bpmn:outgoing>B{i}</bpmn:outgoing></bpmn:manualTask>"
        )
        flows += [(f"A{i}", "Split_1", f"Task_{i}"), (f"B{i}", f"Task_{i}", "Join_1")]
        split_out.append(f"<bpmn:outgoing>A{i}</bpmn:outgoing>")
        join_in.append(f"<bpmn:incoming>B{i}</bpmn:incoming>")
    nodes.append(
        '<bpmn:parallelGateway id="Split_1" name="P"><bpmn:incoming>F_s</bpmn:incoming>'
        + "".join(split_out)
        + "</bpmn:parallelGateway>"
    )
    nodes.append(
        '<bpmn:parallelGateway id="Join_1" name="J">'
        + "".join(join_in)
        + "<bpmn:outgoing>F_e</bpmn:outgoing></bpmn:parallelGateway>"
    )
    nodes += [
        f'<bpmn:sequenceFlow id="{f}" sourceRef="{s}" targetRef="{t}" />' for f, s, t in flows
    ]
    refs = "".join(f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ids)
    bounds = '<dc:Bounds x="0" y="0" width="100" height="80" />'
    shapes = [
        f'<bpmndi:BPMNShape id="S_{i}" bpmnElement="{i}">{bounds}</bpmndi:BPMNShape>'
        for i in [*ids, "Lane_1"]
    ]
    waypoints = '<di:waypoint x="0" y="0" /><di:waypoint x="1" y="0" />'
    edges = [
        f'<bpmndi:BPMNEdge id="E_{f}" bpmnElement="{f}">{waypoints}</bpmndi:BPMNEdge>'
        for f, _, _ in flows
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions'
        ' xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"'
        ' xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"'
        ' xmlns:di="http://www.omg.org/spec/DD/20100524/DI"'
        ' id="Definitions_Fan" targetNamespace="http://certflow.example/test">\n'
        '<bpmn:process id="fan_flow" name="Fan" isExecutable="true">\n'
        f'<bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="market">{refs}'
        "</bpmn:lane></bpmn:laneSet>\n" + "\n".join(nodes) + "\n</bpmn:process>\n"
        '<bpmndi:BPMNDiagram id="D_1"><bpmndi:BPMNPlane id="P_1" bpmnElement="fan_flow">\n'
        + "\n".join(shapes + edges)
        + "\n</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>\n</bpmn:definitions>\n"
    )


def test_form_paths_outside_the_bpmn_folder_are_refused() -> None:
    path = f"{INVALID}/form_paths/outside_paths.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [
        (path, line_of(path, 'value="../forms/forms/ok.json"'), "Task_ParentFolder"),
        (path, line_of(path, 'value="/etc/passwd"'), "Task_Absolute"),
        (path, line_of(path, 'value="forms/../../forms/forms/ok.json"'), "Task_DotDot"),
        (path, line_of(path, 'value="../../../../../etc/passwd"'), "Task_UiOutside"),
    ]
    assert all("must be a relative path inside the folder" in p.message for p in problems)


def test_form_path_leaving_the_folder_through_a_symlink_is_refused(tmp_path) -> None:
    source = Path(f"{INVALID}/form_paths/outside_paths.bpmn").read_text(encoding="utf-8")
    (tmp_path / "outside.json").write_text('{"type": "object"}')
    (tmp_path / "flow").mkdir()
    (tmp_path / "flow" / "forms").mkdir()
    (tmp_path / "flow" / "forms" / "ok.json").write_text('{"type": "object"}')
    (tmp_path / "flow" / "forms" / "link.json").symlink_to(tmp_path / "outside.json")
    text = source.replace('value="../forms/forms/ok.json"', 'value="forms/link.json"')
    for value in ("/etc/passwd", "forms/../../forms/forms/ok.json", "../../../../../etc/passwd"):
        text = text.replace(f'value="{value}"', 'value="forms/ok.json"')
    bpmn = tmp_path / "flow" / "links.bpmn"
    bpmn.write_text(text, encoding="utf-8")
    problems = validate_paths([bpmn], HANDLERS)
    assert [(p.element_id, p.message) for p in problems] == [
        (
            "Task_ParentFolder",
            "formJsonSchemaFilename 'forms/link.json' must be a relative path inside the folder "
            "of the BPMN file",
        )
    ]


def test_doctype_external_dtd_and_entities_are_refused(tmp_path) -> None:
    folder = f"{INVALID}/doctype"
    problems = validate_paths([folder], HANDLERS)
    assert located(problems) == [
        (f"{folder}/entity_in_text.bpmn", 2, "-"),
        (f"{folder}/external_dtd.bpmn", 2, "-"),
    ]
    for problem in problems:
        assert problem.message == (
            "a DOCTYPE (DTD or entity declarations) is not allowed in a definition file"
        )
        assert "Internal error" not in problem.message
    # The DOCTYPE is the only thing wrong with these files.
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "ok.json").write_text('{"type": "object"}')
    text = Path(f"{folder}/external_dtd.bpmn").read_text(encoding="utf-8")
    plain = tmp_path / "plain.bpmn"
    plain.write_text("\n".join(li for li in text.splitlines() if "<!DOCTYPE" not in li))
    assert validate_paths([plain], HANDLERS) == []


def test_unknown_spiffworkflow_extensions_are_refused_with_line_and_element() -> None:
    path = f"{INVALID}/extensions/unknown_extensions.bpmn"
    problems = validate_paths([path], HANDLERS)
    assert located(problems) == [
        (path, line_of(path, "<spiffworkflow:unitTests"), "Task_UnknownExtensions"),
        (path, line_of(path, 'name="colour"'), "Task_UnknownExtensions"),
        (path, line_of(path, "spiffworkflow:hidden"), "Task_UnknownAttribute"),
    ]
    assert_messages(
        problems,
        "unknown extension element spiffworkflow:unitTests",
        "unknown task property 'colour'",
        "unknown extension attribute spiffworkflow:hidden",
    )


def test_oversized_file_is_refused_before_it_is_read(tmp_path) -> None:
    from engine.definition_checks import MAX_DEFINITION_BYTES

    big = tmp_path / "big.bpmn"
    big.write_bytes(b"not even XML " * (MAX_DEFINITION_BYTES // 13 + 1))
    [problem] = validate_paths([big], HANDLERS)
    assert (problem.line, problem.element_id) == (0, "-")
    assert f"limited to {MAX_DEFINITION_BYTES} bytes" in problem.message


def test_too_many_elements_are_refused_before_parsing(tmp_path) -> None:
    from engine.definition_checks import MAX_DEFINITION_ELEMENTS

    many = tmp_path / "many.bpmn"
    many.write_text(
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
        + "<bpmn:documentation/>" * MAX_DEFINITION_ELEMENTS
        + "</bpmn:definitions>"
    )
    [problem] = validate_paths([many], HANDLERS)  # not the XSD's complaint: never parsed
    assert (problem.line, problem.element_id) == (0, "-")
    assert f"limited to {MAX_DEFINITION_ELEMENTS} elements" in problem.message


def test_large_valid_definition_is_accepted_and_indexed(tmp_path) -> None:
    """SpiffWorkflow's `.//*[@id]` index took 5 s at 8000 tasks (and 41 s at 16000) in
    libxml2; engine.parsing builds the same index in one pass. Its speed is measured in
    benchmarks/parse_large.py (figures and the 16000/8000 ratio), not asserted here."""
    from engine.parsing import make_parser, parse_xml

    data = fan_out_bpmn(8000).encode()
    parser = make_parser()
    parser.validator = None
    parser.add_bpmn_xml(parse_xml(data).getroottree(), filename="fan.bpmn")
    index = parser.process_parsers["fan_flow"].nodes_by_id
    assert {"Task_0", "Task_7999", "A7999", "Split_1", "Lane_1"} <= set(index)
    small = tmp_path / "fan.bpmn"
    small.write_text(fan_out_bpmn(50))
    assert validate_paths([small], HANDLERS) == []
