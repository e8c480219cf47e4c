"""Issue 13 ("Rules traceability, visible"): the rules catalogue against what implements each
rule, its coverage figures and its flags — each flag constructed here on small diagrams
(domain/traceability_view.py, no Flask, no engine)."""

from domain.rule_catalogue import Rule
from domain.traceability_view import (
    MISSING_ELEMENT,
    UNIMPLEMENTED,
    UNKNOWN_RULE,
    Flag,
    build_view,
    diagram_from_xml,
)

RULES = [
    Rule("R-6.2.2a", "6.2.2", "a", "6.2.2 受理结论\na) 受理"),
    Rule("R-6.2.2b", "6.2.2", "b", "6.2.2 受理结论\nb) 不受理"),
    Rule("R-8.7", "8.7", None, "8.7 不符合"),
    Rule("R-9.5.1", "9.5.1", None, "9.5.1 暂停认证资格"),
    Rule("R-14", "14", None, "14 公告"),
]


def bpmn(*tasks: tuple[str, str, str]) -> str:
    """A process with user tasks (id, name, documentation)."""
    body = "".join(
        f'<bpmn:userTask id="{i}" name="{n}"><bpmn:documentation>{d}</bpmn:documentation>'
        f"</bpmn:userTask>"
        for i, n, d in tasks
    )
    return (
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">'
        f'<bpmn:process id="p" isExecutable="true">{body}</bpmn:process></bpmn:definitions>'
    )


DIAGRAM = diagram_from_xml(
    "p.bpmn",
    bpmn(
        ("Task_Review", "受理评审", "R-6.2.2: 受理或不受理"),
        ("Task_Nc", "出具不符合报告", "R-8.7 不符合报告；暂停原因 R-9.5.1d"),
        ("Task_Plain", "无规则", "说明"),
    ),
    process_id="p",
    version=3,
)
TRACEABILITY = {
    "requirements": {
        "R-8.7": {
            "summary": "nonconformities",
            "elements": ["p.bpmn#Task_Nc"],
            "handlers": ["nc.open"],
            "forms": ["forms/nc.json"],
            "tests": ["tests/x.py::test_nc"],
        },
        "R-14": {"summary": "publication", "code": ["domain/x.py::publish"], "tests": []},
    }
}


def test_elements_come_from_the_mapping_and_from_the_documentation_that_cites_the_rule():
    view = build_view(RULES, TRACEABILITY, [DIAGRAM])
    nc = view.row("R-8.7").elements
    assert [(e.element_id, e.name, e.mapped, e.cited, e.exists) for e in nc] == [
        ("Task_Nc", "出具不符合报告", True, True, True)
    ]
    assert (nc[0].process_id, nc[0].version) == ("p", 3)
    # A parent id stands for its items; a reason letter (R-9.5.1d) for its rule.
    for rid in ("R-6.2.2a", "R-6.2.2b"):
        links = view.row(rid).elements
        assert [(e.element_id, e.mapped, e.cited) for e in links] == [("Task_Review", False, True)]
    assert [e.element_id for e in view.row("R-9.5.1").elements] == ["Task_Nc"]
    assert view.row("R-8.7").processes == ["p"]
    assert view.element_rules("p") == {
        "Task_Review": ["R-6.2.2a", "R-6.2.2b"],
        "Task_Nc": ["R-8.7", "R-9.5.1"],
    }


def test_a_rule_with_nothing_implementing_it_is_flagged():
    view = build_view(RULES, TRACEABILITY, [DIAGRAM])
    # R-14 has code, R-6.2.2a/b and have elements: all implemented.
    assert not [f for f in view.flags if f.kind == UNIMPLEMENTED]
    bare = diagram_from_xml("p.bpmn", bpmn(("Task_Plain", "无规则", "说明")), "p", 1)
    view = build_view(RULES, {"requirements": {}}, [bare])
    assert [f.rule_id for f in view.flags if f.kind == UNIMPLEMENTED] == [
        "R-6.2.2a",
        "R-6.2.2b",
        "R-8.7",
        "R-9.5.1",
        "R-14",
    ]
    assert not view.row("R-14").implemented
    assert view.row("R-14").missing == ["elements", "handlers", "tests"]


def test_an_element_citing_a_rule_the_catalogue_does_not_have_is_flagged():
    stray = diagram_from_xml("q.bpmn", bpmn(("Task_Old", "旧步骤", "依据 R-8.12 和 R-8.7")), "q", 1)
    data = {"requirements": {**TRACEABILITY["requirements"], "R-99": {"summary": "x"}}}
    view = build_view(RULES, data, [DIAGRAM, stray])
    unknown = [f for f in view.flags if f.kind == UNKNOWN_RULE]
    assert unknown == [
        Flag(UNKNOWN_RULE, "R-8.12", "q.bpmn", "Task_Old"),
        Flag(UNKNOWN_RULE, "R-99", "traceability.yaml"),
    ]
    # The known rule of the same element still counts.
    assert "Task_Old" in [e.element_id for e in view.row("R-8.7").elements]


def test_a_traceability_entry_naming_an_element_the_deployed_diagram_lacks_is_flagged():
    data = {
        "requirements": {
            "R-8.7": {"elements": ["p.bpmn#Task_Gone", "absent.bpmn#Task_X"], "tests": ["t"]}
        }
    }
    view = build_view(RULES, data, [DIAGRAM])
    missing = [f for f in view.flags if f.kind == MISSING_ELEMENT]
    assert missing == [
        Flag(MISSING_ELEMENT, "R-8.7", "absent.bpmn", "Task_X"),
        Flag(MISSING_ELEMENT, "R-8.7", "p.bpmn", "Task_Gone"),
    ]
    row = view.row("R-8.7")
    # Only the cited element counts as present; the two named ones are not on the diagram.
    assert [e.element_id for e in row.present_elements] == ["Task_Nc"]


def test_coverage_counts_rules_with_an_element_a_handler_and_a_test():
    view = build_view(RULES, TRACEABILITY, [DIAGRAM])
    c = view.coverage
    assert (c.rules, c.with_elements, c.with_handlers, c.with_tests, c.implemented) == (
        5,
        4,  # R-6.2.2a, R-6.2.2b, R-8.7, R-9.5.1 (R-14: code only)
        1,
        1,  # R-8.7 (R-14's list is empty)
        5,
    )


def test_a_lane_citing_a_rule_is_on_the_diagram_but_no_step():
    xml = (
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">'
        '<bpmn:process id="p"><bpmn:laneSet id="LS"><bpmn:lane id="Lane_Client" name="client">'
        "<bpmn:documentation>客户（R-8.7）</bpmn:documentation></bpmn:lane></bpmn:laneSet>"
        '<bpmn:userTask id="Task_Answer" name="回复不符合">'
        "<bpmn:documentation>R-8.7</bpmn:documentation></bpmn:userTask>"
        "</bpmn:process></bpmn:definitions>"
    )
    view = build_view(RULES, {}, [diagram_from_xml("p.bpmn", xml, "p", 1)])
    links = {link.element_id: link for link in view.row("R-8.7").elements}
    assert (links["Lane_Client"].kind, links["Lane_Client"].is_step) == ("lane", False)
    assert (links["Task_Answer"].kind, links["Task_Answer"].is_step) == ("userTask", True)
    assert view.element_rules("p") == {"Lane_Client": ["R-8.7"], "Task_Answer": ["R-8.7"]}
