"""Conformance checking's replay (issue 13, domain.conformance): the sequence of completed human
tasks of a case against the token game read from the BPMN — loops, boundary timers, call
activities, the end — and the deviations it must flag."""

from pathlib import Path

import pytest

from domain.conformance import build_model, element_names, replay
from tests.helpers import REVIEW_FLOW
from tests.paths import PROCESSES

REVIEW = {"review_flow.bpmn": (REVIEW_FLOW / "review_flow.bpmn").read_bytes()}
ALL = {p.relative_to(PROCESSES).as_posix(): p.read_bytes() for p in PROCESSES.rglob("*.bpmn")}
PROCESS_IDS = sorted(Path(p).stem for p in ALL if not p.startswith("forms/"))


@pytest.fixture(scope="module")
def review_flow():
    return build_model(REVIEW, "review_flow")


@pytest.mark.parametrize(
    "trace",
    [
        ["Task_Review", "Task_SignContract"],
        ["Task_Review", "Task_Review", "Task_SignContract"],  # not accepted, resubmitted
        ["Task_Review", "Task_ChaseContract"],  # the 30-day timer interrupted the contract
    ],
)
def test_paths_of_the_diagram_conform(review_flow, trace):
    assert replay(review_flow, trace, finished=True).conforms


@pytest.mark.parametrize(
    "trace, position",
    [
        (["Task_SignContract"], 0),  # no contract before the review
        (["Task_Review", "Task_SignContract", "Task_Review"], 2),  # after the end
        (["Task_Review", "Task_SignContract", "Task_ChaseContract"], 2),  # signed: no chasing
        (["Task_Review", "Task_Unknown"], 1),
    ],
)
def test_a_step_the_diagram_does_not_allow_there_is_flagged(review_flow, trace, position):
    verdict = replay(review_flow, trace, finished=True)
    assert not verdict.conforms and not verdict.undecided
    assert (verdict.position, verdict.element_id) == (position, trace[position])


def test_a_finished_case_that_could_not_have_ended_is_flagged(review_flow):
    verdict = replay(review_flow, ["Task_Review"], finished=True)
    assert not verdict.conforms and verdict.unfinished
    assert replay(review_flow, ["Task_Review"], finished=False).conforms  # still running: fine


def test_every_deployed_process_is_read_and_all_but_surveillance_can_be_replayed():
    """surveillance runs three non-interrupting timers beside a called audit and an event
    subprocess: too many interleavings to replay (reported as undecided, never as conforming)."""
    undecided = set()
    for process_id in PROCESS_IDS:
        verdict = replay(build_model(ALL, process_id), [], finished=False)
        if verdict.undecided:
            undecided.add(process_id)
        else:
            assert verdict.conforms, process_id
    assert undecided == {"surveillance"}
    assert element_names(ALL)["Task_AcceptanceReview"] == "受理评审"


def test_an_unknown_process_or_called_element_is_a_clear_error():
    with pytest.raises(ValueError, match="not in the files"):
        build_model(REVIEW, "nothing")
    only_certification = {"certification.bpmn": ALL["certification.bpmn"]}
    with pytest.raises(ValueError, match="calls 'onsite_audit'"):
        build_model(only_certification, "certification")
