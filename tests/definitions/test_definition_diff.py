"""The element diff the quality manager reviews (issue 12, domain/definition_diff.py): each
change is reported on the element that owns it — including the spiffworkflow extensions, whose
operator and parameters carry ids of their own."""

from domain.definition_diff import diff_definitions
from tests.paths import PROCESSES

CERTIFICATION = (PROCESSES / "certification.bpmn").read_text("utf-8")
MAN_DAYS = '<spiffworkflow:parameter id="man_days" type="any" value="man_days" />'


def changed(new: str) -> dict[str, list[str]]:
    diff = diff_definitions(CERTIFICATION, new)
    assert not diff.added and not diff.removed
    return {change.element_id: list(change.details) for change in diff.changed}


def test_an_unchanged_definition_has_no_differences():
    assert diff_definitions(CERTIFICATION, CERTIFICATION).empty


def test_a_parameter_change_marks_its_service_task():
    assert changed(CERTIFICATION.replace(MAN_DAYS, "", 1)) == {
        "Task_RecordAcceptanceReview": ["parameter man_days: man_days → —"]
    }
    edited = CERTIFICATION.replace(MAN_DAYS, MAN_DAYS.replace('value="man_days"', 'value="2"'), 1)
    assert changed(edited) == {"Task_RecordAcceptanceReview": ["parameter man_days: man_days → 2"]}


def test_added_and_removed_elements_and_moves_are_told_apart():
    renamed = CERTIFICATION.replace('"Task_AcceptanceReview"', '"Task_AcceptanceCheck"')
    diff = diff_definitions(CERTIFICATION, renamed)
    assert [c.element_id for c in diff.added] == ["Task_AcceptanceCheck"]
    assert [c.element_id for c in diff.removed] == ["Task_AcceptanceReview"]
    shape = '<dc:Bounds x="758" y="250" width="100" height="80" />'
    assert CERTIFICATION.count(shape) == 1  # Task_AcceptanceReview's shape
    diff = diff_definitions(
        CERTIFICATION, CERTIFICATION.replace(shape, shape.replace("758", "768"))
    )
    assert diff.moved == ["Task_AcceptanceReview"] and not diff.changed
