"""`certflow seed-compliance` (issue 13): drives the compliance demo cases through the deployed
processes on the simulated clock, once, on an instance where no case has run; refuses otherwise."""

from sqlalchemy import func, select

from certflow.db import db
from certflow.models import User
from cli.compliance_demo import seed_compliance_command
from domain.models import Certificate
from engine.service import InstanceFilter
from tests.conftest import make_app


def test_seeds_through_the_processes_once_then_refuses(app):
    runner = app.test_cli_runner()
    first = runner.invoke(seed_compliance_command)
    assert first.exit_code == 0, first.output
    assert "deploying the processes" in first.output  # progress, step by step
    assert "surveillance, suspensions and withdrawal" in first.output
    assert "12 organisations with 13 known breaches" in first.output
    assert "the clock is at 2027-08-19" in first.output
    with app.app_context():
        engine = app.extensions["certflow.engine"]
        instances, _ = engine.page_instances(InstanceFilter(everything=True), limit=1)
        assert instances > 10  # the cases ran in the engine
        assert db.session.scalar(select(func.count(Certificate.id))) == 12
        leader = db.session.scalars(select(User).where(User.username == "zhang_leader")).one()
        assert not leader.check_password("pw")  # the scenario's people do not sign in
    second = runner.invoke(seed_compliance_command)
    assert second.exit_code == 1
    assert "already there" in second.output


def test_refuses_a_real_clock_and_an_instance_with_cases(app, migrated_url, tmp_path):
    real = make_app(migrated_url, tmp_path / "real", CERTFLOW_CLOCK="real")
    refused = real.test_cli_runner().invoke(seed_compliance_command)
    assert refused.exit_code == 1 and "CERTFLOW_CLOCK=simulated" in refused.output
    from tests.certification_case import deploy_everything
    from tests.helpers import CLIENT

    with app.app_context():
        engine = app.extensions["certflow.engine"]
        deploy_everything(engine)
        engine.start("certification", actor=CLIENT)
        db.session.commit()
    busy = app.test_cli_runner().invoke(seed_compliance_command)
    assert busy.exit_code == 1 and "no case has run" in busy.output
