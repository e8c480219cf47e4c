"""Issue 12 ("the validation result and the traceability effect"): what a changed diagram does to
the rules — rules gaining and losing elements, rules left with no element, elements citing rules
the catalogue does not have (domain/traceability_effect.py, no Flask, no engine)."""

import re

import yaml

from domain.rule_catalogue import RULES_FILE, Rule, load_rules
from domain.traceability_effect import traceability_effect
from domain.traceability_view import diagram_from_xml
from tests.definitions.test_traceability_view import RULES, bpmn
from tests.paths import PROCESSES

MAPPED = {"requirements": {"R-8.7": {"elements": ["p.bpmn#Task_NC"]}}}
BASE = diagram_from_xml(
    "p.bpmn",
    bpmn(
        ("Task_Review", "受理评审", "R-6.2.2a: 受理"),
        ("Task_NC", "不符合", "R-8.7: 不符合项"),
        ("Task_Notice", "公告", "R-14: 公告"),
    ),
)
OTHER = diagram_from_xml(
    "q.bpmn", bpmn(("Task_Publish", "公告", "R-14: 公告"), ("Task_X", "x", ""))
)


def effect(after_tasks, others=(OTHER,)):
    after = diagram_from_xml("p.bpmn", bpmn(*after_tasks))
    return traceability_effect(RULES, MAPPED, [BASE, *others], [after, *others])


def by_rule(result) -> dict[str, tuple[list[str], list[str], bool]]:
    return {
        change.rule.id: (
            [ref.element_id for ref in change.gained],
            [ref.element_id for ref in change.lost],
            change.left_without_elements,
        )
        for change in result.changes
    }


def test_an_unchanged_diagram_has_no_effect_on_the_rules():
    result = effect(
        [
            ("Task_Review", "受理评审", "R-6.2.2a: 受理"),
            ("Task_NC", "不符合", "R-8.7: 不符合项"),
            ("Task_Notice", "公告", "R-14: 公告"),
        ]
    )
    assert result.empty and result.changes == [] and result.unknown == []


def test_a_removed_step_and_a_moved_citation_gain_and_lose_elements():
    result = effect(
        [
            # R-6.2.2a moves from the review to a new step; R-8.7's mapped step is removed;
            # R-14 loses this diagram's step but keeps q.bpmn's (not left without elements).
            ("Task_Review", "受理评审", "受理"),
            ("Task_Conclude", "受理结论", "R-6.2.2a: 受理"),
        ]
    )
    assert by_rule(result) == {
        "R-6.2.2a": (["Task_Conclude"], ["Task_Review"], False),
        "R-8.7": ([], ["Task_NC"], True),
        "R-14": ([], ["Task_Notice"], False),
    }
    assert [rule.id for rule in result.left_without_elements] == ["R-8.7"]
    [lost] = next(c for c in result.changes if c.rule.id == "R-8.7").lost
    assert lost.mapped and lost.name == "不符合"  # traceability.yaml still names it


def test_a_rule_whose_only_diagram_loses_it_is_left_without_elements():
    result = effect(
        [("Task_Review", "受理评审", "R-6.2.2a: 受理"), ("Task_NC", "不符合", "R-8.7: 不符合项")],
        others=(),
    )
    assert by_rule(result) == {"R-14": ([], ["Task_Notice"], True)}


def test_a_parent_citation_gains_every_lettered_item():
    result = effect(
        [
            ("Task_Review", "受理评审", "R-6.2.2: 受理或不受理"),
            ("Task_NC", "不符合", "R-8.7: 不符合项"),
            ("Task_Notice", "公告", "R-14: 公告"),
        ]
    )
    assert by_rule(result) == {"R-6.2.2b": (["Task_Review"], [], False)}


def test_unknown_rules_cited_by_the_changed_diagram_are_flagged_new_or_old():
    base = diagram_from_xml("p.bpmn", bpmn(("Task_Old", "旧", "R-99: 旧的错误引用")))
    after = diagram_from_xml(
        "p.bpmn", bpmn(("Task_Old", "旧", "R-99: 旧的错误引用"), ("Task_New", "新", "R-8.8: ?"))
    )
    # Another diagram's unknown citation is not this change's business.
    other = diagram_from_xml("q.bpmn", bpmn(("Task_Q", "q", "R-77")))
    result = traceability_effect(RULES, {}, [base, other], [after, other])
    assert [(u.rule_id, u.element_id, u.name, u.new) for u in result.unknown] == [
        ("R-8.8", "Task_New", "新", True),
        ("R-99", "Task_Old", "旧", False),
    ]
    assert not result.empty
    assert [c.rule.id for c in result.changes] == []


def test_the_real_certification_diagram_citing_one_more_rule():
    """On the real catalogue, traceability data and diagram: the acceptance review cites one
    more rule and one the catalogue does not have."""
    source = (PROCESSES / "certification.bpmn").read_text("utf-8")
    changed = re.sub(
        r"(<bpmn:userTask id=\"Task_AcceptanceReview\" name=\"受理评审\">\s*"
        r"<bpmn:documentation>)R-6.2.1: ",
        r"\1R-6.2.1, R-7.1.1, R-6.3: ",
        source,
    )
    assert changed != source
    rules: list[Rule] = load_rules(RULES_FILE)
    traceability = yaml.safe_load((PROCESSES / "traceability.yaml").read_text("utf-8"))
    before = diagram_from_xml("certification.bpmn", source)
    after = diagram_from_xml("certification.bpmn", changed)
    result = traceability_effect(rules, traceability, [before], [after])
    assert by_rule(result) == {"R-7.1.1": (["Task_AcceptanceReview"], [], False)}
    # The catalogue has no clause 6.3 (the rules go from 6.2.2 to 7.1.1).
    assert [(u.rule_id, u.element_id, u.new) for u in result.unknown] == [
        ("R-6.3", "Task_AcceptanceReview", True)
    ]
