"""Task guards (who may act) and submission validators (domain rules on the data), named by
task properties and enforced by the engine itself."""

import shutil

import pytest
from sqlalchemy import select

from engine.errors import ForbiddenError, FormValidationError
from engine.models import HumanTask
from handlers import guard, unregister_guard, unregister_validator, validator
from tests.helpers import MARKET, MARKET_2, OWNER, REVIEW_FLOW, record_acceptance, registered

PROPERTY = '<spiffworkflow:property name="dueIn" value="P5D" />'


@pytest.fixture
def flow(tmp_path, engine):
    """review_flow whose review task is guarded and validated."""
    target = tmp_path / "processes"
    shutil.copytree(REVIEW_FLOW, target)
    bpmn = target / "review_flow.bpmn"
    bpmn.write_text(
        bpmn.read_text().replace(
            PROPERTY,
            PROPERTY
            + '<spiffworkflow:property name="guard" value="test_not_mia" />'
            + '<spiffworkflow:property name="validate" value="test_days_match_headcount" />',
        )
    )

    @guard("test_not_mia")
    def not_mia(ctx):
        return "mia audited this case (R-8.8)" if ctx.actor == "mia_market" else None

    @validator("test_days_match_headcount")
    def days_match(ctx):
        if ctx.data["man_days"] < ctx.data["estimated_man_days"]:
            return {"man_days": [f"at least {ctx.data['estimated_man_days']} (R-6.2.1)"]}
        return {}

    try:
        with registered("test_record_acceptance", record_acceptance):
            engine.deploy([target], actor=OWNER)
            instance = engine.start(
                "review_flow", actor=MARKET_2, data={"headcount": 200, "application_id": "G"}
            )
            task = engine.session.scalars(
                select(HumanTask).where(HumanTask.instance_id == instance.id)
            ).one()
            yield engine, task
    finally:
        unregister_guard("test_not_mia")
        unregister_validator("test_days_match_headcount")


def test_guard_refuses_claim_and_completion(flow):
    engine, task = flow
    with pytest.raises(ForbiddenError, match="R-8.8"):
        engine.claim(task.id, actor=MARKET)
    with pytest.raises(ForbiddenError, match="R-8.8"):
        engine.complete_task(task.id, actor=MARKET, data={"accepted": True, "man_days": 5})
    assert engine.get_task(task.id).state == "open"


def test_validator_answers_with_field_errors_and_nothing_changes(flow):
    engine, task = flow
    with pytest.raises(FormValidationError) as err:
        engine.complete_task(task.id, actor=MARKET_2, data={"accepted": True, "man_days": 1})
    assert err.value.errors == {"man_days": ["at least 4 (R-6.2.1)"]}
    assert engine.get_task(task.id).state == "open"
    engine.complete_task(task.id, actor=MARKET_2, data={"accepted": True, "man_days": 4})
    assert engine.get_task(task.id).state == "completed"
