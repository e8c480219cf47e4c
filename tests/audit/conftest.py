"""The audit tests' case: the real processes deployed, the people of tests/certification_case.py,
a certification case not yet applied for."""

import pytest

from tests.certification_case import Case, deploy_everything, make_people


@pytest.fixture
def case(engine, clock, tmp_path) -> Case:
    deploy_everything(engine)
    return Case(engine, clock, make_people(clock.now()), tmp_path / "uploads")
