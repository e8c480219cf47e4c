"""`certflow seed-compliance` (issue 13): adds the compliance demo data once, then refuses."""

from sqlalchemy import func, select

from certflow.db import db
from cli.compliance_demo import seed_compliance_command
from domain.models import Certificate


def test_seeds_once_then_refuses(app):
    runner = app.test_cli_runner()
    first = runner.invoke(seed_compliance_command)
    assert first.exit_code == 0, first.output
    assert "9 organisations with 14 known breaches" in first.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Certificate.id))) == 9
    second = runner.invoke(seed_compliance_command)
    assert second.exit_code == 1
    assert "already there" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Certificate.id))) == 9
