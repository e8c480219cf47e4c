"""Conformance checking on a real case (issue 13): a whole certification — application to
certificate, through the called on-site audit and nonconformity processes — run by the real
engine conforms to the deployed model; the same log with two steps swapped does not."""

from certflow.db import db
from domain.conformance import build_model, replay
from engine.query_quality import finished_traces
from engine.sources import version_sources
from tests.certification_case import one_nc, through_onsite


def test_a_whole_certification_conforms_and_a_swapped_log_does_not(case):
    through_onsite(case, points_lost=80, nonconformities=one_nc())
    case.receive_report()
    nc_ids = case.confirm_ncs()
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=True)
    case.at(45)
    case.decide("grant", 4)
    [trace] = finished_traces(db.session, "certification", 10)
    assert trace.status == "completed" and len(trace.elements) > 15
    assert "Task_SubmitCorrections" in trace.elements  # inside the called nonconformity process
    sources = version_sources(db.session, "certification", trace.version)
    files = {path: text.encode("utf-8") for path, text in sources.files.items()}
    model = build_model(files, "certification")
    assert replay(model, list(trace.elements), finished=True).conforms
    swapped = list(trace.elements)
    first = swapped.index("Task_AcceptanceReview")
    swapped[first], swapped[first + 1] = swapped[first + 1], swapped[first]
    verdict = replay(model, swapped, finished=True)
    assert not verdict.conforms and verdict.position == first
