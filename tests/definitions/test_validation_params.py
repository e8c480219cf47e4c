"""Check 12 of `certflow validate` (issue 12): a service task passes exactly the parameters its
operator declares — a missing required one or an unknown one is a problem on the task, found
when the definition is validated instead of as an incident when a case reaches the task."""

import shutil

import handlers  # noqa: F401  (registers the handlers and their declared parameters)
from engine.validation import validate_paths
from handlers.registry import REGISTRY
from tests.paths import PROCESSES

MAN_DAYS = '<spiffworkflow:parameter id="man_days" type="any" value="man_days" />'


def validate_changed(tmp_path, old: str, new: str) -> list[str]:
    shutil.copytree(PROCESSES, tmp_path / "processes")
    path = tmp_path / "processes" / "certification.bpmn"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")  # the first: Task_RecordAcceptanceReview
    return [
        f"{p.element_id}: {p.message}"
        for p in validate_paths([tmp_path / "processes"], registry=REGISTRY)
    ]


def test_a_missing_required_parameter_is_a_problem_of_its_task(tmp_path):
    assert validate_changed(tmp_path, MAN_DAYS, "") == [
        "Task_RecordAcceptanceReview: operator 'application.record_review' needs the "
        "parameter 'man_days'"
    ]


def test_an_undeclared_parameter_is_a_problem_of_its_task(tmp_path):
    extra = MAN_DAYS + '<spiffworkflow:parameter id="man_dayz" type="any" value="1" />'
    assert validate_changed(tmp_path, MAN_DAYS, extra) == [
        "Task_RecordAcceptanceReview: operator 'application.record_review' takes no parameter "
        "'man_dayz'"
    ]
