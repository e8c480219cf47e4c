"""A changed star-level table governs the cases decided after its deployment (issue 12, "DMN";
R-5: the thresholds are data a process owner changes through a reviewed draft). The studio's
approval deploys the draft's whole source set with engine.sources.deploy_sources (handlers/
studio.py, run by processes/definition_review.bpmn; the approval itself is walked in
tests/definitions/test_studio_decisions.py); here such a set goes through the same call, and a
case started afterwards is scored by the real business rule task."""

from pathlib import Path

from certflow.db import db
from engine.sources import deploy_sources, version_sources
from tests.certification_case import Case, deploy_everything, make_people, one_nc, through_onsite

FOUR_STARS = '<inputEntry id="InputEntry_FourStars_Score"><text>&gt;= 90</text></inputEntry>'


def scored_case(engine, clock, people, uploads: Path) -> dict:
    """A new certification case through its on-site audit losing 80 of 1000 points (score 92,
    one nonconformity to correct):
    the audit's outcome as the certification process received it."""
    case = Case(engine, clock, people, uploads)
    through_onsite(case, points_lost=80, nonconformities=one_nc())
    return case.data("Task_ConfirmReportReceipt")["onsite"]


def test_a_case_decided_after_the_deployment_uses_the_new_table(engine, clock, tmp_path):
    deploy_everything(engine)
    people = make_people(clock.now())
    # A case started before the change: its version's table gives four stars for 92 points.
    earlier = engine.start("certification", actor=people.client).id
    score_92 = {"score": 92, "special_deductions": 0}
    assert engine.evaluate_business_rule(earlier, "Task_DetermineStarLevel", score_92) == {
        "star_level": 4
    }

    sources = version_sources(db.session, "certification")
    table = sources.files["star_level.dmn"]
    assert FOUR_STARS in table
    raised = table.replace(FOUR_STARS, FOUR_STARS.replace("&gt;= 90", "&gt;= 93"))
    deploy_sources(
        db.session,
        {**sources.files, "star_level.dmn": raised},
        registry=engine.registry,
        actor="olga",
        comment="R-5: four stars from 93 points",
        now=clock.now(),
    )
    db.session.commit()
    assert version_sources(db.session, "certification").version == 2

    # Decided after the deployment: the business rule task runs the new table (92 < 93).
    assert scored_case(engine, clock, people, tmp_path)["star_level"] == 3
    # The instance started before keeps the table of its version.
    assert engine.evaluate_business_rule(earlier, "Task_DetermineStarLevel", score_92) == {
        "star_level": 4
    }
