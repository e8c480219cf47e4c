"""The surveillance tests' case: a Lifecycle on every deployed process (tests/lifecycle_case.py)."""

import pytest

from tests.certification_case import deploy_everything, make_people
from tests.lifecycle_case import Lifecycle


@pytest.fixture
def life(app, engine, clock, tmp_path):
    deploy_everything(engine)
    case = Lifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.engine_app = app
    return case
