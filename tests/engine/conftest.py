"""The engine tests' fixture process: tests/fixtures/processes (review_flow and its kin) deployed,
its service task's handler registered for the test."""

import pytest

from tests.helpers import OWNER, REVIEW_FLOW, record_acceptance, registered


@pytest.fixture
def deployed(engine):
    with registered("test_record_acceptance", record_acceptance):
        engine.deploy([REVIEW_FLOW], actor=OWNER, comment="fixture")
        yield engine
